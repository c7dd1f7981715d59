//! The admin API through the real server: the full permission matrix (self, parent,
//! grandparent, sibling, other subtree, other tenant × none/read/create/admin), what a
//! revocation does, and how enforcement and policy change the next login.

use diesel::prelude::*;
use serde_json::{Value, json};
use watchword::store::schema::users;

use crate::browser::{Browser, REDIRECT, oathtool, query, urlencode};
use crate::helpers::{TestApp, http_client, spawn_app};

mod policy;

const VERIFIER: &str = "admin-test-verifier-of-at-least-forty-three-characters-01";

fn challenge() -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

impl TestApp {
    /// A user of `tenant` with `parent` (by id), created directly in the database.
    pub fn child(&self, tenant: &str, username: &str, parent: Option<&str>, permission: &str) -> String {
        let id = self.user(tenant, username, &format!("pw-{username}"), false);
        let (id2, parent, permission) = (id.clone(), parent.map(str::to_owned), permission.to_owned());
        self.store
            .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
                Ok(diesel::update(users::table.find(id2))
                    .set((users::parent_id.eq(parent), users::permission.eq(permission)))
                    .execute(c)?)
            })
            .unwrap();
        id
    }

    pub fn set_permission(&self, id: &str, permission: &str) {
        let (id, permission) = (id.to_owned(), permission.to_owned());
        self.store
            .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
                Ok(diesel::update(users::table.find(id)).set(users::permission.eq(permission)).execute(c)?)
            })
            .unwrap();
    }

    /// An admin-API access token for `username` (enrolling TOTP on the way), plus the
    /// otpauth URI of its secret.
    pub async fn admin_token(&self, username: &str) -> (String, String) {
        let rp = self.oidc_client(watchword::oidc::keys::SigningAlg::Rs256, false, true);
        let password = format!("pw-{username}");
        let browser = Browser::new(self);
        browser
            .get(&format!(
                "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20watchword%3Aadmin&state=st4te&code_challenge={}&code_challenge_method=S256&acr_values={}",
                rp.client.id,
                urlencode(REDIRECT),
                challenge(),
                urlencode(watchword::auth::login::ACR_MULTI_FACTOR)
            ))
            .await;
        let login = browser.get("/login").await;
        let page = browser.password(&login, username, &password).await;
        // The enrolment page, in whatever language the tenant's pages speak.
        let (otpauth, done) = if page.has("href=\"otpauth:") {
            let otpauth = page.otpauth();
            let codes = browser.code(&page, "/login/enrol", &oathtool(&otpauth, self.clock_now())).await;
            (otpauth, browser.post("/login/codes", &[("csrf", &codes.csrf())]).await)
        } else {
            panic!("expected enrolment: {}", page.body)
        };
        let code = query(done.location.as_deref().unwrap())["code"].clone();
        let res = http_client()
            .post(format!("{}/token", self.address))
            .basic_auth(&rp.client.id, rp.secret.as_deref())
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        (body["access_token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned(), otpauth)
    }

    pub async fn api(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/api/v1{path}", self.address);
        let client = http_client();
        let mut req = match method {
            "GET" => client.get(url),
            "POST" => client.post(url),
            "PUT" => client.put(url),
            "PATCH" => client.patch(url),
            "DELETE" => client.delete(url),
            other => panic!("{other}"),
        }
        .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        // Every answer any test gets is what the OpenAPI document says it is.
        crate::openapi::check(method, path, status, &body);
        (status, body)
    }
}

#[tokio::test]
async fn the_full_permission_matrix_through_the_api() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    // root ─┬─ p ── c ── g        (other tenant: x)
    //       ├─ s
    //       └─ o ── oc
    let root = app.child("acme", "root", None, "admin");
    let p = app.child("acme", "p", Some(&root), "admin");
    let c = app.child("acme", "c", Some(&p), "none");
    let g = app.child("acme", "g", Some(&c), "none");
    let s = app.child("acme", "s", Some(&root), "none");
    let o = app.child("acme", "o", Some(&root), "none");
    let oc = app.child("acme", "oc", Some(&o), "none");
    let x = app.child("other", "x", None, "admin");
    let (token, _) = app.admin_token("p").await;

    let targets = [
        ("self", &p, false),
        ("parent", &root, false),
        ("child", &c, true),
        ("grandchild", &g, true),
        ("sibling", &s, false),
        ("other subtree", &oc, false),
        ("other tenant", &x, false),
    ];
    let rank = |p: &str| ["none", "read", "create", "admin"].iter().position(|x| *x == p).unwrap();
    let mut created = 0;
    for permission in ["none", "read", "create", "admin"] {
        app.set_permission(&p, permission);
        for (name, id, below) in &targets {
            let cases: [(&str, &str, String, Option<Value>, &str); 8] = [
                ("read", "GET", format!("/users/{id}"), None, "read"),
                (
                    "profile",
                    "PUT",
                    format!("/users/{id}/profile"),
                    Some(json!({ "family_name": format!("{permission} matrix") })),
                    "create",
                ),
                (
                    "revoke",
                    "POST",
                    format!("/users/{id}/revoke-totp"),
                    Some(json!({ "reason": "matrix" })),
                    "create",
                ),
                (
                    "enforce on",
                    "PUT",
                    format!("/users/{id}/totp-enforcement"),
                    Some(json!({ "enforced": true })),
                    "create",
                ),
                (
                    "enforce off",
                    "PUT",
                    format!("/users/{id}/totp-enforcement"),
                    Some(json!({ "enforced": false })),
                    "admin",
                ),
                (
                    "disable",
                    "PUT",
                    format!("/users/{id}/disabled"),
                    Some(json!({ "disabled": true })),
                    "admin",
                ),
                (
                    "enable",
                    "PUT",
                    format!("/users/{id}/disabled"),
                    Some(json!({ "disabled": false })),
                    "admin",
                ),
                (
                    "create child",
                    "POST",
                    "/users".into(),
                    Some(
                        json!({ "username": format!("new{created}-{permission}-{}", name.replace(' ', "")), "parent_id": id }),
                    ),
                    "create",
                ),
            ];
            for (action, method, path, body, needs) in cases {
                let allowed_place = *below || (action == "create child" && *name == "self");
                let expected = if allowed_place && rank(permission) >= rank(needs) {
                    if action == "create child" { 201 } else { 200 }
                } else {
                    403
                };
                let (status, answer) = app.api(&token, method, &path, body).await;
                assert_eq!(status, expected, "{permission} {action} on {name}: {answer}");
                if status == 201 {
                    created += 1;
                }
                if status == 403 {
                    assert_eq!(answer["error"]["code"], "forbidden");
                }
            }
        }
        // Listing needs read, and shows exactly the descendants.
        let (status, page) = app.api(&token, "GET", "/users", None).await;
        if permission == "none" {
            assert_eq!(status, 403);
        } else {
            let names: Vec<&str> =
                page["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
            assert!(names.contains(&"c") && names.contains(&"g"), "{names:?}");
            assert!(!names.iter().any(|n| ["root", "p", "s", "o", "oc", "x"].contains(n)), "{names:?}");
        }
    }
    assert!(created > 0);
    // The policy belongs to root admins: p is not a root.
    let (status, _) = app.api(&token, "PUT", "/tenant/policy", Some(json!({
        "enabled": true, "enforce_internal": true, "enforce_external": false, "prompt_new_users": false,
        "algorithm": "SHA1", "digits": 6, "period": 30, "skew": 1, "recovery_codes_allowed": true
    }))).await;
    assert_eq!(status, 403);
    let (status, _) = app.api(&token, "GET", "/tenant/policy", None).await;
    assert_eq!(status, 200);
    // Without a token, or with garbage.
    let (status, _) = app.api("garbage", "GET", "/users", None).await;
    assert_eq!(status, 401);
    let doc: Value = http_client()
        .get(format!("{}/api/v1/openapi.json", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/users/{id}/revoke-totp"]["post"].is_object());
    assert!(doc["paths"]["/users/{id}/reset-password"]["post"].is_object());
    assert!(doc["components"]["schemas"]["Policy"]["properties"]["password_min_length"].is_object());
    assert!(doc["components"]["schemas"]["Policy"]["properties"]["remember_device_days"].is_object());
    assert!(doc["paths"]["/users/{id}/devices"]["get"].is_object());
    assert!(doc["paths"]["/users/{id}/devices/{device}"]["delete"].is_object());
    assert!(doc["components"]["schemas"]["User"]["properties"]["totp_policy"].is_object());
}

#[tokio::test]
async fn a_revoked_secret_ends_the_childs_tokens_and_its_next_login_enrols_anew() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let parent = app.child("acme", "parent", None, "create");
    let kid = app.child("acme", "kid", Some(&parent), "none");
    let (kid_token, kid_secret) = app.admin_token("kid").await;
    let (parent_token, _) = app.admin_token("parent").await;
    // The kid's own API token works (for reading its own subtree: nothing below).
    let (status, _) = app.api(&kid_token, "GET", "/users", None).await;
    assert_eq!(status, 403, "permission none cannot list");
    // A user cannot revoke its own secret.
    let (status, _) = app
        .api(
            &parent_token,
            "POST",
            &format!("/users/{parent}/revoke-totp"),
            Some(json!({ "reason": "mine" })),
        )
        .await;
    assert_eq!(status, 403);
    let (status, missing) = app
        .api(&parent_token, "POST", &format!("/users/{kid}/revoke-totp"), Some(json!({ "reason": " " })))
        .await;
    assert_eq!(status, 400, "{missing}");

    let (status, after) = app
        .api(
            &parent_token,
            "POST",
            &format!("/users/{kid}/revoke-totp"),
            Some(json!({ "reason": "lost phone" })),
        )
        .await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["totp_status"], "none");
    // The kid's access token (and its refresh family) stops working at once.
    let userinfo =
        http_client().get(format!("{}/userinfo", app.address)).bearer_auth(&kid_token).send().await.unwrap();
    assert_eq!(userinfo.status(), 401);
    // Its next login, with TOTP required by this client, enrols a different secret.
    let browser = Browser::new(&app);
    let rp = app.oidc_client(watchword::oidc::keys::SigningAlg::Rs256, false, true);
    browser
        .get(&format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&acr_values={}",
            rp.client.id,
            urlencode(REDIRECT),
            urlencode(watchword::auth::login::ACR_MULTI_FACTOR)
        ))
        .await;
    let page = browser.password(&browser.get("/login").await, "kid", "pw-kid").await;
    assert!(page.has("Set up your authenticator app"), "{}", page.body);
    assert_ne!(query(&page.otpauth())["secret"], query(&kid_secret)["secret"]);
    // The audit log says who, whom, why and when.
    let (status, events) =
        app.api(&parent_token, "GET", &format!("/audit?user={kid}&event=totp.revoked"), None).await;
    assert_eq!(status, 200);
    let event = &events[0];
    assert_eq!(event["actor"], parent.as_str());
    assert_eq!(event["target"], kid.as_str());
    assert_eq!(event["detail"]["reason"], "lost phone");
    assert!(event["at"].is_i64());
}
