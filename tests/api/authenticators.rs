//! Several labelled authenticators per user through the real server: each signs in,
//! adding one needs a fresh code (or a recovery code) and its own first code, removing
//! one needs a fresh code and never takes the last, at most five, a parent's revoke
//! takes them all.

use crate::browser::{Browser, Page, oathtool};
use crate::helpers::{TestApp, spawn_app};

/// Signs `lee` in at the account page with a code of `otpauth`; the page that follows.
async fn sign_in_with(app: &TestApp, otpauth: &str) -> Page {
    app.clock.advance(30);
    let browser = Browser::new(app);
    let login = browser.account_login("acme").await;
    let page = browser.password(&login, "lee", "pw-lee").await;
    assert!(page.has("action=\"/login/totp?flow="), "{}", page.body);
    browser.code(&page, "/login/totp", &oathtool(otpauth, app.clock_now())).await
}

/// Adds an authenticator named `label`, proving it with `proof`; returns its otpauth URI.
async fn add(app: &TestApp, browser: &Browser, label: &str, proof: &str) -> String {
    let account = browser.get("/account").await;
    let started = browser
        .post("/account/totp/add", &[("csrf", &account.csrf()), ("label", label), ("code", proof)])
        .await;
    assert_eq!(started.location.as_deref(), Some("/account/totp"), "{}", started.body);
    let enrol = browser.get("/account/totp").await;
    let otpauth = enrol.otpauth();
    let done = browser.code(&enrol, "/account/totp/confirm", &oathtool(&otpauth, app.clock_now())).await;
    assert!(
        done.has("Your authenticator app is set up.") && done.has("<h1>Your account</h1>"),
        "no new recovery codes for an addition: {}",
        done.body
    );
    otpauth
}

#[tokio::test]
async fn each_authenticator_signs_in_and_adding_or_removing_one_needs_a_fresh_code() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    let lee = app.child("acme", "lee", Some(&root), "none");
    app.set_totp_required(&lee);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let enrol = browser.password(&login, "lee", "pw-lee").await;
    let first = enrol.otpauth();
    let codes_page = browser.code(&enrol, "/login/enrol", &oathtool(&first, app.clock_now())).await;
    let recovery = codes_page.codes();
    browser.post("/login/codes", &[("csrf", &codes_page.csrf())]).await;
    let account = browser.get("/account").await;
    assert!(account.has("Your authenticators") && account.has("Authenticator app"), "{}", account.body);
    assert!(!account.has("/remove\""), "one authenticator: nothing to remove");
    let left_before = account.body.split("Recovery codes left: ").nth(1).unwrap()[..2].to_owned();

    // Adding: a wrong code, or no name, adds nothing.
    app.clock.advance(30);
    let wrong = browser
        .post("/account/totp/add", &[("csrf", &account.csrf()), ("label", "phone"), ("code", "000000")])
        .await;
    assert!(wrong.has("Invalid code"), "{}", wrong.body);
    let unnamed = browser
        .post(
            "/account/totp/add",
            &[("csrf", &account.csrf()), ("label", "  "), ("code", &oathtool(&first, app.clock_now()))],
        )
        .await;
    assert!(unnamed.has("Give the authenticator a name"), "{}", unnamed.body);
    // A code typed with a space (as at sign-in) is still a code, not a recovery code.
    let spaced = oathtool(&first, app.clock_now());
    let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
    let second = add(&app, &browser, "password manager", &spaced).await;
    assert_ne!(first, second);
    let account = browser.get("/account").await;
    assert!(account.has("password manager") && account.has("Authenticator app"), "{}", account.body);
    let left_after = account.body.split("Recovery codes left: ").nth(1).unwrap()[..2].to_owned();
    assert_eq!(left_before, left_after, "an addition keeps the recovery codes");

    // Each signs in; the change password form does not care which.
    assert_eq!(sign_in_with(&app, &first).await.location.as_deref(), Some("/account"));
    assert_eq!(sign_in_with(&app, &second).await.location.as_deref(), Some("/account"));

    // Removing: a fresh code (of either), then the first no longer signs in.
    app.clock.advance(30);
    let id =
        account.body.split("action=\"/account/totp/").nth(1).unwrap().split('/').next().unwrap().to_owned();
    let refused = browser
        .post(&format!("/account/totp/{id}/remove"), &[("csrf", &account.csrf()), ("code", "123")])
        .await;
    assert!(refused.has("Invalid code"), "{}", refused.body);
    let removed = browser
        .post(
            &format!("/account/totp/{id}/remove"),
            &[("csrf", &account.csrf()), ("code", &oathtool(&second, app.clock_now()))],
        )
        .await;
    assert!(removed.has("Authenticator removed."), "{}", removed.body);
    assert!(app.events_of(&lee).contains(&"totp.removed".to_owned()));
    let stale = sign_in_with(&app, &first).await;
    assert!(stale.has("Invalid code") || stale.status == 200, "{}", stale.body);
    assert_ne!(stale.location.as_deref(), Some("/account"));
    // The last one stays.
    let account = browser.get("/account").await;
    assert!(!account.has("/remove\""));
    let last_id = {
        use diesel::prelude::*;
        use watchword::store::schema::totp_credentials;
        let lee = lee.clone();
        app.store
            .run_blocking(move |c| -> Result<String, watchword::store::StoreError> {
                Ok(totp_credentials::table
                    .filter(totp_credentials::user_id.eq(lee))
                    .select(totp_credentials::id)
                    .first(c)?)
            })
            .unwrap()
    };
    app.clock.advance(30);
    let only = browser
        .post(
            &format!("/account/totp/{last_id}/remove"),
            &[("csrf", &account.csrf()), ("code", &oathtool(&second, app.clock_now()))],
        )
        .await;
    assert!(only.has("This is your only authenticator"), "{}", only.body);
    assert_eq!(sign_in_with(&app, &second).await.location.as_deref(), Some("/account"));

    // A recovery code may prove the factor for an addition; then up to five.
    app.clock.advance(30);
    add(&app, &browser, "tablet", &recovery[0]).await;
    for label in ["spare 1", "spare 2", "spare 3"] {
        app.clock.advance(30);
        add(&app, &browser, label, &oathtool(&second, app.clock_now())).await;
    }
    let account = browser.get("/account").await;
    assert!(!account.has("action=\"/account/totp/add\""), "five: no more offered");
    app.clock.advance(30);
    let sixth = browser
        .post(
            "/account/totp/add",
            &[("csrf", &account.csrf()), ("label", "sixth"), ("code", &oathtool(&second, app.clock_now()))],
        )
        .await;
    assert!(sixth.has("most authenticators allowed"), "{}", sixth.body);

    // Administrators see the labels; a parent's revoke takes them all.
    let labels = app
        .store
        .run_blocking(|c| {
            let (root_user, _) = watchword::store::users::find_with_tenant(c, &root)?.unwrap();
            let admin = watchword::tenancy::admin::Admin::load(c, root_user)?;
            watchword::tenancy::admin::get_user(c, &admin, &lee)
        })
        .unwrap()
        .authenticators
        .into_iter()
        .map(|a| a.label)
        .collect::<Vec<_>>();
    assert_eq!(labels, ["password manager", "tablet", "spare 1", "spare 2", "spare 3"]);
    let tenant = app.tenant("acme");
    app.store
        .run_blocking(|c| {
            let name = watchword::tenancy::Username::parse("lee").unwrap();
            watchword::tenancy::admin::revoke_totp_as_operator(c, &tenant, &name, "lost bag", app.clock_now())
        })
        .unwrap();
    let fresh = Browser::new(&app);
    let login = fresh.account_login("acme").await;
    let again = fresh.password(&login, "lee", "pw-lee").await;
    assert!(again.has("Set up your authenticator app"), "enrols anew: {}", again.body);
}

#[tokio::test]
async fn a_code_one_authenticator_accepted_is_not_accepted_again_by_another() {
    use diesel::prelude::*;
    use watchword::store::schema::totp_credentials;
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let lee = app.user("acme", "lee", "pw-lee", true);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let enrol = browser.password(&login, "lee", "pw-lee").await;
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    // The same secret enrolled a second time (two apps restored from one backup).
    let keyring = watchword::auth::keyring::Keyring::parse(crate::helpers::TEST_KEYS).unwrap();
    let secret =
        watchword::auth::totp::TotpSecret::from_base32(&crate::browser::query(&otpauth)["secret"]).unwrap();
    let mut twin = app.store.run_blocking(|c| watchword::store::totp::for_user(c, &lee)).unwrap().remove(0);
    twin.id = "twin".into();
    twin.label = "restored backup".into();
    twin.last_used_step = None;
    let sealed = keyring.seal(secret.as_bytes(), &watchword::auth::credentials::aad("twin", &lee));
    (twin.secret_ciphertext, twin.key_id) = (sealed.bytes, sealed.key_id);
    app.store
        .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
            Ok(diesel::insert_into(totp_credentials::table).values(&twin).execute(c)?)
        })
        .unwrap();

    // One code, two sign-ins in the same step: the first wins, the second is refused.
    app.clock.advance(30);
    let code = oathtool(&otpauth, app.clock_now());
    let mut pages = Vec::new();
    for _ in 0..2 {
        let b = Browser::new(&app);
        let login = b.account_login("acme").await;
        let page = b.password(&login, "lee", "pw-lee").await;
        pages.push(b.code(&page, "/login/totp", &code).await);
    }
    assert_eq!(pages[0].location.as_deref(), Some("/account"), "{}", pages[0].body);
    assert_ne!(pages[1].location.as_deref(), Some("/account"), "the twin must not take the same code");
    assert!(app.events_of(&lee).contains(&"totp.replay_blocked".to_owned()));
}
