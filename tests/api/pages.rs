//! The pages as a product: sign-ins side by side in tabs of one browser; post/redirect/
//! get — every form answered with a redirect to the page that shows its outcome, so a
//! reload never sends a form again, and a note or secret is said once to the session
//! that wrote it; the tenant's branding on its pages, set from the CLI, /admin or the API.

use crate::browser::{Browser, oathtool};
use crate::helpers::spawn_app;
use crate::login::{assert_redirected, enrol_for};

#[tokio::test]
async fn two_sign_ins_in_tabs_of_one_browser_both_finish() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "alice", "pw-alice", true);
    let (otpauth, _) = enrol_for(&app, &client.client.id, "alice", "pw-alice").await;
    app.user("acme", "bob", "pw-bob", false);

    let browser = Browser::new(&app);
    let first = browser.start(&client.client.id).await;
    let tab_a = browser.flow().expect("a handle in the redirect");
    let second = browser.start(&client.client.id).await;
    let tab_b = browser.flow().unwrap();
    assert_ne!(tab_a, tab_b, "each sign-in its own handle");

    // Tab A to the code page, then tab B all the way, then A finishes.
    browser.switch_to(&tab_a);
    app.clock.advance(30);
    let code_page = browser.password(&first, "alice", "pw-alice").await;
    assert!(code_page.has("Authentication code"), "{}", code_page.body);
    browser.switch_to(&tab_b);
    let bob = browser.password(&second, "bob", "pw-bob").await;
    assert_redirected(&app, &bob);
    browser.switch_to(&tab_a);
    let alice = browser.code(&code_page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    let code = assert_redirected(&app, &alice);
    assert_eq!(app.amr_of_code(&code), "pwd otp mfa");
}

#[tokio::test]
async fn authorize_shows_the_sign_in_page_itself_in_a_new_flow_bound_to_the_browser() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "dora", "pw-dora", false);
    let url = format!(
        "{}/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s",
        app.address,
        client.client.id,
        crate::browser::urlencode(crate::browser::REDIRECT)
    );
    // One answer, no redirect: the page, and the cookie that binds its flow to the browser.
    let res = crate::helpers::http_client().get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("ww_flow=") && cookie.contains("HttpOnly") && cookie.contains("SameSite"),
        "{cookie}"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    // The page's URL holds the authorization request (state, nonce): no referrer carries
    // it to a logo's host, and no other site frames the form.
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    let body = res.text().await.unwrap();
    assert!(body.contains("name=\"password\""), "{body}");

    let browser = Browser::new(&app);
    let page = browser.start(&client.client.id).await;
    let handle = browser.flow().expect("the form names the flow");
    // The language link stays in this flow (not a new authorization).
    assert!(page.has(&format!("&#x2F;login?flow={handle}&amp;lang=de")), "{}", page.body);
    let german = browser.get("/login?lang=de").await;
    assert!(german.is_sign_in_page() && german.has("lang=\"de\""), "{}", german.body);
    assert_eq!(german.csrf(), page.csrf(), "the same sign-in");
    // A reload starts another sign-in; the first still finishes.
    browser.start(&client.client.id).await;
    assert_ne!(browser.flow().as_deref(), Some(handle.as_str()));
    browser.switch_to(&handle);
    let done = browser.password(&page, "dora", "pw-dora").await;
    assert_redirected(&app, &done);
}

#[tokio::test]
async fn a_sign_in_is_found_only_by_its_handle_in_the_browser_that_began_it() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    let browser = Browser::new(&app);
    browser.start(&client.client.id).await;
    let handle = browser.flow().unwrap();
    let expired = "Your sign-in has expired";
    // The handle alone (another browser, say from a shared link) finds nothing…
    let stranger = Browser::new(&app);
    assert!(stranger.get(&format!("/login?flow={handle}")).await.has(expired));
    // …nor does the browser without the handle, nor with a handle it did not get.
    assert!(browser.get("/login?flow=").await.has(expired));
    assert!(browser.get("/login?flow=AAAAAAAAAAAAAAAAAAAAAA").await.has(expired));
    assert!(browser.get(&format!("/login?flow={handle}")).await.has("name=\"password\""));
}

#[tokio::test]
async fn a_wrong_code_answers_with_a_redirect_and_a_reload_spends_nothing() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    let cleo = app.user("acme", "cleo", "pw-cleo", true);
    let (otpauth, _) = enrol_for(&app, &client.client.id, "cleo", "pw-cleo").await;

    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    app.clock.advance(30);
    let page = browser.password(&login, "cleo", "pw-cleo").await;
    let handle = browser.flow().unwrap();
    let answer = browser
        .post_with("/login/totp", &[("csrf", &page.csrf()), ("code", "000000")], ("accept", "text/html"))
        .await;
    assert_eq!(answer.status, 303, "a redirect, not a page: {}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/login"));
    assert_eq!(browser.flow().as_deref(), Some(handle.as_str()), "to the same sign-in");
    let shown = browser.get("/login").await;
    assert!(shown.has("Invalid code") && shown.has("autocomplete=\"one-time-code\""), "{}", shown.body);
    // The message is said once; reloads are plain GETs that check nothing.
    for _ in 0..10 {
        let again = browser.get("/login").await;
        assert!(again.status == 200 && !again.has("Invalid code"), "{}", again.body);
    }
    let failed = app.events_of(&cleo).iter().filter(|e| *e == "totp.failed").count();
    assert_eq!(failed, 1, "one check, however many reloads");
    // The sign-in still has its other four attempts: a right code now signs in.
    let done = browser.code(&shown, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    assert_redirected(&app, &done);
}

#[tokio::test]
async fn recovery_codes_shown_after_enrolment_survive_a_reload_until_saved() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "dora", "pw-dora", true);
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let enrol = browser.password(&login, "dora", "pw-dora").await;
    let code = oathtool(&enrol.otpauth(), app.clock_now());
    let answer = browser
        .post_with("/login/enrol", &[("csrf", &enrol.csrf()), ("code", &code)], ("accept", "text/html"))
        .await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let shown = browser.get("/login").await.codes();
    assert_eq!(shown.len(), 10);
    let reloaded = browser.get("/login").await;
    assert_eq!(reloaded.codes(), shown, "the same codes again");
    let done = browser.post("/login/codes", &[("csrf", &reloaded.csrf())]).await;
    assert_redirected(&app, &done);
}

#[tokio::test]
async fn admin_forms_answer_with_a_redirect_and_a_secret_is_shown_once_to_its_session() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.child("acme", "boss", None, "admin");
    let boss = crate::admin_pages::admin_browser(&app, "boss").await;
    let new = boss.get("/admin/users/new").await;
    let form = [("csrf", new.csrf()), ("username", "newbie".to_owned()), ("kind", "internal".to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = boss.post_with("/admin/users/new", &form, ("accept", "text/html")).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let to = answer.location.clone().unwrap();
    assert!(to.starts_with("/admin/users/created?note="), "{to}");
    // The same session sees the one-time password once; a reload has nothing to show.
    let shown = boss.get(&to).await;
    assert!(shown.has("Created newbie. Give them") && shown.has("class=\"secret\""), "{}", shown.body);
    assert_eq!(boss.get(&to).await.location.as_deref(), Some("/admin"), "shown once");

    // Another session (another administrator's) cannot read a note it did not write.
    let again = boss.post_with("/admin/users/new", &form, ("accept", "text/html")).await;
    let duplicate = again.location.clone().unwrap();
    assert!(duplicate.contains("note="), "{duplicate}");
    app.child("acme", "boss2", None, "admin");
    let other = crate::admin_pages::admin_browser(&app, "boss2").await;
    let elsewhere = other.get(&duplicate).await;
    assert!(!elsewhere.has("already taken") && !elsewhere.has("value=\"newbie\""), "{}", elsewhere.body);
    let here = boss.get(&duplicate).await;
    assert!(here.has("already taken") && here.has("value=\"newbie\""), "{}", here.body);
}

#[tokio::test]
async fn account_codes_survive_a_reload_until_saved_and_a_wrong_code_is_checked_once() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    let eve = app.user("acme", "eve", "pw-eve", true);
    let (otpauth, _) = enrol_for(&app, &client.client.id, "eve", "pw-eve").await;
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    app.clock.advance(30);
    let code_page = browser.password(&login, "eve", "pw-eve").await;
    browser.code(&code_page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    let account = browser.get("/account").await;

    let form = [("csrf", account.csrf()), ("code", "000000".to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wrong = browser.post_with("/account/recovery-codes", &form, ("accept", "text/html")).await;
    assert_eq!(wrong.status, 303);
    let to = wrong.location.unwrap();
    assert!(browser.get(&to).await.has("Invalid code"));
    assert!(!browser.get(&to).await.has("Invalid code"), "said once");
    let failed = app.events_of(&eve).iter().filter(|e| *e == "totp.failed").count();
    assert_eq!(failed, 1);

    app.clock.advance(30);
    let code = oathtool(&otpauth, app.clock_now());
    let issued = browser.post("/account/recovery-codes", &[("csrf", &account.csrf()), ("code", &code)]).await;
    let codes = issued.codes();
    assert_eq!(codes.len(), 10, "{}", issued.body);
    let saved_action =
        issued.body.split("action=\"").nth(1).unwrap().split('"').next().unwrap().replace("&#x2F;", "/");
    assert!(saved_action.starts_with("/account/codes-saved?note="), "{saved_action}");
    let note = saved_action.split("note=").nth(1).unwrap().to_owned();
    let page = format!("/account/codes?note={note}");
    assert_eq!(browser.get(&page).await.codes(), codes, "a reload shows them again");
    let done = browser.post(&saved_action, &[("csrf", &account.csrf())]).await;
    assert!(done.has("Recovery codes saved."), "{}", done.body);
    assert_eq!(browser.get(&page).await.location.as_deref(), Some("/account"), "not shown after saving");
}

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

#[tokio::test]
async fn absurd_page_numbers_get_a_page_not_a_crash() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.child("acme", "boss", None, "admin");
    let (token, _) = app.admin_token("boss").await;
    let huge = "18446744073709551615";
    for path in [format!("/users?page={huge}"), format!("/audit?page={huge}"), "/users?page=0".to_owned()] {
        let (status, body) = app.api(&token, "GET", &path, None).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    app.child("acme", "root", None, "admin");
    let browser = crate::admin_pages::admin_browser(&app, "root").await;
    for path in
        [format!("/admin?page={huge}"), format!("/admin/audit?page={huge}"), "/admin?page=0".to_owned()]
    {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
    }
    // The previous page's link keeps the search, escaped.
    let searched = browser.get("/admin?q=%3Cb%3E%26&page=3").await;
    assert!(searched.has("href=\"/admin?q=%3Cb%3E%26&amp;page=2\""), "{}", searched.body);
}
