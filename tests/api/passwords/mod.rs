//! Passwords through the real server: temporary passwords replaced before anything
//! else, the rules a chosen password must meet, and the impersonation chain a parent's
//! one-time password used to open.

use diesel::prelude::*;
use serde_json::json;
use watchword::store::schema::users;

use crate::browser::{Browser, Page, oathtool};
use crate::helpers::{TestApp, spawn_app};

mod resets;

pub const STRONG: &str = "tapir violet quarry lantern";

impl TestApp {
    /// Marks a user's password as chosen by someone else.
    pub fn make_temporary(&self, id: &str) {
        let id = id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
                Ok(diesel::update(users::table.find(id))
                    .set(users::password_temporary.eq(true))
                    .execute(c)?)
            })
            .unwrap();
    }

    /// How many live SSO sessions the user has.
    pub fn live_sessions(&self, id: &str) -> i64 {
        use watchword::store::schema::sso_sessions;
        let id = id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<i64, watchword::store::StoreError> {
                Ok(sso_sessions::table
                    .filter(sso_sessions::user_id.eq(id))
                    .filter(sso_sessions::revoked_at.is_null())
                    .count()
                    .get_result(c)?)
            })
            .unwrap()
    }

    pub fn set_totp_required(&self, id: &str) {
        let id = id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
                Ok(diesel::update(users::table.find(id)).set(users::totp_required.eq(true)).execute(c)?)
            })
            .unwrap();
    }

    pub fn is_temporary(&self, id: &str) -> bool {
        let id = id.to_owned();
        self.store
            .run_blocking(move |c| -> Result<bool, watchword::store::StoreError> {
                Ok(users::table.find(id).select(users::password_temporary).first(c)?)
            })
            .unwrap()
    }
}

impl Browser {
    /// The sign-in page of the account (no client) in `tenant`.
    pub async fn account_login(&self, tenant: &str) -> Page {
        let start = self.get(&format!("/account?tenant={tenant}")).await;
        assert_eq!(start.location.as_deref(), Some("/login"), "{}", start.body);
        let page = self.get("/login").await;
        assert!(!page.has("Sign in to "), "no application named for the account's own sign-in");
        page
    }

    /// Submits a new password (twice) on the choose-a-password page; follows to the next page.
    pub async fn choose(&self, page: &Page, new: &str, confirm: &str) -> Page {
        self.post(
            "/login/new-password",
            &[("csrf", &page.csrf()), ("new_password", new), ("confirm", confirm)],
        )
        .await
    }
}

#[tokio::test]
async fn a_parents_one_time_password_cannot_be_used_to_impersonate_the_child() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.child("acme", "parent", None, "admin");
    let (token, _) = app.admin_token("parent").await;
    let (status, body) =
        app.api(&token, "POST", "/users", Some(json!({ "username": "kid", "totp_required": true }))).await;
    assert_eq!(status, 201, "{body}");
    let one_time = body["one_time_password"].as_str().unwrap().to_owned();
    let kid = body["user"]["id"].as_str().unwrap().to_owned();
    assert!(app.is_temporary(&kid));

    // The parent signs in as the child: a new password is asked for before anything
    // else — no secret is shown, no session made.
    let parent = Browser::new(&app);
    let login = parent.account_login("acme").await;
    let parents_page = parent.password(&login, "kid", &one_time).await;
    assert!(parents_page.has("Choose a new password"), "{}", parents_page.body);
    assert!(!parents_page.has("otpauth"));
    assert_eq!(app.live_sessions(&kid), 0, "no session before the choice");

    // The child signs in with the same password, chooses its own, and only then sees a secret.
    let child = Browser::new(&app);
    let login = child.account_login("acme").await;
    let page = child.password(&login, "kid", &one_time).await;
    assert!(page.has("Choose a new password"));
    let enrol = child.choose(&page, STRONG, STRONG).await;
    assert!(enrol.has("Set up your authenticator app"), "{}", enrol.body);
    let otpauth = enrol.otpauth();
    assert!(!app.is_temporary(&kid));

    // The parent's sign-in is over (the password it checked is gone), and the one-time
    // password no longer works.
    let stale = parent
        .choose(&parents_page, "another strong passphrase here", "another strong passphrase here")
        .await;
    assert_eq!(stale.status, 403, "{}", stale.body);
    assert!(stale.has("Please sign in again"));
    let login = parent.account_login("acme").await;
    let again = parent.password(&login, "kid", &one_time).await;
    assert!(again.has("Invalid username or password"));

    // The child enrols its own secret and is signed in with both factors.
    let codes = child.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    let done = child.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    let events = app.events_of(&kid);
    assert!(events.iter().any(|e| e == "password.changed"), "{events:?}");
}

#[tokio::test]
async fn a_chosen_password_must_meet_the_rules_and_refusals_are_not_failed_attempts() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "bob.builder", "a-temporary-password", false);
    app.make_temporary(&id);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let page = browser.password(&login, "bob.builder", "a-temporary-password").await;
    assert!(page.has("At least 12 characters"), "{}", page.body);
    let refusals = [
        ("short pass", "short pass", "Use at least 12 characters."),
        (STRONG, "tapir violet quarry lantern!", "The new password and its confirmation differ."),
        ("Bob.Builder", "Bob.Builder", "at least"),
        ("bob.builder!", "bob.builder!", "too easy to guess"),
        ("password1234", "password1234", "too easy to guess"),
        ("qwertyuiop123", "qwertyuiop123", "too easy to guess"),
        ("a-temporary-password", "a-temporary-password", "must differ from the current one"),
    ];
    let too_long = "x".repeat(1025);
    for (new, confirm, message) in
        refusals.iter().copied().chain([(too_long.as_str(), too_long.as_str(), "at most 1024 bytes")])
    {
        let again = browser.choose(&page, new, confirm).await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.has("Choose a new password"), "{new}: {}", again.body);
        assert!(again.has(message), "{new}: expected {message:?} in {}", again.body);
    }
    // Eight refusals, and the sign-in goes on: the rules are not a guessing budget.
    let done = browser.choose(&page, STRONG, STRONG).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    let other = Browser::new(&app);
    let login = other.account_login("acme").await;
    let old = other.password(&login, "bob.builder", "a-temporary-password").await;
    assert!(old.has("Invalid username or password"));
}

#[tokio::test]
async fn a_temporary_password_of_a_user_with_totp_is_replaced_after_the_code() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "carol", "carols-old-password", true);
    // Enrol first (an ordinary sign-in).
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let enrol = browser.password(&login, "carol", "carols-old-password").await;
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    app.make_temporary(&id);
    app.clock.advance(30);

    let fresh = Browser::new(&app);
    let login = fresh.account_login("acme").await;
    let code_page = fresh.password(&login, "carol", "carols-old-password").await;
    assert!(code_page.has("name=\"code\""), "the code comes first: {}", code_page.body);
    let choose = fresh.code(&code_page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    assert!(choose.has("Choose a new password"), "{}", choose.body);
    assert_eq!(app.live_sessions(&id), 1, "no new session before the choice");
    let done = fresh.choose(&choose, STRONG, STRONG).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    // The credential is untouched; the old browser's session was ended by the change.
    assert!(fresh.get("/account").await.has("active"));
    assert_eq!(browser.get("/account").await.location.as_deref(), Some("/login"));
}

/// Signs `username` (no authenticator) in at the account page with a password only.
pub(crate) async fn password_session(app: &TestApp, username: &str, password: &str) -> Browser {
    let browser = Browser::new(app);
    let login = browser.account_login("acme").await;
    let done = browser.password(&login, username, password).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    browser
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_and_refresh_token_but_keeps_the_factor() {
    use crate::conformance::{Rp, code_of, sign_in};
    use watchword::oidc::keys::SigningAlg;
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let id = app.user("acme", "dana", "danas-old-password", true);
    // An app signed in with a refresh token (enrolling on the way)…
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let elsewhere = Browser::new(&app);
    elsewhere.get(&rp.url("")).await;
    let enrol = sign_in(&elsewhere, "dana", "danas-old-password").await;
    let otpauth = enrol.otpauth();
    let codes = elsewhere.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    let done = elsewhere.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&done)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    // …and the account page, signed in with a code just now.
    app.clock.advance(30);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let code_page = browser.password(&login, "dana", "danas-old-password").await;
    let signed_in = browser.code(&code_page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    assert_eq!(signed_in.location.as_deref(), Some("/account"));
    let page = browser.get("/account").await;
    // A code given just now: the change does not ask for another.
    assert!(page.has("Change password") && !page.has("id=\"password-code\""), "{}", page.body);

    let form = |current: &'static str, new: &'static str| {
        vec![("current_password", current), ("new_password", new), ("confirm", new)]
    };
    let post = async |fields: Vec<(&str, &str)>| {
        let csrf = page.csrf();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        browser.post("/account/password", &all).await
    };
    let wrong = post(form("not-the-password", STRONG)).await;
    assert!(wrong.has("The current password is not right."), "{}", wrong.body);
    let weak = post(form("danas-old-password", "dana12345678")).await;
    assert!(weak.has("too easy to guess"), "{}", weak.body);
    let same = post(form("danas-old-password", "danas-old-password")).await;
    assert!(same.has("too easy to guess") || same.has("must differ"), "{}", same.body);
    let changed = post(form("danas-old-password", STRONG)).await;
    assert!(changed.has("Your password has been changed"), "{}", changed.body);

    // The refresh token and the other browser's session are gone; this one stays.
    let (status, body, _) =
        rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    assert_eq!(elsewhere.get("/account").await.location.as_deref(), Some("/login"));
    assert!(browser.get("/account").await.has("Signed in as"));
    assert_eq!(app.live_sessions(&id), 1);
    // The new password signs in — and still needs the code.
    app.clock.advance(30);
    let next = Browser::new(&app);
    let login = next.account_login("acme").await;
    assert!(next.password(&login, "dana", "danas-old-password").await.has("Invalid username or password"));
    let login = next.account_login("acme").await;
    assert!(next.password(&login, "dana", STRONG).await.has("Authentication code"));
    assert!(app.events_of(&id).iter().any(|e| e == "password.changed"));
}

#[tokio::test]
async fn a_password_change_after_five_minutes_needs_a_current_code() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "eve", "eves-old-password", true);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let enrol = browser.password(&login, "eve", "eves-old-password").await;
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    app.clock.advance(301);
    let page = browser.get("/account").await;
    assert!(page.has("id=\"password-code\""), "{}", page.body);
    let csrf = page.csrf();
    let base = [
        ("csrf", csrf.as_str()),
        ("current_password", "eves-old-password"),
        ("new_password", STRONG),
        ("confirm", STRONG),
    ];
    let without = browser.post("/account/password", &base).await;
    assert!(without.has("Invalid code"), "{}", without.body);
    let mut with = base.to_vec();
    let code = oathtool(&otpauth, app.clock_now());
    with.push(("code", &code));
    assert!(browser.post("/account/password", &with).await.has("Your password has been changed"));
}

/// Enrols `username` (password `pw-{username}`) at the account page; returns the browser and its otpauth URI.
async fn enrolled(app: &TestApp, username: &str) -> (Browser, String) {
    let browser = Browser::new(app);
    let login = browser.account_login("acme").await;
    let enrol = browser.password(&login, username, &format!("pw-{username}")).await;
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    let done = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    (browser, otpauth)
}

#[tokio::test]
async fn the_tenants_minimum_length_applies_to_the_choice() {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.prompt_new_users = false;
        t.password_min_length = 30;
    });
    let id = app.user("acme", "uma", "a-temporary-password", false);
    app.make_temporary(&id);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let page = browser.password(&login, "uma", "a-temporary-password").await;
    assert!(page.has("At least 30 characters") && page.has("minlength=\"30\""), "{}", page.body);
    let short = browser.choose(&page, STRONG, STRONG).await;
    assert!(short.has("Use at least 30 characters."), "{}", short.body);
    let long = "tapir violet quarry lantern harbour";
    let done = browser.choose(&page, long, long).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
}
