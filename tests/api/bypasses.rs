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
