//! Passwords through the real server: temporary passwords replaced before anything
//! else, the rules a chosen password must meet, and the impersonation chain a parent's
//! one-time password used to open.

use diesel::prelude::*;
use serde_json::json;
use watchword::store::schema::users;

use crate::browser::{Browser, Page, oathtool};
use crate::helpers::{TestApp, spawn_app};

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
        self.get("/login").await
    }

    /// Submits a new password (twice) on the choose-a-password page; follows to the next page.
    pub async fn choose(&self, page: &Page, new: &str, confirm: &str) -> Page {
        let res = self
            .post(
                "/login/new-password",
                &[("csrf", &page.csrf()), ("new_password", new), ("confirm", confirm)],
            )
            .await;
        if res.status == 303 && res.location.as_deref() == Some("/login") {
            self.get("/login").await
        } else {
            res
        }
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
    assert_eq!(stale.status, 409, "{}", stale.body);
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
    let choose =
        if choose.location.as_deref() == Some("/login") { fresh.get("/login").await } else { choose };
    assert!(choose.has("Choose a new password"), "{}", choose.body);
    assert_eq!(app.live_sessions(&id), 1, "no new session before the choice");
    let done = fresh.choose(&choose, STRONG, STRONG).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    // The credential is untouched; the old browser's session was ended by the change.
    assert!(fresh.get("/account").await.has("active"));
    assert_eq!(browser.get("/account").await.location.as_deref(), Some("/login"));
}
