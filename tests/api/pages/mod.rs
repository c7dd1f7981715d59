//! The pages as a product: sign-ins side by side in tabs of one browser; post/redirect/
//! get — every form answered with a redirect to the page that shows its outcome, so a
//! reload never sends a form again, and a note or secret is said once to the session
//! that wrote it; the tenant's branding on its pages, set from the CLI, /admin or the API.

use crate::browser::{Browser, oathtool};
use crate::helpers::spawn_app;
use crate::login::{assert_redirected, enrol_for};

mod look;

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
