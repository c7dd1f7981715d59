//! The admin API through the real server: the full permission matrix (self, parent,
//! grandparent, sibling, other subtree, other tenant × none/read/create/admin), what a
//! revocation does, and how enforcement and policy change the next login.

use diesel::prelude::*;
use serde_json::{Value, json};
use watchword::store::schema::users;

use crate::browser::{Browser, REDIRECT, oathtool, query, urlencode};
use crate::helpers::{TestApp, http_client, spawn_app};

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

#[tokio::test]
async fn enforcement_per_user_per_kind_and_the_new_user_prompt_change_the_next_login() {
    let app = spawn_app().await;
    let root = app.child("acme", "boss", None, "admin");
    let worker = app.child("acme", "worker", Some(&root), "none");
    let (token, _) = app.admin_token("boss").await;
    let client = app.client("acme", false, false);
    let next_page = |username: &'static str| {
        let app = &app;
        let client_id = client.client.id.clone();
        async move {
            let browser = Browser::new(app);
            let login = browser.start(&client_id).await;
            browser.password(&login, username, &format!("pw-{username}")).await
        }
    };
    // New users are prompted by default.
    assert!(next_page("worker").await.has("Set up now"));
    // Prompt off: password only.
    let mut policy = app.api(&token, "GET", "/tenant/policy", None).await.1;
    policy["prompt_new_users"] = json!(false);
    assert_eq!(app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await.0, 200);
    assert_eq!(next_page("worker").await.status, 302);
    // Enforced for this user: enrolment.
    assert_eq!(
        app.api(
            &token,
            "PUT",
            &format!("/users/{worker}/totp-enforcement"),
            Some(json!({ "enforced": true }))
        )
        .await
        .0,
        200
    );
    assert!(next_page("worker").await.has("Set up your authenticator app"));
    assert_eq!(
        app.api(
            &token,
            "PUT",
            &format!("/users/{worker}/totp-enforcement"),
            Some(json!({ "enforced": false }))
        )
        .await
        .0,
        200
    );
    assert_eq!(next_page("worker").await.status, 302);
    // Enforced for internal users: enrolment; for external users only: not for this internal one.
    policy["enforce_external"] = json!(true);
    app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await;
    assert_eq!(next_page("worker").await.status, 302);
    policy["enforce_internal"] = json!(true);
    app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await;
    assert!(next_page("worker").await.has("Set up your authenticator app"));
    // A bad policy is refused with a clear error.
    policy["digits"] = json!(9);
    let (status, answer) = app.api(&token, "PUT", "/tenant/policy", Some(policy)).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_request");
    // A disabled user cannot sign in (the generic error).
    app.api(&token, "PUT", &format!("/users/{worker}/disabled"), Some(json!({ "disabled": true }))).await;
    assert!(next_page("worker").await.has("Invalid username or password"));
}

#[tokio::test]
async fn a_refused_username_is_always_held_by_a_user_the_administrator_sees() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    app.child("acme", "p", Some(&root), "create");
    app.child("acme", "elsewhere", Some(&root), "none");
    let create = async |token: &str, body: Value| {
        let (status, body) = app.api(token, "POST", "/users", Some(body)).await;
        let name = body["user"]["username"].as_str().map(str::to_owned);
        (status, name, body)
    };
    // The tenant's one top-level administrator sees everyone: it names users as typed.
    let (root_token, _) = app.admin_token("root").await;
    let (status, name, body) = create(&root_token, json!({ "username": "free" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("free")), "{body}");

    // Below it, a plain name gets the creator's name in front: a name taken outside the
    // creator's subtree is just another free name, and its answer tells nothing.
    let (token, _) = app.admin_token("p").await;
    let (status, name, body) = create(&token, json!({ "username": "elsewhere" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/elsewhere")), "{body}");
    // That is the name its user signs in with.
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let one_time = body["one_time_password"].as_str().unwrap();
    let page = browser.password(&login, "p/elsewhere", one_time).await;
    assert!(page.has("Choose a new password"), "{}", page.body);
    let (status, name, body) = create(&token, json!({ "username": "q", "permission": "create" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/q")), "{body}");
    let q = body["user"]["id"].as_str().unwrap().to_owned();
    // Taken: a 409, and the holder is below p.
    let (status, _, body) = create(&token, json!({ "username": "P/Elsewhere" })).await;
    assert_eq!(status, 409, "{body}");
    // A name owned by a user outside p's subtree, above it, or by no one: refused alike.
    let (status, _, outside) = create(&token, json!({ "username": "elsewhere/x" })).await;
    assert_eq!(status, 400, "{outside}");
    for owner in ["root", "nobody", "free"] {
        let (status, _, body) = create(&token, json!({ "username": format!("{owner}/x") })).await;
        assert_eq!((status, &body), (400, &outside), "{owner}");
    }
    // p/q/… is q's: p may give it, but only below q.
    let (status, name, body) = create(&token, json!({ "username": "p/q/z", "parent_id": q })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/q/z")), "{body}");
    let (status, _, body) = create(&token, json!({ "username": "p/q/w" })).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = create(&token, json!({ "username": "x".repeat(65) })).await;
    assert_eq!(status, 400, "{body}");

    // A second top-level administrator: the first no longer sees everyone.
    app.child("acme", "root2", None, "admin");
    let (status, name, body) = create(&root_token, json!({ "username": "later" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("root/later")), "{body}");
    let acme = app.tenant("acme").id;
    let names: Vec<String> = app
        .store
        .run_blocking(move |c| -> Result<Vec<String>, watchword::store::StoreError> {
            Ok(users::table.filter(users::tenant_id.eq(acme)).select(users::username).load(c)?)
        })
        .unwrap();
    let made = ["free", "p/elsewhere", "p/q", "p/q/z", "root/later"];
    assert_eq!(names.iter().filter(|n| made.contains(&n.as_str())).count(), made.len(), "{names:?}");
    assert_eq!(names.len(), made.len() + 4, "nothing refused was written: {names:?}");
}

#[tokio::test]
async fn the_effective_totp_requirement_is_explained_per_user_and_client() {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.prompt_new_users = false;
        t.enforce_internal = true;
        t.remember_device_days = Some(7);
    });
    let strict = app.client("acme", false, true);
    let refusing = app.client_with("acme", false, false, |c| c.allow_remembered_devices = false);
    let parent = app.child("acme", "parent", None, "admin");
    let kid = app.child("acme", "kid", Some(&parent), "none");
    let guest = app.child("acme", "guest", Some(&parent), "none");
    let guest2 = guest.clone();
    app.store
        .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
            Ok(diesel::update(users::table.find(guest2)).set(users::kind.eq("external")).execute(c)?)
        })
        .unwrap();
    let (token, _) = app.admin_token("parent").await;

    let policy_of = async |id: &str| {
        let (status, body) = app.api(&token, "GET", &format!("/users/{id}"), None).await;
        assert_eq!(status, 200, "{body}");
        body["totp_policy"].clone()
    };
    let kids = policy_of(&kid).await;
    assert_eq!(
        (kids["requirement"].as_str(), kids["decided_by"].as_str()),
        (Some("required"), Some("tenant_internal"))
    );
    assert_eq!(kids["has_active_totp"], false);
    let by_client = |p: &Value, id: &str| {
        p["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == id).cloned().unwrap()
    };
    assert_eq!(by_client(&kids, &strict.client.id)["decided_by"], "client");
    assert_eq!(by_client(&kids, &strict.client.id)["remembered_devices"], "single_factor");
    assert_eq!(by_client(&kids, &refusing.client.id)["remembered_devices"], "refused");
    let guests = policy_of(&guest).await;
    assert_eq!(
        (guests["requirement"].as_str(), guests["decided_by"].as_str()),
        (Some("not_required"), Some("nothing"))
    );
    assert_eq!(by_client(&guests, &strict.client.id)["requirement"], "required", "the client asks anyway");

    // The user's own switch is more specific than the tenant's; the tenant's off switch waives both.
    app.set_totp_required(&guest);
    assert_eq!(policy_of(&guest).await["decided_by"], "user");
    app.policy("acme", |t| t.totp_enabled = false);
    let off = policy_of(&guest).await;
    assert_eq!(
        (off["requirement"].as_str(), off["decided_by"].as_str()),
        (Some("not_required"), Some("tenant"))
    );
    assert_eq!(by_client(&off, &strict.client.id)["decided_by"], "client");
    assert!(off["reason"].as_str().unwrap().contains("switched off for this tenant"));
}
