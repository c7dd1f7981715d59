//! A tenant's look and language: its name, logo and colour on its pages, set from the
//! CLI, /admin or the API; the language asked for, the switcher, the tenant's default.

use crate::browser::Browser;
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_tenants_name_logo_and_colour_are_on_its_pages() {
    use watchword::tenancy::branding::{self, BrandingChange};
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "finn", "pw-finn", false);
    let tenant = app.tenant("acme");
    let change = BrandingChange {
        name: Some("Acme Corporation".into()),
        logo_url: Some("https://cdn.acme.example/logo.svg".into()),
        primary_colour: Some("#7a1f5c".into()),
        default_language: None,
    };
    app.store
        .run_blocking(|c| branding::update(c, &tenant.id, &change, "cli", &Default::default(), 0))
        .unwrap();

    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    assert!(login.has("<span>Acme Corporation</span>"), "{}", login.body);
    assert!(login.has("cdn.acme.example"), "the logo: {}", login.body);
    let css_link = format!("/brand/{}.css", tenant.id);
    assert!(login.has(&css_link.replace('/', "&#x2F;")) || login.has(&css_link), "{}", login.body);
    let css = browser.get(&css_link).await;
    assert!(css.status == 200 && css.body.contains("--accent: #7a1f5c"), "{}", css.body);

    let account = Browser::new(&app);
    let login = account.account_login("acme").await;
    account.password(&login, "finn", "pw-finn").await;
    let page = account.get("/account").await;
    assert!(page.has("<span>Acme Corporation</span>") && page.has("Your account"), "{}", page.body);
    // The CSP lets the logo load (https images) and still no inline style.
    let csp = crate::helpers::http_client().get(format!("{}/account", app.address)).send().await.unwrap();
    let csp = csp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("img-src 'self' data: https:") && csp.contains("style-src 'self';"), "{csp}");
}

#[tokio::test]
async fn administrators_rebrand_through_the_pages_and_the_api() {
    use serde_json::json;
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    app.child("acme", "sub", Some(&root), "admin");
    app.child("acme", "boss", None, "admin");

    // The page: a refused colour keeps what was typed; a good one is saved and shown.
    let browser = crate::admin_pages::admin_browser(&app, "root").await;
    let page = browser.get("/admin/policy").await;
    let form = |colour: &'static str| {
        vec![
            ("csrf", page.csrf()),
            ("name", "Acme Ltd".to_owned()),
            ("logo_url", String::new()),
            ("primary_colour", colour.to_owned()),
            ("default_language", "de".to_owned()),
        ]
    };
    let post = async |fields: Vec<(&str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        browser.post("/admin/branding", &fields).await
    };
    let refused = post(form("#eeeeee")).await;
    assert!(
        refused.has("too light for white button text") && refused.has("value=\"Acme Ltd\""),
        "{}",
        refused.body
    );
    assert!(refused.has("value=\"#eeeeee\""), "{}", refused.body);
    assert!(
        refused.has("<option value=\"de\" lang=\"de\" selected>"),
        "the language as chosen: {}",
        refused.body
    );
    let saved = post(form("#14532d")).await;
    assert!(saved.has("Branding saved.") && saved.has("<span>Acme Ltd</span>"), "{}", saved.body);
    assert_eq!(app.tenant("acme").primary_colour.as_deref(), Some("#14532d"));
    assert_eq!(app.tenant("acme").default_language.as_deref(), Some("de"));
    assert!(saved.has("<option value=\"de\" lang=\"de\" selected>"), "{}", saved.body);

    // The API: the same rules, and only the tenant's root administrators change it.
    let (token, _) = app.admin_token("boss").await;
    let (status, body) = app.api(&token, "GET", "/tenant/branding", None).await;
    assert_eq!((status, body["name"].as_str()), (200, Some("Acme Ltd")));
    let (status, body) = app
        .api(&token, "PUT", "/tenant/branding", Some(json!({ "logo_url": "http://x.example/l.png" })))
        .await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_request")), "{body}");
    let (status, _) = app.api(&token, "PUT", "/tenant/branding", Some(json!({ "colour": "#000000" }))).await;
    assert_eq!(status, 400, "unknown fields are refused");
    let change = json!({ "name": "Acme Group", "logo_url": "https://cdn.acme.example/l.svg" });
    let (status, body) = app.api(&token, "PUT", "/tenant/branding", Some(change)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({
            "name": "Acme Group",
            "logo_url": "https://cdn.acme.example/l.svg",
            "primary_colour": "#14532d",
            "default_language": "de"
        })
    );
    let (sub_token, _) = app.admin_token("sub").await;
    let (status, _) = app.api(&sub_token, "PUT", "/tenant/branding", Some(json!({ "name": "Mine" }))).await;
    assert_eq!(status, 403);
    assert_eq!(app.tenant("acme").name, "Acme Group");
    let events =
        app.store.run_blocking(|c| watchword::store::audit::event_names(c, &app.tenant("acme").id)).unwrap();
    assert!(events.contains(&"tenant.branding_changed".to_owned()), "{events:?}");
}

#[tokio::test]
async fn the_sign_in_pages_speak_the_language_asked_for_and_the_switcher_sticks() {
    use crate::browser::{REDIRECT, urlencode};
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "hans", "pw-hans", false);
    let authorize = |extra: &str| {
        format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s&nonce=n{extra}",
            client.client.id,
            urlencode(REDIRECT)
        )
    };

    // ui_locales from the client: German, with a way back to English.
    let browser = Browser::new(&app);
    browser.get(&authorize("&ui_locales=de-CH%20en")).await;
    let login = browser.get("/login").await;
    assert!(login.has("<html lang=\"de\">") && login.has("Bei Test RP anmelden"), "{}", login.body);
    assert!(login.has(">Benutzername</label>") && login.has("hreflang=\"en\""), "{}", login.body);
    let wrong = browser.password(&login, "hans", "nope").await;
    assert!(wrong.has("Benutzername oder Passwort ungültig"), "{}", wrong.body);

    // Accept-Language alone: German; the switcher's English then sticks (a cookie).
    let other = Browser::new(&app);
    other.get_with(&authorize(""), ("accept-language", "fr;q=0.9, de;q=0.8, en;q=0.5")).await;
    let german = other.get_with("/login", ("accept-language", "de")).await;
    assert!(german.has("Bei Test RP anmelden"), "{}", german.body);
    let english = other.get_with("/login?lang=en", ("accept-language", "de")).await;
    assert!(english.has("<html lang=\"en\">") && english.has("Sign in to Test RP"), "{}", english.body);
    let still = other.get_with("/login", ("accept-language", "de")).await;
    assert!(still.has("Sign in to Test RP"), "the choice is remembered: {}", still.body);

    // No signal at all: English; an unknown language falls back to it.
    let plain = Browser::new(&app);
    plain.get_with(&authorize("&ui_locales=fr"), ("accept-language", "it")).await;
    assert!(plain.get("/login").await.has("Sign in to Test RP"));
    // The expired page speaks the browser's language too.
    let gone = Browser::new(&app).get_with("/login?flow=gone", ("accept-language", "de")).await;
    assert!(gone.has("Ihre Anmeldung ist abgelaufen") && gone.has("Zu Ihrem Konto"), "{}", gone.body);
}

#[tokio::test]
async fn a_tenants_default_language_speaks_when_the_browser_asks_for_none_the_pages_have() {
    use crate::browser::{REDIRECT, urlencode};
    use serde_json::json;
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.child("acme", "boss", None, "admin");
    app.user("acme", "ines", "pw-ines", false);
    let authorize = |extra: &str| {
        format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s&nonce=n{extra}",
            client.client.id,
            urlencode(REDIRECT)
        )
    };
    let italian = ("accept-language", "it-IT,it;q=0.9");
    let sign_in = async |extra: &str, header: (&'static str, &'static str)| {
        let browser = Browser::new(&app);
        browser.get_with(&authorize(extra), header).await;
        browser.get_with("/login", header).await
    };
    // Before: English (and the tenant's branding is now in the server's cache).
    assert!(sign_in("", italian).await.has("Sign in to Test RP"));

    let (token, _) = app.admin_token("boss").await;
    let (status, body) =
        app.api(&token, "PUT", "/tenant/branding", Some(json!({ "default_language": "fr" }))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("en, de"), "{body}");
    let (status, body) =
        app.api(&token, "PUT", "/tenant/branding", Some(json!({ "default_language": "de" }))).await;
    assert_eq!((status, body["default_language"].as_str()), (200, Some("de")), "{body}");

    // At once (the change forgets the cached branding): German for a browser asking
    // for none of the pages' languages...
    let login = sign_in("", italian).await;
    assert!(login.has("<html lang=\"de\">") && login.has("Bei Test RP anmelden"), "{}", login.body);
    // ...but a language the browser or the client asks for comes first.
    assert!(sign_in("", ("accept-language", "it, en;q=0.5")).await.has("Sign in to Test RP"));
    assert!(sign_in("&ui_locales=en", italian).await.has("Sign in to Test RP"));
    // The signed-in pages of the tenant follow it too.
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    browser.password(&login, "ines", "pw-ines").await;
    let account = browser.get_with("/account", italian).await;
    assert!(account.has("<html lang=\"de\">"), "{}", account.body);
    // And the admin page's branding form shows the saved choice.
    let (status, body) = app.api(&token, "GET", "/tenant/branding", None).await;
    assert_eq!((status, body["default_language"].as_str()), (200, Some("de")));
}

#[tokio::test]
async fn the_account_page_and_what_its_forms_say_follow_the_language() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "greta", "pw-greta", false);
    let german = ("accept-language", "de-DE,de;q=0.9,en;q=0.5");
    let browser = Browser::new(&app);
    browser.get_with("/account?tenant=acme", german).await;
    let login = browser.get_with("/login", german).await;
    assert!(login.has("<html lang=\"de\">") && login.has(">Anmelden</button>"), "{}", login.body);
    browser.password(&login, "greta", "pw-greta").await;
    let elsewhere = Browser::new(&app);
    let other = elsewhere.account_login("acme").await;
    elsewhere.password(&other, "greta", "pw-greta").await;

    let page = browser.get_with("/account", german).await;
    assert!(page.has("<h1>Ihr Konto</h1>") && page.has("Angemeldete Browser"), "{}", page.body);
    assert!(page.has("(dieser Browser)") && page.has("UTC</time>"), "{}", page.body);
    let form = [("csrf", page.csrf())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = browser.post_with("/account/sessions/end-others", &form, german).await;
    let done = browser.get_with(answer.location.as_deref().unwrap(), german).await;
    assert!(done.has("Alle anderen Browser sind abgemeldet."), "{}", done.body);
    // The switcher's English sticks for the pages that follow.
    let english = browser.get_with("/account?lang=en", german).await;
    assert!(english.has("<h1>Your account</h1>"), "{}", english.body);
    assert!(browser.get_with("/account", german).await.has("<h1>Your account</h1>"));
    // Signing out speaks the remembered English too.
    let signed_out = browser.post("/account/logout", &[("csrf", &english.csrf())]).await;
    assert!(signed_out.has("You are signed out"), "{}", signed_out.body);
}
