//! The session's say in an authorization: prompt=none, max_age, acr_values, consent,
//! and RP-initiated logout.

use watchword::oidc::keys::SigningAlg;

use super::{Rp, app_with_user, claims, code_of, sign_in};
use crate::browser::{Browser, oathtool, query, urlencode};

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
