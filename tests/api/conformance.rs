//! Black-box tests after the OpenID basic certification plan, plus the OAuth rules
//! around it (code reuse, PKCE, client authentication, consent, revocation,
//! introspection, key rotation), with plain HTTP as the relying party.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, Page, REDIRECT, oathtool, query, urlencode};
use crate::helpers::{TestApp, http_client, spawn_app, spawn_app_with};

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

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_the_first_use_issued() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let (status, first) = rp.exchange(&app, &code).await;
    assert_eq!(status, 200);
    app.clock.advance(30);
    let (status, second) = rp.exchange(&app, &code).await;
    assert_eq!(status, 400);
    assert_eq!(second["error"], "invalid_grant");
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, body, _) =
        rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let userinfo = http_client()
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "the first access token is revoked too");
}

#[tokio::test]
async fn codes_expire_after_60_seconds_and_bind_redirect_uri_and_pkce() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);

    browser.get(&rp.url("")).await;
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let (_, body, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", "the-wrong-verifier-of-at-least-forty-three-chars-000"),
            ],
        )
        .await;
    assert_eq!(body["error"], "invalid_grant", "wrong PKCE verifier");

    let code = code_of(&browser.get(&rp.url("")).await);
    let (_, body, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://rp.example/other"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(body["error"], "invalid_grant", "another redirect_uri");

    let code = code_of(&browser.get(&rp.url("")).await);
    app.clock.advance(61);
    assert_eq!(rp.exchange(&app, &code).await.1["error"], "invalid_grant", "expired");
}

#[tokio::test]
async fn client_authentication_failures_are_401_with_a_challenge() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let wrong = Rp { id: rp.id.clone(), secret: Some("wrong".into()) };
    let (status, body, challenge) = wrong.token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(challenge.unwrap().starts_with("Basic"));
    let (status, body, _) = rp.token(&app, &[("grant_type", "password")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body, _) = rp.token(&app, &[("grant_type", "client_credentials"), ("scope", "")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["sub"], rp.id);
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    // Only the scopes registered for the client (here `reports:read`): anything else,
    // the admin API's scope above all, is refused.
    let (status, body, _) =
        rp.token(&app, &[("grant_type", "client_credentials"), ("scope", "reports:read")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["scope"], "reports:read");
    for asked in ["watchword:admin anything-i-like", "reports:read reports:write", "openid"] {
        let (status, body, _) =
            rp.token(&app, &[("grant_type", "client_credentials"), ("scope", asked)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{asked}: {body}");
    }
    let garbage = http_client()
        .post(format!("{}/token", app.address))
        .body("%%%")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // A public client cannot use client credentials, and must use PKCE.
    let public = Rp::new(&app, SigningAlg::Rs256, true, true);
    let (_, body, _) = public.token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_public_client_signs_in_with_pkce_and_no_secret() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::EdDsa, true, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (status, body) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(body["id_token"].as_str().unwrap())["alg"], "EdDSA");
}

#[tokio::test]
async fn prompt_none_login_and_max_age_follow_the_session() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let first = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let auth_time = claims(rp.exchange(&app, &first).await.1["id_token"].as_str().unwrap())["auth_time"]
        .as_i64()
        .unwrap();

    // prompt=none with a session: straight back with a code.
    let none = browser.get(&rp.url("&prompt=none")).await;
    let code = code_of(&none);
    assert_eq!(
        claims(rp.exchange(&app, &code).await.1["id_token"].as_str().unwrap())["auth_time"],
        auth_time
    );

    // max_age=10000: the session is fresh enough (SSO: the code at once).
    app.clock.advance(5);
    code_of(&browser.get(&rp.url("&max_age=10000")).await);

    // max_age=1: too old, sign in again; the new auth_time is later.
    let again = browser.get(&rp.url("&max_age=1")).await;
    assert!(again.is_sign_in_page(), "{}", again.body);
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let later =
        claims(rp.exchange(&app, &code).await.1["id_token"].as_str().unwrap())["auth_time"].as_i64().unwrap();
    assert!(later > auth_time);

    // prompt=login: a sign-in even with a session, prefilled by login_hint.
    let forced = browser.get(&rp.url("&prompt=login&login_hint=quinn")).await;
    assert!(forced.is_sign_in_page(), "{}", forced.body);
    assert!(forced.has("value=\"quinn\""), "{}", forced.body);

    // prompt=none without a session.
    let stranger = Browser::new(&app);
    let q = query(stranger.get(&rp.url("&prompt=none")).await.location.as_deref().unwrap());
    assert_eq!(q["error"], "login_required");
}

#[tokio::test]
async fn acr_values_for_multi_factor_force_the_totp_step() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    let browser = Browser::new(&app);
    let mfa = urlencode(watchword::auth::login::ACR_MULTI_FACTOR);
    browser.get(&rp.url(&format!("&acr_values={mfa}"))).await;
    let enrol = sign_in(&browser, "quinn", "pw-quinn").await;
    assert!(enrol.has("Set up your authenticator app") && !enrol.has(">Later</button>"), "{}", enrol.body);
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    let done = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&done)).await;
    let c = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(c["acr"], watchword::auth::login::ACR_MULTI_FACTOR);
    assert_eq!(c["amr"], serde_json::json!(["pwd", "otp", "mfa"]));

    // A password-only session does not satisfy an essential acr claim: interaction_required.
    let other = Browser::new(&app);
    app.user("acme", "rita", "pw-rita", false);
    other.get(&rp.url("")).await;
    code_of(&sign_in(&other, "rita", "pw-rita").await);
    let claims_param = urlencode(r#"{"id_token":{"acr":{"essential":true}}}"#);
    let page = other.get(&rp.url(&format!("&prompt=none&claims={claims_param}"))).await;
    assert_eq!(query(page.location.as_deref().unwrap())["error"], "interaction_required");
}

/// The last factor's answer is the client's redirect itself — the session and the code
/// made in one step — and so is an SSO sign-in's: no page in between.
#[tokio::test]
async fn a_finished_sign_in_goes_straight_back_to_the_client() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let login = browser.get("/login").await;
    let answer = browser
        .post_with(
            "/login/password",
            &[("csrf", &login.csrf()), ("username", "quinn"), ("password", "pw-quinn")],
            ("accept", "text/html"),
        )
        .await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    let (status, tokens) = rp.exchange(&app, &code_of(&answer)).await;
    assert_eq!(status, 200, "{tokens}");
    // The sign-in is over: its handle leads nowhere now.
    assert_eq!(browser.get("/login").await.status, 400);
    let sso = browser.get(&rp.url("")).await;
    assert_eq!(sso.status, 302);
    assert_eq!(rp.exchange(&app, &code_of(&sso)).await.0, 200);
}

#[tokio::test]
async fn untrusted_clients_ask_for_consent_once() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, false);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let consent = sign_in(&browser, "quinn", "pw-quinn").await;
    assert!(consent.has("Allow RP RS256?") && consent.has("your email address"), "{}", consent.body);
    let denied = browser.post("/authorize/consent", &[("csrf", &consent.csrf()), ("decision", "deny")]).await;
    assert_eq!(query(denied.location.as_deref().unwrap())["error"], "access_denied");

    let asked = browser.get(&rp.url("")).await;
    assert_eq!(asked.location.as_deref(), Some("/authorize/resume"), "not consented yet: asked again");
    let consent = browser.get("/authorize/resume").await;
    let forged = browser.post("/authorize/consent", &[("csrf", "forged"), ("decision", "allow")]).await;
    assert_eq!(forged.status, 403);
    let allowed =
        browser.post("/authorize/consent", &[("csrf", &consent.csrf()), ("decision", "allow")]).await;
    code_of(&allowed);
    // Remembered: the next authorization goes straight through; prompt=none too.
    code_of(&browser.get(&rp.url("")).await);
    code_of(&browser.get(&rp.url("&prompt=none")).await);
    // prompt=consent asks again.
    browser.get(&rp.url("&prompt=consent")).await;
    assert!(browser.get("/authorize/resume").await.has("Allow RP RS256?"));
}

#[tokio::test]
async fn refresh_narrows_scope_never_widens_and_revoke_and_introspect_work() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, wider, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("scope", "openid offline_access"),
            ],
        )
        .await;
    assert_eq!((status, wider["error"].as_str()), (400, Some("invalid_scope")));
    let (status, narrower, _) = rp
        .token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid")])
        .await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");

    let introspect = |token: String| {
        let (id, secret, address) = (rp.id.clone(), rp.secret.clone().unwrap(), app.address.clone());
        async move {
            let res = http_client()
                .post(format!("{address}/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let access = narrower["access_token"].as_str().unwrap().to_owned();
    let newest = narrower["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(access.clone()).await["active"], true);
    assert_eq!(introspect(newest.clone()).await["token_type"], "refresh_token");
    assert_eq!(introspect("nonsense".into()).await, serde_json::json!({ "active": false }));
    // A client of another tenant learns nothing about this tenant's tokens.
    let stranger = app.client("globex", false, false);
    let res = http_client()
        .post(format!("{}/introspect", app.address))
        .basic_auth(&stranger.client.id, stranger.secret.as_deref())
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!({ "active": false }));

    let revoke = http_client()
        .post(format!("{}/revoke", app.address))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("token", newest.as_str()), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(introspect(newest.clone()).await["active"], false);
    assert_eq!(introspect(access).await["active"], false, "the family's access tokens go with it");
    let (_, body, _) = rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &newest)]).await;
    assert_eq!(body["error"], "invalid_grant");
}

/// A key published elsewhere (another instance, the CLI) is in this server's JWKS within
/// seconds — its cache compares the keys' stamp every two seconds, not a minute — and
/// signs from the moment it was given, not up to a minute later.
#[tokio::test]
async fn a_key_published_elsewhere_is_served_within_seconds_and_signs_on_time() {
    use watchword::oidc::keys::{CHECK_EVERY, publish_next};
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "sam", "pw-sam", false);
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "sam", "pw-sam").await)).await;
    let kid_of =
        |tokens: &Value| header(tokens["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();
    let old_kid = kid_of(&tokens);
    let jwks_kids = async || -> Vec<String> {
        let jwks = crate::helpers::get_json(&format!("{}/jwks", app.address)).await;
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    assert!(jwks_kids().await.contains(&old_kid));

    // Published by someone else, to sign in 30 s.
    let keyring = watchword::auth::keyring::Keyring::parse(crate::helpers::TEST_KEYS).unwrap();
    let now = app.clock_now();
    let next = app.store.run_blocking(|c| publish_next(c, &keyring, SigningAlg::Rs256, 30, now)).unwrap();
    app.clock.advance(CHECK_EVERY);
    let kids = jwks_kids().await;
    assert!(kids.contains(&next.id) && kids.contains(&old_kid), "published at once: {kids:?}");
    let signed = async || kid_of(&rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await.1);
    assert_eq!(signed().await, old_kid, "not before its moment");
    app.clock.advance(30 - CHECK_EVERY);
    assert_eq!(signed().await, next.id, "from its moment on");
    assert!(jwks_kids().await.contains(&old_kid), "the old key stays published for its tokens");
}

#[tokio::test]
async fn a_token_signed_before_rotation_verifies_against_jwks_after_it() {
    let app = spawn_app_with(|s| s.key_rotation_delay = 0).await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "sam", "pw-sam", false);
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "sam", "pw-sam").await)).await;
    let old_kid = header(tokens["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();

    // Rotate through the CLI against the same database, then let the key cache expire.
    let cli = crate::helpers::Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let out = cli
        .command(&["keys", "rotate", "--alg", "RS256", "--json"])
        .env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS)
        .env("WATCHWORD_KEY_ROTATION_DELAY", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.clock.advance(61);
    let (_, after) = rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await;
    let new_kid = header(after["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid, "the new key signs");
    // The delay the publisher was given is the one every instance keeps (this server's
    // own is 0): a key published to sign in an hour waits the hour. (Published on the
    // server's clock here; the CLI runs on the real one.)
    let keyring = watchword::auth::keyring::Keyring::parse(crate::helpers::TEST_KEYS).unwrap();
    let now = app.clock_now();
    let next = app
        .store
        .run_blocking(|c| watchword::oidc::keys::publish_next(c, &keyring, SigningAlg::Rs256, 3600, now))
        .unwrap();
    let signer = async |advance: i64| {
        app.clock.advance(advance);
        let (_, later) = rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await;
        header(later["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned()
    };
    assert_eq!(signer(61).await, new_kid, "a key published for an hour from now does not sign yet");
    assert_eq!(signer(3600).await, next.id, "an hour later it does");

    let jwks: Value =
        http_client().get(format!("{}/jwks", app.address)).send().await.unwrap().json().await.unwrap();
    let old = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .expect("the retired key is still published");
    let key = jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(old.clone()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[rp.id.as_str()]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(tokens["id_token"].as_str().unwrap(), &key, &validation)
        .expect("the old token verifies");
    let list = cli
        .command(&["keys", "list", "--json"])
        .env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS)
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        list.as_array().unwrap().iter().any(|k| k["kid"] == old_kid.as_str() && k["status"] == "retired"),
        "{list}"
    );
}

#[tokio::test]
async fn end_session_with_another_sessions_id_token_asks_first() {
    let app = app_with_user().await;
    app.user("acme", "rita", "pw-rita", false);
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let bye = urlencode("https://rp.example/bye");
    // quinn's ID token, from quinn's own browser.
    let quinn = Browser::new(&app);
    quinn.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&quinn, "quinn", "pw-quinn").await)).await;
    let quinns_token = tokens["id_token"].as_str().unwrap().to_owned();
    // rita, signed in elsewhere, follows a link carrying quinn's token: she is asked,
    // not signed out behind her back.
    let rita = Browser::new(&app);
    rita.get(&rp.url("")).await;
    code_of(&sign_in(&rita, "rita", "pw-rita").await);
    let link = format!("/end_session?id_token_hint={quinns_token}&post_logout_redirect_uri={bye}&state=x");
    let asked = rita.get(&link).await;
    assert!(asked.status == 200 && asked.has("Sign out of Watchword?"), "{} {}", asked.status, asked.body);
    assert!(asked.has(&format!("name=\"client_id\" value=\"{}\"", rp.id)), "{}", asked.body);
    let still = rita.get(&rp.url("&prompt=none")).await;
    assert!(query(still.location.as_deref().unwrap()).contains_key("code"), "rita is still signed in");
    // quinn's own browser with quinn's token: no question (its session is the hint's).
    let silent = quinn.get(&link).await;
    assert_eq!(silent.location.as_deref(), Some("https://rp.example/bye?state=x"), "{}", silent.body);
}

#[tokio::test]
async fn end_session_without_a_hint_asks_first() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let bye = urlencode("https://rp.example/bye");
    let ask = browser
        .get(&format!("/end_session?client_id={}&post_logout_redirect_uri={bye}&state=x", rp.id))
        .await;
    assert!(ask.has("Sign out of Watchword?"), "{}", ask.body);
    // In the browser's language, when it asks for German.
    let path = format!("/end_session?client_id={}&post_logout_redirect_uri={bye}&state=x", rp.id);
    let german = browser.get_with(&path, ("accept-language", "de")).await;
    assert!(german.has("Von Watchword abmelden?") && german.has(">Abmelden</button>"), "{}", german.body);
    let evil = browser
        .get(&format!(
            "/end_session?client_id={}&post_logout_redirect_uri={}",
            rp.id,
            urlencode("https://evil.example/")
        ))
        .await;
    assert_eq!(evil.status, 400, "unregistered post-logout URI");
    let done = browser
        .post(
            "/end_session/confirm",
            &[
                ("csrf", &ask.csrf()),
                ("client_id", &rp.id),
                ("post_logout_redirect_uri", "https://rp.example/bye"),
                ("state", "x"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("https://rp.example/bye?state=x"));
    let q = query(browser.get(&rp.url("&prompt=none")).await.location.as_deref().unwrap());
    assert_eq!(q["error"], "login_required", "signed out");
}

/// A rotated client secret works at once on a server that had the client cached; the
/// old one keeps working for the grace period and not a second longer; a public client
/// has nothing to rotate; each rotation is audited.
#[tokio::test]
async fn a_rotated_client_secret_works_at_once_and_the_old_one_for_its_grace() {
    use watchword::oidc::clients::rotate_secret;
    use watchword::tenancy::Slug;
    let app = spawn_app().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    let with = |secret: &str| Rp { id: rp.id.clone(), secret: Some(secret.to_owned()) };
    let grant = async |rp: &Rp| rp.token(&app, &[("grant_type", "client_credentials")]).await.0;
    let old = rp.secret.clone().unwrap();
    assert_eq!(grant(&rp).await, 200, "the client is now cached");

    // Rotated on the server's clock (by another instance, say) with an hour's grace.
    let acme = Slug::parse("acme").unwrap();
    let (id, now) = (rp.id.clone(), app.clock_now());
    let (new, until) = app
        .store
        .run_blocking(|c| {
            let tenant = watchword::tenancy::service::find_tenant(c, &acme)?;
            rotate_secret(c, &tenant.id, &id, 3600, &Default::default(), now)
        })
        .unwrap();
    assert_eq!(until, now + 3600);
    assert_eq!(grant(&with(&new)).await, 200, "the new secret at once");
    assert_eq!(grant(&with(&old)).await, 200, "the old one in its grace");
    assert_eq!(grant(&with("not-a-secret")).await, 401);
    app.clock.advance(3600);
    assert_eq!(grant(&with(&old)).await, 401, "the grace is over");
    assert_eq!(grant(&with(&new)).await, 200);

    // Through the CLI, with no grace: the printed secret works, the one before does not.
    let cli = crate::helpers::Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let run = |args: &[&str]| {
        let out = cli.command(args).env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(&[
        "client",
        "rotate-secret",
        "--tenant",
        "acme",
        "--client-id",
        &rp.id,
        "--grace",
        "0",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    let newest = printed["client_secret"].as_str().unwrap();
    assert_eq!(grant(&with(newest)).await, 200);
    assert_eq!(grant(&with(&new)).await, 401);
    // A generated id may begin with "-" (base64url): still taken as the id.
    let (ok, _, stderr) = run(&["client", "show", "--tenant", "acme", "--client-id", "-Cnobody"]);
    assert!(!ok && stderr.contains("no client -Cnobody"), "{stderr}");
    // Shown: its settings and when the last rotated secret stops, never a secret.
    let (ok, stdout, stderr) = run(&["client", "show", "--tenant", "acme", "--client-id", &rp.id, "--json"]);
    assert!(ok, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["client_id"], rp.id.as_str());
    assert!(shown["previous_secret_valid_until"].is_i64(), "{shown}");
    assert!(!stdout.contains(newest) && !stdout.contains(&old) && shown.get("client_secret").is_none());
    let (ok, _, _) = run(&["client", "show", "--tenant", "other", "--client-id", &rp.id]);
    assert!(!ok, "another tenant's slug does not show it");

    // Refusals: a public client, an unknown client, a grace out of range.
    let public = Rp::new(&app, SigningAlg::Es256, true, true);
    for args in [
        vec!["client", "rotate-secret", "--tenant", "acme", "--client-id", public.id.as_str()],
        vec!["client", "rotate-secret", "--tenant", "acme", "--client-id", "nobody"],
        vec![
            "client",
            "rotate-secret",
            "--tenant",
            "acme",
            "--client-id",
            rp.id.as_str(),
            "--grace",
            "2592001",
        ],
    ] {
        let (ok, _, stderr) = run(&args);
        assert!(!ok && !stderr.trim().is_empty(), "{args:?}");
    }
    assert_eq!(app.count_events("client.secret_rotated"), 2);
}
