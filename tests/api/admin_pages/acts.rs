//! The admin pages' other acts and refusals: a password reset, the step-up, a user who
//! is no administrator, the pages in German.

use super::admin_browser;
use crate::browser::{Browser, oathtool};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_parent_resets_a_password_from_the_pages_and_sees_it_once() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let browser = admin_browser(&app, "boss").await;
    let detail = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(detail.has("Reset password"), "{}", detail.body);
    let forged = browser
        .post(&format!("/admin/users/{kid}/password"), &[("csrf", "forged"), ("confirm", "yes")])
        .await;
    assert_eq!(forged.status, 403);
    // Asked first: nothing happens until confirmed, and Cancel goes back.
    let asked = browser.post(&format!("/admin/users/{kid}/password"), &[("csrf", &detail.csrf())]).await;
    assert!(
        asked.has("Reset this user&#x27;s password?") || asked.has("Reset this user's password?"),
        "{}",
        asked.body
    );
    assert!(
        asked.has("name=\"confirm\" value=\"yes\"")
            && asked.has(&format!("href=\"/admin/users/{kid}\">Cancel"))
    );
    assert!(!app.is_temporary(&kid), "not reset yet");
    let disable = browser
        .post(&format!("/admin/users/{kid}/disabled"), &[("csrf", &detail.csrf()), ("disabled", "true")])
        .await;
    assert!(
        disable.has("Disable this user?") && disable.has("name=\"disabled\" value=\"true\""),
        "{}",
        disable.body
    );
    let done = browser
        .post(&format!("/admin/users/{kid}/password"), &[("csrf", &detail.csrf()), ("confirm", "yes")])
        .await;
    assert!(done.has("Password reset for kid") && done.has("shown only once"), "{}", done.body);
    let password = done.body.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_owned();
    assert!(password.len() >= 16);
    // Oneself: refused.
    let own = browser
        .post(&format!("/admin/users/{boss}/password"), &[("csrf", &detail.csrf()), ("confirm", "yes")])
        .await;
    assert_eq!(own.status, 403, "{}", own.body);
    // The child signs in with it and must choose its own.
    let child = Browser::new(&app);
    child.get("/account?tenant=acme").await;
    let login = child.get("/login").await;
    let page = child.password(&login, "kid", &password).await;
    assert!(page.has("Choose a new password"), "{}", page.body);
    let audit = browser.get(&format!("/admin/audit?user={kid}")).await;
    assert!(audit.has("password.reset") && audit.has("boss reset the password of kid"), "{}", audit.body);
}

#[tokio::test]
async fn the_admin_step_up_asks_for_the_authenticator_and_spends_no_recovery_code() {
    let app = spawn_app().await;
    app.policy("default", |t| t.prompt_new_users = false);
    let boss = app.child("default", "boss", None, "admin");
    app.set_totp_required(&boss);
    let browser = Browser::new(&app);
    let login = browser.account_login("default").await;
    let enrol = browser.password(&login, "boss", "pw-boss").await;
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&enrol.otpauth(), app.clock_now())).await;
    let recovery = codes.codes();
    browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;

    // Signed out, /admin signs in as usual — here with a recovery code — then the step-up
    // asks for the authenticator's code, and offers no recovery code it would not accept.
    let admin = Browser::new(&app);
    assert_eq!(admin.get("/admin").await.location.as_deref(), Some("/login"));
    let login = admin.get("/login").await;
    let code_page = admin.password(&login, "boss", "pw-boss").await;
    let signed_in =
        admin.post("/login/recovery", &[("csrf", &code_page.csrf()), ("code", &recovery[0])]).await;
    assert_eq!(signed_in.location.as_deref(), Some("/admin"), "{}", signed_in.body);
    assert_eq!(admin.get("/admin").await.location.as_deref(), Some("/login"), "a step-up");
    let step_up = admin.get("/login").await;
    assert!(step_up.has("action=\"/login/totp?flow=") && !step_up.has("recovery"), "{}", step_up.body);
    assert!(!step_up.has("Not you?"), "a step-up's user is its session's");
    let refused = admin.post("/login/recovery", &[("csrf", &step_up.csrf()), ("code", &recovery[1])]).await;
    assert!(refused.has("action=\"/login/totp?flow="), "back to the code page: {}", refused.body);
    let spent = app.events_of(&boss).iter().filter(|e| *e == "recovery_code.used").count();
    assert_eq!(spent, 1, "only the sign-in's");
    // That recovery code still works where it is accepted.
    let account = Browser::new(&app);
    let login = account.account_login("default").await;
    let page = account.password(&login, "boss", "pw-boss").await;
    let done = account.post("/login/recovery", &[("csrf", &page.csrf()), ("code", &recovery[1])]).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
}

#[tokio::test]
async fn a_user_who_is_no_administrator_is_told_so_before_anything_is_asked_of_it() {
    let app = spawn_app().await;
    app.policy("default", |t| t.prompt_new_users = false);
    let plain = app.child("default", "plain", None, "none");
    // Signed out: sign in (password only: nothing requires a code), then told.
    let browser = Browser::new(&app);
    assert_eq!(browser.get("/admin").await.location.as_deref(), Some("/login"));
    let login = browser.get("/login").await;
    let back = browser.password(&login, "plain", "pw-plain").await;
    assert_eq!(back.location.as_deref(), Some("/admin"), "{}", back.body);
    let told = browser.get("/admin").await;
    assert!(told.status == 403 && told.has("Not an administrator"), "{}", told.body);
    // Signed in: told at once, with no step-up and no enrolment.
    assert!(browser.get("/admin").await.has("Not an administrator"));
    assert!(!app.events_of(&plain).iter().any(|e| e.starts_with("totp.")), "{:?}", app.events_of(&plain));
}

#[tokio::test]
async fn the_admin_pages_speak_german_too() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let browser = admin_browser(&app, "boss").await;
    let de = ("accept-language", "de-DE,de;q=0.9");
    let users = browser.get_with("/admin", de).await;
    assert!(
        users.has("<html lang=\"de\">") && users.has("Ihre Benutzer") && users.has("hreflang=\"en\""),
        "{}",
        users.body
    );
    assert!(users.has("1 Benutzer.") && users.has("Nicht eingerichtet"), "{}", users.body);

    // A disruptive act is asked first, in German, and said done in German.
    let page = browser.get_with(&format!("/admin/users/{kid}"), de).await;
    assert!(page.has("Benutzer sperren") && page.has("Nicht verlangt — nichts verlangt es"), "{}", page.body);
    let path = format!("/admin/users/{kid}/disabled");
    let asked = browser.post_with(&path, &[("csrf", &page.csrf()), ("disabled", "true")], de).await;
    assert!(
        asked.has("Diesen Benutzer sperren?")
            && asked.has("kid wird überall abgemeldet")
            && asked.has(">Abbrechen<"),
        "{}",
        asked.body
    );
    let done = browser
        .post_with(&path, &[("csrf", &page.csrf()), ("disabled", "true"), ("confirm", "yes")], de)
        .await;
    let shown = browser.get_with(done.location.as_deref().unwrap(), de).await;
    assert!(shown.has("Benutzer gesperrt und überall abgemeldet."), "{}", shown.body);
    // A refusal too: nobody disables their own account.
    let own = format!("/admin/users/{boss}/disabled");
    let refused = browser
        .post_with(&own, &[("csrf", &page.csrf()), ("disabled", "true"), ("confirm", "yes")], de)
        .await;
    let refused = browser.get_with(refused.location.as_deref().unwrap(), de).await;
    assert!(refused.has("Das können Sie nicht mit Ihrem eigenen Konto tun."), "{}", refused.body);

    // And a refused value, with the typed form kept.
    let policy = browser.get_with("/admin/policy", de).await;
    let fields = [
        ("csrf", policy.csrf()),
        ("enabled", "on".to_owned()),
        ("algorithm", "SHA1".to_owned()),
        ("digits", "9".to_owned()),
        ("period", "30".to_owned()),
        ("skew", "1".to_owned()),
        ("password_min_length", "12".to_owned()),
        ("remember_device_days", "0".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = browser.post_with("/admin/policy", &fields, de).await;
    let refused = browser.get_with(refused.location.as_deref().unwrap(), de).await;
    assert!(refused.has("Die Stellenzahl muss 6, 7 oder 8 sein."), "{}", refused.body);

    // The audit log reads as sentences in the page's language.
    let audit = browser.get_with("/admin/audit", de).await;
    assert!(audit.has("boss hat kid gesperrt") && audit.has("Was geschah"), "{}", audit.body);
    let english = browser.get_with("/admin/audit?lang=en", de).await;
    assert!(english.has("boss disabled kid") && english.has("What happened"), "{}", english.body);
    // The switcher's choice sticks over the browser's language.
    assert!(browser.get_with("/admin", de).await.has("Users below you"));
}
