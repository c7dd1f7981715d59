//! Sign-ins side by side in one browser (tabs), and post/redirect/get: every form of a
//! sign-in is answered with a redirect to a page of that sign-in, so a reload never
//! sends a form again.

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
