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

    // The old password-only session: a right code does not let it mint codes or replace.
    app.clock.advance(30);
    let csrf = old.get("/account").await.csrf();
    let code = oathtool(&otpauth, app.clock_now());
    for path in ["/account/recovery-codes", "/account/totp/replace"] {
        let res = old.post(path, &[("csrf", &csrf), ("code", &code)]).await;
        assert_eq!(res.location.as_deref(), Some("/account"), "{path}: {}", res.body);
    }
    // /admin asks it for a code, not for an enrolment.
    assert_eq!(old.get("/admin").await.location.as_deref(), Some("/login"));
    let step_up = old.get("/login").await;
    assert!(step_up.has("Authentication code") && !step_up.has("otpauth"), "{}", step_up.body);
    assert_eq!(app.factors_of(&id), (vec!["active".to_owned()], 10));
}

impl TestApp {
    fn count_events(&self, event: &str) -> i64 {
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
    assert_eq!(done.location.as_deref(), Some("/login"));
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
