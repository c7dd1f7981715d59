//! The regression suite of the field's MFA bypasses, each named after its mechanism:
//! what a stolen password-only session, a half-finished sign-in or a reset may reach.

use diesel::prelude::*;
use watchword::store::schema::{recovery_codes, totp_credentials};

use crate::browser::oathtool;
use crate::helpers::{TestApp, spawn_app};
use crate::passwords::password_session;

impl TestApp {
    /// (credentials by status, recovery codes) of a user.
    fn factors_of(&self, id: &str) -> (Vec<String>, i64) {
        let id = id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<(Vec<String>, i64), watchword::store::StoreError> {
                let statuses = totp_credentials::table
                    .filter(totp_credentials::user_id.eq(&id))
                    .select(totp_credentials::status)
                    .load(c)?;
                let codes =
                    recovery_codes::table.filter(recovery_codes::user_id.eq(&id)).count().get_result(c)?;
                Ok((statuses, codes))
            })
            .unwrap()
    }
}

#[tokio::test]
async fn a_password_only_session_cannot_add_a_factor_or_mint_recovery_codes() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "mallory.victim", "victims-password", false);
    // An administrator (a user who is none is told so at /admin before anything else).
    app.set_permission(&id, "admin");
    // The stolen cookie: a session signed in with the password alone.
    let thief = password_session(&app, "mallory.victim", "victims-password").await;
    let page = thief.get("/account").await;
    let csrf = page.csrf();

    // No secret to see or confirm, no recovery codes, no replacement.
    assert_eq!(thief.get("/account/totp").await.location.as_deref(), Some("/account"));
    for path in ["/account/totp/confirm", "/account/recovery-codes", "/account/totp/replace"] {
        let res = thief.post(path, &[("csrf", &csrf), ("code", "123456")]).await;
        assert_eq!(res.location.as_deref(), Some("/account"), "{path}: {}", res.body);
    }
    // Setting up, or stepping up at /admin, asks for the password again first.
    for start in [thief.post("/account/totp/setup", &[("csrf", &csrf)]).await, thief.get("/admin").await] {
        assert_eq!(start.location.as_deref(), Some("/login"), "{}", start.body);
        let next = thief.get("/login").await;
        assert!(next.has("name=\"password\"") && !next.has("otpauth"), "{}", next.body);
    }
    assert_eq!(app.factors_of(&id), (vec![], 0), "nothing was added");
}

#[tokio::test]
async fn a_password_only_session_of_a_user_who_enrolled_since_cannot_touch_the_factor() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "nia", "nias-password", false);
    let old = password_session(&app, "nia", "nias-password").await;
    // Elsewhere, the user enrols.
    let own = password_session(&app, "nia", "nias-password").await;
    let page = own.get("/account").await;
    own.post("/account/totp/setup", &[("csrf", &page.csrf())]).await;
    let again = own.get("/login").await;
    let enrol = own.password(&again, "nia", "nias-password").await;
    let otpauth = enrol.otpauth();
    let codes = own.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    own.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(app.factors_of(&id), (vec!["active".to_owned()], 10));

    // The old password-only session is asked again (the gate sees the new factor): it
    // is no longer signed in, so a right code does not let it mint codes or replace.
    app.clock.advance(30);
    let code = oathtool(&otpauth, app.clock_now());
    for path in ["/account/recovery-codes", "/account/totp/replace"] {
        let res = old.post(path, &[("csrf", "whatever"), ("code", &code)]).await;
        assert_eq!(res.location.as_deref(), Some("/account"), "{path}: {}", res.body);
    }
    let again = old.get("/account").await;
    assert_eq!(again.location.as_deref(), Some("/login"), "a new sign-in: {}", again.body);
    // /admin, too, starts from the password.
    assert_eq!(old.get("/admin").await.location.as_deref(), Some("/login"));
    let step_up = old.get("/login").await;
    assert!(step_up.has("name=\"password\"") && !step_up.has("otpauth"), "{}", step_up.body);
    assert_eq!(app.factors_of(&id), (vec!["active".to_owned()], 10));
}

impl TestApp {
    pub(crate) fn count_events(&self, event: &str) -> i64 {
        use watchword::store::schema::audit_events;
        let event = event.to_owned();
        self.store
            .run_blocking(move |c| -> Result<i64, watchword::store::StoreError> {
                Ok(audit_events::table.filter(audit_events::event.eq(event)).count().get_result(c)?)
            })
            .unwrap()
    }
}

#[tokio::test]
async fn forty_parallel_passwords_in_one_sign_in_get_no_more_than_five_checks() {
    let app = spawn_app().await;
    app.tenant("acme");
    let browser = crate::browser::Browser::new(&app);
    browser.get("/account?tenant=acme").await;
    let csrf = browser.get("/login").await.csrf();
    // Forty usernames: no per-username budget applies, only the sign-in's own.
    let names: Vec<String> = (0..40).map(|n| format!("guess{n}")).collect();
    let answers = futures_util::future::join_all(names.iter().map(|name| {
        let (browser, csrf) = (&browser, &csrf);
        async move {
            browser
                .post(
                    "/login/password",
                    &[("csrf", csrf.as_str()), ("username", name), ("password", "wrong")],
                )
                .await
        }
    }))
    .await;
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    // 200: checked, wrong; 403: the sign-in stopped; 400: it is gone (stopped earlier).
    assert!(
        statuses.iter().all(|s| [200, 403, 400].contains(s)),
        "no 5xx, no other answer: {statuses:?} {}",
        answers.iter().find(|a| ![200, 403, 400].contains(&a.status)).map_or("", |a| a.body.as_str())
    );
    assert!(answers.iter().any(|a| a.has("Too many attempts")));
    assert!(app.count_events("password.failed") <= 5, "checked: {}", app.count_events("password.failed"));
    // Stopped for good: no slower check wrote the password step back over the stop.
    let after = browser.get("/login").await;
    assert!(after.has("Too many attempts"), "{}", after.body);
    let again = browser
        .post("/login/password", &[("csrf", csrf.as_str()), ("username", "guess0"), ("password", "wrong")])
        .await;
    assert!(again.has("Too many attempts"), "{}", again.body);
}

#[tokio::test]
async fn parallel_loads_of_the_enrolment_page_show_one_secret() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "olu", "pw-olu", true);
    let browser = crate::browser::Browser::new(&app);
    browser.get("/account?tenant=acme").await;
    let login = browser.get("/login").await;
    let done = browser
        .post("/login/password", &[("csrf", &login.csrf()), ("username", "olu"), ("password", "pw-olu")])
        .await;
    assert!(done.has("Set up your authenticator app"), "{}", done.body);
    let pages = futures_util::future::join_all((0..10).map(|_| browser.get("/login"))).await;
    let secrets: std::collections::HashSet<String> =
        pages.iter().map(crate::browser::Page::otpauth).collect();
    assert_eq!(secrets.len(), 1, "one secret: {secrets:?}");
    assert_eq!(app.factors_of(&id).0, vec!["pending".to_owned()]);
    // And that secret is the one that works.
    let otpauth = secrets.into_iter().next().unwrap();
    let codes = browser.code(&pages[0], "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    assert_eq!(codes.codes().len(), 10, "{}", codes.body);
}

#[tokio::test]
async fn an_enrolment_code_cannot_be_replayed_as_the_first_sign_in_code() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "pia", "pw-pia", true);
    let first = password_session_enrol(&app).await;
    // The same code, at once, in a new sign-in: refused as a replay.
    let other = crate::browser::Browser::new(&app);
    other.get("/account?tenant=acme").await;
    let login = other.get("/login").await;
    let code_page = other.password(&login, "pia", "pw-pia").await;
    let replay = other.code(&code_page, "/login/totp", &first).await;
    assert!(replay.has("Invalid code") || replay.has("already used"), "{}", replay.body);
    assert_eq!(app.count_events("totp.replay_blocked"), 1);
}

/// Enrols pia; returns the code the enrolment used.
async fn password_session_enrol(app: &TestApp) -> String {
    let browser = crate::browser::Browser::new(app);
    browser.get("/account?tenant=acme").await;
    let login = browser.get("/login").await;
    let enrol = browser.password(&login, "pia", "pw-pia").await;
    let code = oathtool(&enrol.otpauth(), app.clock_now());
    let codes = browser.code(&enrol, "/login/enrol", &code).await;
    assert_eq!(codes.codes().len(), 10);
    code
}

/// A user signed in at a relying party (tokens in hand) and with an SSO session in
/// `browser`: returns (browser, rp, tokens, otpauth).
async fn signed_in_everywhere(
    app: &TestApp,
    username: &str,
) -> (crate::browser::Browser, crate::conformance::Rp, serde_json::Value, String) {
    use crate::conformance::{Rp, code_of, sign_in};
    let rp = Rp::new(app, watchword::oidc::keys::SigningAlg::Rs256, false, true);
    let browser = crate::browser::Browser::new(app);
    browser.get(&rp.url("")).await;
    let enrol = sign_in(&browser, username, &format!("pw-{username}")).await;
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    let done = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    let (status, tokens) = rp.exchange(app, &code_of(&done)).await;
    assert_eq!(status, 200, "{tokens}");
    // The SSO session answers prompt=none at once.
    let none = browser.get(&rp.url("&prompt=none")).await;
    assert!(crate::browser::query(none.location.as_deref().unwrap()).contains_key("code"));
    (browser, rp, tokens, otpauth)
}

/// Everything a signed-in user holds is refused: refresh, prompt=none, SSO reuse,
/// the account page and the access token.
async fn assert_nothing_works(
    app: &TestApp,
    browser: &crate::browser::Browser,
    rp: &crate::conformance::Rp,
    tokens: &serde_json::Value,
) {
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body, _) =
        rp.token(app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    let none = browser.get(&rp.url("&prompt=none")).await;
    let q = crate::browser::query(none.location.as_deref().unwrap());
    assert_eq!(q.get("error").map(String::as_str), Some("login_required"), "{q:?}");
    let reuse = browser.get(&rp.url("")).await;
    assert!(reuse.is_sign_in_page(), "a new sign-in, no code: {:?}", reuse.location);
    assert_eq!(browser.get("/account").await.location.as_deref(), Some("/login"));
    let userinfo = crate::helpers::http_client()
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status().as_u16(), 401);
}

#[tokio::test]
async fn a_totp_locked_user_gets_nothing_from_what_it_already_holds() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "quin", "pw-quin", true);
    let (browser, rp, tokens, _) = signed_in_everywhere(&app, "quin").await;
    // Someone with the password gets the code wrong five times: the code step locks.
    let other = crate::browser::Browser::new(&app);
    let login = other.account_login("acme").await;
    let mut page = other.password(&login, "quin", "pw-quin").await;
    for _ in 0..5 {
        page = other.code(&page, "/login/totp", "000000").await;
        if !page.has("name=\"csrf\"") {
            break;
        }
    }
    assert_eq!(app.count_events("totp.locked"), 1);
    assert_nothing_works(&app, &browser, &rp, &tokens).await;
}

#[tokio::test]
async fn a_disabled_user_gets_nothing_from_what_it_already_holds_even_unrevoked() {
    use diesel::prelude::*;
    use watchword::store::schema::users;
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "rhys", "pw-rhys", true);
    let (browser, rp, tokens, _) = signed_in_everywhere(&app, "rhys").await;
    // The flag alone (as a database restore or a bug might leave it): the gate still says no.
    app.store
        .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
            Ok(diesel::update(users::table.find(id)).set(users::disabled.eq(true)).execute(c)?)
        })
        .unwrap();
    assert_nothing_works(&app, &browser, &rp, &tokens).await;
}

#[tokio::test]
async fn a_session_from_before_enforcement_is_asked_again() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "sol", "pw-sol", false);
    let browser = password_session(&app, "sol", "pw-sol").await;
    assert!(browser.get("/account").await.has("Signed in as"));
    app.policy("acme", |t| t.enforce_internal = true);
    assert_eq!(browser.get("/account").await.location.as_deref(), Some("/login"), "asked again");
}

#[tokio::test]
async fn forced_enrolment_cannot_be_escaped_and_a_code_never_skips_the_password() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "tam", "pw-tam", true);
    let rp = crate::conformance::Rp::new(&app, watchword::oidc::keys::SigningAlg::Rs256, false, true);
    let browser = crate::browser::Browser::new(&app);
    browser.get(&rp.url("")).await;
    let enrol = crate::conformance::sign_in(&browser, "tam", "pw-tam").await;
    assert!(enrol.has("Set up your authenticator app") && !enrol.has("Later"));
    // "Later", the code-saved step, a code for the sign-in step: none apply here.
    for (path, field) in
        [("/login/later", "x"), ("/login/codes", "x"), ("/login/totp", "code"), ("/login/offer", "choice")]
    {
        let res = browser.post(path, &[("csrf", &enrol.csrf()), (field, "later")]).await;
        assert!(
            res.has("Set up your authenticator app") || res.status == 400,
            "{path}: {} {}",
            res.status,
            res.body
        );
    }
    // Re-opening /authorize, /account or a second tab starts over at the password.
    assert!(browser.get(&rp.url("")).await.is_sign_in_page());
    let again = browser.get("/login").await;
    assert!(again.has("name=\"password\""), "{}", again.body);
    let tab = crate::browser::Browser::new(&app);
    assert_eq!(tab.get("/account?tenant=acme").await.location.as_deref(), Some("/login"));
    // A code alone, on a sign-in at the password step, does nothing.
    let totp = tab.get("/login").await;
    let code = tab.code(&totp, "/login/totp", &oathtool(&enrol.otpauth(), app.clock_now())).await;
    assert!(code.has("name=\"password\""), "still the password step: {}", code.body);
    assert_eq!(app.live_sessions(&id), 0, "no session anywhere");
}

/// Sends `n` submissions of `form` (with a distinct wrong code each) to `path` at once.
async fn at_once(
    browser: &crate::browser::Browser,
    path: &str,
    csrf: &str,
    field: &str,
    n: usize,
) -> Vec<u16> {
    let codes: Vec<String> = (0..n).map(|i| format!("{:06}", 100_000 + i)).collect();
    let answers = futures_util::future::join_all(codes.iter().map(|code| async move {
        browser.post(path, &[("csrf", csrf), (field, code.as_str())]).await.status
    }))
    .await;
    assert!(answers.iter().all(|s| *s < 500), "no 5xx: {answers:?}");
    answers
}

#[tokio::test]
async fn sixty_four_parallel_guesses_get_no_more_than_the_budget_on_any_factor() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    // TOTP codes, recovery codes and the /admin step-up's codes, each for a user of its own.
    for (n, (path, field)) in [("/login/totp", "code"), ("/login/recovery", "code"), ("/login/totp", "code")]
        .into_iter()
        .enumerate()
    {
        let name = format!("factor{n}");
        // The /admin sign-in is the `default` tenant's.
        let tenant = if n == 2 { "default" } else { "acme" };
        let enrol_client =
            if n == 2 { app.client("default", false, false).client.id } else { client.client.id.clone() };
        app.user(tenant, &name, &format!("pw-{name}"), true);
        crate::login::enrol_for(&app, &enrol_client, &name, &format!("pw-{name}")).await;
        let before = app.count_events("totp.failed");
        let browser = crate::browser::Browser::new(&app);
        let login = if n == 2 {
            assert_eq!(browser.get("/admin").await.location.as_deref(), Some("/login"));
            browser.get("/login").await
        } else {
            browser.start(&client.client.id).await
        };
        let page = browser.password(&login, &name, &format!("pw-{name}")).await;
        assert!(page.has("Authentication code"), "{}", page.body);
        at_once(&browser, path, &page.csrf(), field, 64).await;
        let checked = app.count_events("totp.failed") - before;
        assert!(checked <= 5, "{path} #{n}: {checked} checked");
    }
    // Enrolment codes.
    app.user("acme", "newbie", "pw-newbie", true);
    let browser = crate::browser::Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let enrol = browser.password(&login, "newbie", "pw-newbie").await;
    let before = app.count_events("totp.failed");
    at_once(&browser, "/login/enrol", &enrol.csrf(), "code", 64).await;
    assert!(app.count_events("totp.failed") - before <= 5);
    // Passwords: 64 browsers at once for one username — its five free attempts and the
    // one that starts the first delay, no more.
    app.user("acme", "target", "pw-target", false);
    let mut forms = Vec::new();
    for _ in 0..64 {
        let browser = crate::browser::Browser::new(&app);
        let login = browser.start(&client.client.id).await;
        let csrf = login.csrf();
        forms.push((browser, csrf));
    }
    let before = app.count_events("password.failed");
    let answers = futures_util::future::join_all(forms.iter().map(|(browser, csrf)| async move {
        browser
            .post(
                "/login/password",
                &[("csrf", csrf.as_str()), ("username", "target"), ("password", "wrong")],
            )
            .await
            .status
    }))
    .await;
    assert!(answers.iter().all(|s| *s == 200 || *s == 429), "{answers:?}");
    assert!(
        app.count_events("password.failed") - before <= 6,
        "{}",
        app.count_events("password.failed") - before
    );
}
