//! Black-box tests after the OpenID basic certification plan, plus the OAuth rules
//! around it (code reuse, PKCE, client authentication, consent, revocation,
//! introspection, key rotation), with plain HTTP as the relying party.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, Page, REDIRECT, query, urlencode};
use crate::helpers::{TestApp, http_client, spawn_app};

mod clients;
mod sessions;
mod tokens;

pub(crate) const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

pub(crate) fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub(crate) fn header(jwt: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap()
}

pub(crate) struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

impl Rp {
    pub fn new(app: &TestApp, alg: SigningAlg, public: bool, trusted: bool) -> Self {
        let created = app.oidc_client(alg, public, trusted);
        Self { id: created.client.id, secret: created.secret }
    }

    pub fn url(&self, extra: &str) -> String {
        format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid%20profile%20email&state=s1&nonce=n1&code_challenge={}&code_challenge_method=S256{extra}",
            self.id,
            urlencode(REDIRECT),
            challenge(VERIFIER)
        )
    }

    /// POST /token with client_secret_basic (or `none` for a public client).
    pub async fn token(&self, app: &TestApp, form: &[(&str, &str)]) -> (u16, Value, Option<String>) {
        let mut req = http_client().post(format!("{}/token", app.address)).form(form);
        match &self.secret {
            Some(secret) => req = req.basic_auth(&self.id, Some(secret)),
            None => {
                let mut with_id = form.to_vec();
                with_id.push(("client_id", &self.id));
                req = http_client().post(format!("{}/token", app.address)).form(&with_id);
            }
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        (status, res.json().await.unwrap(), challenge)
    }

    pub async fn exchange(&self, app: &TestApp, code: &str) -> (u16, Value) {
        let (status, body, _) = self
            .token(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", VERIFIER),
                ],
            )
            .await;
        (status, body)
    }
}

/// Signs in from the sign-in page; returns the client's redirect (or the consent page).
pub(crate) async fn sign_in(browser: &Browser, username: &str, password: &str) -> Page {
    let login = browser.get("/login").await;
    assert!(login.has("Sign in"), "{}", login.body);
    browser.password(&login, username, password).await
}

pub(crate) fn code_of(page: &Page) -> String {
    let location =
        page.location.as_deref().unwrap_or_else(|| panic!("no redirect: {} {}", page.status, page.body));
    assert!(location.starts_with(REDIRECT), "{location}");
    query(location)["code"].clone()
}

pub(crate) async fn app_with_user() -> TestApp {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user_with_email("acme", "quinn", "pw-quinn", "quinn@acme.example");
    app
}

impl TestApp {
    pub fn user_with_email(&self, tenant: &str, username: &str, password: &str, email: &str) -> String {
        use diesel::prelude::*;
        use watchword::store::schema::users;
        let id = self.user(tenant, username, password, false);
        let (id2, email) = (id.clone(), email.to_owned());
        self.store
            .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
                Ok(diesel::update(users::table.find(id2)).set(users::email.eq(Some(email))).execute(c)?)
            })
            .unwrap();
        id
    }
}

#[tokio::test]
async fn discovery_advertises_what_is_supported_and_nothing_else() {
    let app = spawn_app().await;
    let doc = crate::helpers::get_json(&format!("{}/.well-known/openid-configuration", app.address)).await;
    assert_eq!(doc["issuer"], app.address);
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["acr_values_supported"].as_array().unwrap().len(), 2);
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256", "ES256", "EdDSA"]));
    for endpoint in [
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "revocation_endpoint",
        "introspection_endpoint",
    ] {
        assert!(doc[endpoint].as_str().unwrap().starts_with(&app.address), "{endpoint}");
    }
    let supported = |member: &str, wanted: &[&str]| {
        let listed = doc[member].as_array().unwrap();
        for w in wanted {
            assert!(listed.iter().any(|c| c == w), "{member} lacks {w}: {listed:?}");
        }
    };
    supported(
        "claims_supported",
        &["amr", "given_name", "zoneinfo", "updated_at", "phone_number", "address"],
    );
    supported("scopes_supported", &["openid", "profile", "email", "phone", "address"]);
    let jwks: Value =
        http_client().get(doc["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    let kinds: Vec<&str> =
        jwks["keys"].as_array().unwrap().iter().map(|k| k["alg"].as_str().unwrap()).collect();
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(kinds.contains(&alg), "{kinds:?}");
    }
    assert!(jwks["keys"].as_array().unwrap().iter().all(|k| k.get("d").is_none()), "no private parts");
    // RFC 8414: the OAuth metadata is the same document, at its own well-known place.
    let oauth =
        crate::helpers::get_json(&format!("{}/.well-known/oauth-authorization-server", app.address)).await;
    assert_eq!(oauth, doc);
    for required in ["issuer", "authorization_endpoint", "token_endpoint", "response_types_supported"] {
        assert!(oauth[required].is_string() || oauth[required].is_array(), "{required}");
    }
}

#[tokio::test]
async fn authorization_errors_after_the_redirect_uri_go_back_to_the_client() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    let base = format!("/authorize?client_id={}&redirect_uri={}&state=s1", rp.id, urlencode(REDIRECT));
    for (extra, error) in [
        ("&scope=openid", "invalid_request"),
        ("&response_type=code&scope=openid&request=eyJ", "request_not_supported"),
        ("&response_type=code&scope=openid&request_uri=https%3A%2F%2Fx", "request_uri_not_supported"),
        ("&response_type=code&scope=profile", "invalid_scope"),
        (
            "&response_type=code&scope=openid&code_challenge=abc&code_challenge_method=plain",
            "invalid_request",
        ),
        ("&response_type=code&scope=openid&prompt=none", "login_required"),
    ] {
        let page = browser.get(&format!("{base}{extra}")).await;
        let q = query(page.location.as_deref().unwrap_or_else(|| panic!("{extra}: {}", page.body)));
        assert_eq!(q["error"], error, "{extra}");
        assert_eq!(q["state"], "s1");
        assert_eq!(q["iss"], app.address);
    }
    // An oversized nonce or state is refused, never dropped (a code without them would
    // break the client's checks); an oversized state is not echoed.
    let long_nonce = format!("{base}&response_type=code&scope=openid&nonce={}", "n".repeat(513));
    let q = query(browser.get(&long_nonce).await.location.as_deref().unwrap());
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("invalid_request", "s1"));
    let long_state = format!(
        "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state={}",
        rp.id,
        urlencode(REDIRECT),
        "s".repeat(2049)
    );
    let q = query(browser.get(&long_state).await.location.as_deref().unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert!(!q.contains_key("state"), "{q:?}");
}

#[tokio::test]
async fn code_flow_with_unknown_parameters_by_post_and_with_client_secret_post() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    // Authorization by POST, with an unknown parameter.
    let browser = Browser::new(&app);
    let form = [
        ("client_id", rp.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "s1"),
        ("nonce", "n1"),
        ("unknown_parameter", "ignored"),
    ];
    let start = browser.post("/authorize", &form).await;
    assert!(start.is_sign_in_page(), "{}", start.body);
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    // client_secret_post.
    let res = http_client()
        .post(format!("{}/token", app.address))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &rp.id),
            ("client_secret", rp.secret.as_deref().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let c = claims(id_token);
    assert_eq!(c["nonce"], "n1");
    assert_eq!(c["email"], "quinn@acme.example");
    assert_eq!(c["preferred_username"], "quinn");
    // One audience: a string (OIDC Core §2 allows either; some relying parties accept
    // only the string).
    assert_eq!(c["aud"], serde_json::json!(rp.id));
    assert!(c["sid"].is_string() && c["auth_time"].is_i64());
    assert_eq!(header(id_token)["alg"], "RS256");
    let access = claims(body["access_token"].as_str().unwrap());
    assert_eq!(header(body["access_token"].as_str().unwrap())["typ"], "at+jwt");
    assert_eq!(access["client_id"], rp.id);
    assert!(access["jti"].is_string() && access["scope"].as_str().unwrap().contains("openid"));
}

#[tokio::test]
async fn userinfo_by_get_header_post_header_and_post_body() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = format!("{}/userinfo", app.address);
    let by_get: Value =
        http_client().get(&url).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    let by_post: Value =
        http_client().post(&url).bearer_auth(access).send().await.unwrap().json().await.unwrap();
    let by_body: Value = http_client()
        .post(&url)
        .form(&[("access_token", access)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_get["email"], "quinn@acme.example");
    assert_eq!(by_get, by_post);
    assert_eq!(by_get, by_body);
    let none = http_client().get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let forged = http_client().get(&url).bearer_auth(format!("{access}x")).send().await.unwrap();
    assert_eq!(forged.status(), 401);
    assert!(forged.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
}
