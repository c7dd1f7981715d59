//! The account page: sign in to it, see TOTP status, set up, replace the secret (the old
//! one works until the new one is confirmed), new recovery codes, sign out.

use crate::browser::{Browser, oathtool};
use crate::helpers::{TestApp, spawn_app};

async fn sign_in(app: &TestApp, username: &str, password: &str) -> Browser {
    let browser = Browser::new(app);
    let start = browser.get("/account?tenant=acme").await;
    assert_eq!(start.location.as_deref(), Some("/login"));
    let login = browser.get("/login").await;
    let done = browser.password(&login, username, password).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    browser
}

#[tokio::test]
async fn set_up_replace_and_regenerate_from_the_account_page() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "kim", "pw-kim", false);
    let browser = sign_in(&app, "kim", "pw-kim").await;
    let page = browser.get("/account").await;
    assert!(page.has("Signed in as <strong>kim</strong>") && page.has("not set up"), "{}", page.body);

    // A password-only session shows no secret and confirms none.
    assert_eq!(browser.get("/account/totp").await.location.as_deref(), Some("/account"));
    // Set up: the password again, then the enrolment inside that sign-in.
    let setup = browser.post("/account/totp/setup", &[("csrf", &page.csrf())]).await;
    assert_eq!(setup.location.as_deref(), Some("/login"), "{}", setup.body);
    let again = browser.get("/login").await;
    assert!(again.has("name=\"password\"") && again.has("value=\"kim\""), "{}", again.body);
    let enrol = browser.password(&again, "kim", "pw-kim").await;
    let first = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&first, app.clock_now())).await;
    assert_eq!(codes.codes().len(), 10, "{}", codes.body);
    let back = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(back.location.as_deref(), Some("/account"), "{}", back.body);
    let active = browser.get("/account").await;
    assert!(active.has("<strong>active</strong> since"), "{}", active.body);
    assert!(active.has("Recovery codes left: 10"));

    // Replacing needs a current code.
    app.clock.advance(30);
    let refused = browser.code(&active, "/account/totp/replace", "123456").await;
    assert!(refused.has("Invalid code"));
    let replace = browser.code(&active, "/account/totp/replace", &oathtool(&first, app.clock_now())).await;
    assert_eq!(replace.location.as_deref(), Some("/account/totp"));
    let enrol = browser.get("/account/totp").await;
    let second = enrol.otpauth();
    assert_ne!(second, first);
    // Until confirmed, the old secret still signs in.
    app.clock.advance(30);
    let other = Browser::new(&app);
    other.get("/account?tenant=acme").await;
    let login = other.get("/login").await;
    let code_page = other.password(&login, "kim", "pw-kim").await;
    let ok = other.code(&code_page, "/login/totp", &oathtool(&first, app.clock_now())).await;
    assert_eq!(ok.location.as_deref(), Some("/account"), "{}", ok.body);
    // Confirmed: the old one stops working.
    app.clock.advance(30);
    let confirmed = browser.code(&enrol, "/account/totp/confirm", &oathtool(&second, app.clock_now())).await;
    assert_eq!(confirmed.codes().len(), 10);
    app.clock.advance(30);
    let other = Browser::new(&app);
    other.get("/account?tenant=acme").await;
    let login = other.get("/login").await;
    let code_page = other.password(&login, "kim", "pw-kim").await;
    let old = other.code(&code_page, "/login/totp", &oathtool(&first, app.clock_now())).await;
    assert!(old.has("Invalid code"));
    let new = other.code(&old, "/login/totp", &oathtool(&second, app.clock_now())).await;
    assert_eq!(new.location.as_deref(), Some("/account"));

    // New recovery codes need a current code, and replace the old ones.
    let page = browser.get("/account").await;
    let refused = browser.post("/account/recovery-codes", &[("csrf", &page.csrf())]).await;
    assert!(refused.has("Invalid code"), "{}", refused.body);
    app.clock.advance(30);
    let fresh = browser.code(&page, "/account/recovery-codes", &oathtool(&second, app.clock_now())).await;
    assert_eq!(fresh.codes().len(), 10, "{}", fresh.body);
    assert_ne!(fresh.codes(), confirmed.codes());

    // Every account form needs the session's CSRF token.
    let forged = browser.post("/account/recovery-codes", &[("csrf", "forged")]).await;
    assert_eq!(forged.status, 403);

    // Sign out ends the session.
    let out = browser.post("/account/logout", &[("csrf", &page.csrf())]).await;
    assert!(out.has("You are signed out"));
    let after = browser.get("/account").await;
    assert_eq!(after.location.as_deref(), Some("/login"), "signed out: a new sign-in starts");
}

#[tokio::test]
async fn the_account_page_offers_no_way_to_remove_totp() {
    let app = spawn_app().await;
    app.user("acme", "lee", "pw-lee", true);
    let browser = Browser::new(&app);
    browser.get("/account?tenant=acme").await;
    let login = browser.get("/login").await;
    let enrol = browser.password(&login, "lee", "pw-lee").await;
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&enrol.otpauth(), app.clock_now())).await;
    let done = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(done.location.as_deref(), Some("/account"));
    let page = browser.get("/account").await;
    assert!(page.has("active"));
    assert!(!page.to_lowercase_body().contains("remove") && !page.to_lowercase_body().contains("disable"));
}

impl crate::browser::Page {
    fn to_lowercase_body(&self) -> String {
        self.body.to_lowercase()
    }
}

#[tokio::test]
async fn the_account_page_lists_signed_in_browsers_and_signs_them_out() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "sam", "pw-sam", false);
    let here = sign_in(&app, "sam", "pw-sam").await;
    app.clock.advance(60);
    let there = sign_in(&app, "sam", "pw-sam").await;
    let elsewhere = sign_in(&app, "sam", "pw-sam").await;
    let page = here.get("/account").await;
    assert!(page.has("Signed-in browsers") && page.has("(this browser)"), "{}", page.body);
    assert_eq!(page.body.matches("from 127.0.0.1, last seen").count(), 3, "{}", page.body);
    assert_eq!(
        page.body.matches("action=\"/account/sessions/").count(),
        3,
        "two to end, and 'everywhere else'"
    );

    // One browser signed out from another: it is asked to sign in again.
    let other = page.body.split("action=\"/account/sessions/").nth(1).unwrap().split('/').next().unwrap();
    assert_ne!(other, "end-others");
    let ended = here.post(&format!("/account/sessions/{other}/end"), &[("csrf", &page.csrf())]).await;
    assert!(ended.has("That browser is signed out."), "{}", ended.body);
    let signed_out = [there.get("/account").await, elsewhere.get("/account").await]
        .iter()
        .filter(|p| p.location.as_deref() == Some("/login"))
        .count();
    assert_eq!(signed_out, 1, "exactly the one named");
    // Everywhere else: only this browser stays.
    let page = here.get("/account").await;
    here.post("/account/sessions/end-others", &[("csrf", &page.csrf())]).await;
    assert_eq!(there.get("/account").await.location.as_deref(), Some("/login"));
    assert_eq!(elsewhere.get("/account").await.location.as_deref(), Some("/login"));
    let page = here.get("/account").await;
    assert!(
        page.has("Signed in as <strong>sam</strong>") && !page.has("Sign out everywhere else"),
        "{}",
        page.body
    );
    let events = app.events_of(&id);
    assert!(
        events.contains(&"session.ended".to_owned()) && events.contains(&"session.ended_others".to_owned())
    );
    // A forged form ends nothing.
    let fourth = sign_in(&app, "sam", "pw-sam").await;
    here.post("/account/sessions/end-others", &[("csrf", "forged")]).await;
    assert_eq!(fourth.get("/account").await.status, 200);
}
