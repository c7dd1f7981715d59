//! The password-then-TOTP login through the real server, with `oathtool` computing the
//! codes: enrolment at first login, codes, replay, skew, recovery codes, policies,
//! generic errors, CSRF, and the per-flow limit.

use crate::browser::{Browser, Page, REDIRECT, oathtool, query};
use crate::helpers::{T0, TestApp, spawn_app};

/// A finished login's redirect: code, state and iss back at the client.
pub fn assert_redirected(app: &TestApp, page: &Page) -> String {
    assert_eq!(page.status, 302, "{}", page.body);
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let q = query(&location);
    assert_eq!(q["state"], "st4te");
    assert_eq!(q["iss"], app.address);
    q["code"].clone()
}

/// First login of a user who must use TOTP: enrol, save codes, land at the client.
/// Returns the `otpauth://` URI and the recovery codes.
pub async fn enrol_for(
    app: &TestApp,
    client_id: &str,
    username: &str,
    password: &str,
) -> (String, Vec<String>) {
    enrol(app, client_id, username, password).await
}

async fn enrol(app: &TestApp, client_id: &str, username: &str, password: &str) -> (String, Vec<String>) {
    let browser = Browser::new(app);
    let login = browser.start(client_id).await;
    let enrol = browser.password(&login, username, password).await;
    assert!(enrol.has("Set up your authenticator app"), "{}", enrol.body);
    let otpauth = enrol.otpauth();
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&otpauth, app.clock_now())).await;
    assert_eq!(codes.status, 200, "{}", codes.body);
    let recovery = codes.codes();
    assert_eq!(recovery.len(), 10, "{}", codes.body);
    let done = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    let code = assert_redirected(app, &done);
    assert_eq!(app.amr_of_code(&code), "pwd otp mfa");
    (otpauth, recovery)
}

impl TestApp {
    pub fn clock_now(&self) -> i64 {
        use watchword::clock::Clock;
        self.clock.now()
    }
}

/// Signs in up to the code page.
async fn to_code_page(app: &TestApp, client_id: &str, username: &str, password: &str) -> (Browser, Page) {
    let browser = Browser::new(app);
    let login = browser.start(client_id).await;
    let page = browser.password(&login, username, password).await;
    assert!(page.has("Authentication code") && page.has("autocomplete=\"one-time-code\""), "{}", page.body);
    (browser, page)
}

#[tokio::test]
async fn first_login_enrols_then_codes_are_fresh_once_and_recovery_codes_work_once() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    let alice = app.user("acme", "alice", "correct horse", true);
    let client_id = client.client.id.as_str();

    // The enrolment page: QR with an accessible name, grouped key, otpauth link.
    let browser = Browser::new(&app);
    let login = browser.start(client_id).await;
    assert!(login.has("name=\"username\"") && login.has("autocomplete=\"username\""));
    assert!(login.has("name=\"password\"") && login.has("autocomplete=\"current-password\""));
    assert!(
        login.has(">Username</label>") && login.has(">Password</label>") && login.has(">Sign in</button>")
    );
    assert!(
        login.has("<h1>Sign in to Test RP</h1>") || login.has("Sign in to Test RP</h1>"),
        "the application's name: {}",
        login.body
    );
    let enrol_page = browser.password(&login, "alice", "correct horse").await;
    assert!(
        enrol_page.has("<svg role=\"img\" aria-label=\"QR code to add alice at acme"),
        "{}",
        enrol_page.body
    );
    assert!(enrol_page.has("class=\"secret\""));
    let otpauth = enrol_page.otpauth();
    let q = query(&otpauth);
    assert_eq!((q["algorithm"].as_str(), q["digits"].as_str(), q["period"].as_str()), ("SHA1", "6", "30"));
    assert_eq!(q["secret"].len(), 32, "160-bit secret");
    // The grouped key on the page is the same secret.
    let grouped: String = q["secret"]
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(enrol_page.has(&grouped));

    // A wrong code keeps the credential pending; the right one activates it.
    let wrong = browser.code(&enrol_page, "/login/enrol", "000000").await;
    assert!(wrong.has("Invalid code"), "{}", wrong.body);
    let codes_page = browser.code(&wrong, "/login/enrol", &oathtool(&otpauth, T0)).await;
    let recovery = codes_page.codes();
    assert_eq!(recovery.len(), 10);
    assert!(codes_page.has("I have saved these"));
    let done = browser.post("/login/codes", &[("csrf", &codes_page.csrf())]).await;
    let code = assert_redirected(&app, &done);
    assert_eq!(app.amr_of_code(&code), "pwd otp mfa");

    // The same code again (same step) is refused in a new login: replay.
    app.clock.advance(5);
    let (browser, page) = to_code_page(&app, client_id, "alice", "correct horse").await;
    let replay = browser.code(&page, "/login/totp", &oathtool(&otpauth, T0)).await;
    assert!(replay.has("That code was already used"), "{}", replay.body);
    // The next step's code, typed with a space, is inside the skew window.
    let next = oathtool(&otpauth, T0 + 30);
    let spaced = format!("{} {}", &next[..3], &next[3..]);
    let ok = browser.code(&replay, "/login/totp", &spaced).await;
    let code = assert_redirected(&app, &ok);
    assert_eq!(app.amr_of_code(&code), "pwd otp mfa");

    // A code two steps ahead is outside the window.
    let (browser, page) = to_code_page(&app, client_id, "alice", "correct horse").await;
    let far = browser.code(&page, "/login/totp", &oathtool(&otpauth, T0 + 90)).await;
    assert!(far.has("Invalid code"));

    // A recovery code works once, and its amr has no otp.
    let recovery_page = browser.get("/login?recovery=1").await;
    assert!(recovery_page.has("Recovery code"), "{}", recovery_page.body);
    let used = browser.code(&recovery_page, "/login/recovery", &recovery[0].to_uppercase()).await;
    let code = assert_redirected(&app, &used);
    assert_eq!(app.amr_of_code(&code), "pwd mfa");
    let (browser, _) = to_code_page(&app, client_id, "alice", "correct horse").await;
    let again = browser.get("/login?recovery=1").await;
    let refused = browser.code(&again, "/login/recovery", &recovery[0]).await;
    assert!(refused.has("Invalid code"), "{}", refused.body);

    let events = app.events_of(&alice);
    for event in [
        "password.ok",
        "totp.enrolment_started",
        "totp.activated",
        "totp.ok",
        "totp.failed",
        "totp.replay_blocked",
        "recovery_code.used",
        "recovery_codes.generated",
    ] {
        assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
    }
}

#[tokio::test]
async fn a_pending_secret_comes_back_until_it_is_confirmed() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "bob", "pw-bob", true);
    let first = {
        let browser = Browser::new(&app);
        let login = browser.start(&client.client.id).await;
        browser.password(&login, "bob", "pw-bob").await.otpauth()
    };
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let again = browser.password(&login, "bob", "pw-bob").await;
    assert_eq!(again.otpauth(), first, "the same pending secret at every login");
    // The enrolment page reloads with the same secret too.
    assert_eq!(browser.get("/login").await.otpauth(), first);
}

#[tokio::test]
async fn sha256_with_8_digits_and_60_second_steps_work_end_to_end() {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.totp_algorithm = "SHA256".into();
        t.totp_digits = 8;
        t.totp_period = 60;
    });
    let client = app.client("acme", false, false);
    app.user("acme", "carol", "pw-carol", true);
    let (otpauth, _) = enrol(&app, &client.client.id, "carol", "pw-carol").await;
    let q = query(&otpauth);
    assert_eq!((q["algorithm"].as_str(), q["digits"].as_str(), q["period"].as_str()), ("SHA256", "8", "60"));
    assert_eq!(q["secret"].len(), 52, "256-bit secret");
    app.clock.advance(60);
    let (browser, page) = to_code_page(&app, &client.client.id, "carol", "pw-carol").await;
    assert!(page.has("8-digit"), "{}", page.body);
    let code = oathtool(&otpauth, app.clock_now());
    let done = browser.code(&page, "/login/totp", &format!("{}-{}", &code[..4], &code[4..])).await;
    assert_redirected(&app, &done);
}

#[tokio::test]
async fn sha512_policy_issues_512_bit_secrets() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.totp_algorithm = "SHA512".into());
    let client = app.client("acme", false, false);
    app.user("acme", "dan", "pw-dan", true);
    let (otpauth, _) = enrol(&app, &client.client.id, "dan", "pw-dan").await;
    assert_eq!(query(&otpauth)["secret"].len(), 103, "512-bit secret");
}

#[tokio::test]
async fn failures_are_generic_and_forms_need_their_csrf_token() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "erin", "pw-erin", false);
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;

    let wrong_password = browser.password(&login, "erin", "nope").await;
    let unknown_user = browser.password(&wrong_password, "mallory", "nope").await;
    for page in [&wrong_password, &unknown_user] {
        assert_eq!(page.status, 200);
        assert!(page.has("Invalid username or password"), "{}", page.body);
    }
    // The two pages differ only in the echoed username.
    assert_eq!(
        wrong_password.body.replace("value=\"erin\"", "").replace(&wrong_password.csrf(), ""),
        unknown_user.body.replace("value=\"mallory\"", "").replace(&unknown_user.csrf(), "")
    );

    let missing = browser.post("/login/password", &[("username", "erin"), ("password", "pw-erin")]).await;
    assert_eq!(missing.status, 403);
    assert!(missing.has("This form has expired"), "{}", missing.body);
    let forged = browser
        .post("/login/password", &[("csrf", "forged"), ("username", "erin"), ("password", "pw-erin")])
        .await;
    assert_eq!(forged.status, 403);

    // Without a flow, a readable page rather than an error.
    let stranger = Browser::new(&app);
    let no_flow = stranger
        .post("/login/password", &[("csrf", "x"), ("username", "erin"), ("password", "pw-erin")])
        .await;
    assert_eq!(no_flow.status, 400);
    assert!(no_flow.has("Your sign-in has expired"));

    // A password-only user signs in with amr pwd.
    let ok = browser.password(&unknown_user, "ERIN", "pw-erin").await;
    let code = assert_redirected(&app, &ok);
    assert_eq!(app.amr_of_code(&code), "pwd");
}

#[tokio::test]
async fn five_wrong_codes_end_the_flow() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "frank", "pw-frank", true);
    enrol(&app, &client.client.id, "frank", "pw-frank").await;
    let (browser, mut page) = to_code_page(&app, &client.client.id, "frank", "pw-frank").await;
    for _ in 0..4 {
        page = browser.code(&page, "/login/totp", "111111").await;
        assert!(page.has("Invalid code"));
    }
    let last = browser.code(&page, "/login/totp", "111111").await;
    assert_eq!(last.status, 403);
    assert!(last.has("Too many attempts"), "{}", last.body);
    assert!(last.has("refused for 15 minutes more"), "the lock and its length: {}", last.body);
    assert!(last.has("<a href=\"/account\">"), "a way onward: {}", last.body);
    // A reload says the same (the page is a GET after a redirect), and nothing goes on.
    let after = browser.get("/login").await;
    assert!(after.status == 403 && after.has("refused for 15 minutes more"), "{}", after.body);
    let more = browser.code(&page, "/login/totp", "111111").await;
    assert!(more.status == 403 && more.has("Too many attempts"), "{}", more.body);
}

#[tokio::test]
async fn prompted_new_users_may_set_up_now_or_later_and_clients_may_require_mfa() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "gina", "pw-gina", false);
    app.user("acme", "hank", "pw-hank", false);
    app.user("acme", "ivan", "pw-ivan", false);

    // Later: signed in with the password alone.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let offer = browser.password(&login, "gina", "pw-gina").await;
    assert!(offer.has("Set up now") && offer.has("Later"), "{}", offer.body);
    let later = browser.post("/login/offer", &[("csrf", &offer.csrf()), ("choice", "later")]).await;
    assert_eq!(app.amr_of_code(&assert_redirected(&app, &later)), "pwd");
    // No longer a new user: no prompt on the next login.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let direct = browser.password(&login, "gina", "pw-gina").await;
    assert_redirected(&app, &direct);

    // Set up now: the enrolment page, which can still be postponed.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let offer = browser.password(&login, "hank", "pw-hank").await;
    let enrol = browser.post("/login/offer", &[("csrf", &offer.csrf()), ("choice", "now")]).await;
    assert!(enrol.has("Set up your authenticator app") && enrol.has(">Later</button>"), "{}", enrol.body);

    // A client that requires MFA makes enrolment mandatory, with no "Later".
    let strict = app.client("acme", false, true);
    let browser = Browser::new(&app);
    let login = browser.start(&strict.client.id).await;
    let enrol = browser.password(&login, "ivan", "pw-ivan").await;
    assert!(enrol.has("Set up your authenticator app") && !enrol.has(">Later</button>"), "{}", enrol.body);
    let refused = browser.post("/login/later", &[("csrf", &enrol.csrf())]).await;
    assert!(refused.has("Set up your authenticator app"), "Later is not a way out when required");
}

#[tokio::test]
async fn the_same_code_in_two_concurrent_logins_is_accepted_once() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "jane", "pw-jane", true);
    let (otpauth, _) = enrol(&app, &client.client.id, "jane", "pw-jane").await;
    for round in 1..=5 {
        app.clock.advance(30);
        let code = oathtool(&otpauth, app.clock_now());
        let (a, page_a) = to_code_page(&app, &client.client.id, "jane", "pw-jane").await;
        let (b, page_b) = to_code_page(&app, &client.client.id, "jane", "pw-jane").await;
        let (ra, rb) =
            tokio::join!(a.code(&page_a, "/login/totp", &code), b.code(&page_b, "/login/totp", &code));
        let accepted = [&ra, &rb]
            .iter()
            .filter(|p| p.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)))
            .count();
        assert_eq!(accepted, 1, "round {round}: {} / {}", ra.status, rb.status);
    }
}

#[tokio::test]
async fn authorize_refuses_unknown_clients_and_redirect_uris_with_a_page() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    let browser = Browser::new(&app);
    let unknown = browser.get("/authorize?client_id=nope&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid").await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.location.is_none());
    let id = &client.client.id;
    for uri in [
        "https%3A%2F%2Fevil.example%2Fcb",
        "https%3A%2F%2Frp.example%2Fcb%2F",
        "https%3A%2F%2Frp.example%2Fcb%3Fx%3D1",
        "",
    ] {
        let page = browser
            .get(&format!("/authorize?client_id={id}&redirect_uri={uri}&response_type=code&scope=openid"))
            .await;
        assert_eq!(page.status, 400, "{uri}");
        assert!(page.location.is_none(), "never a redirect to an unregistered URI");
        let said = if uri.is_empty() { "redirect_uri is missing" } else { "has not registered" };
        assert!(page.has(said), "{uri}: {}", page.body);
    }
    let without = browser.get(&format!("/authorize?client_id={id}&response_type=code&scope=openid")).await;
    assert!(without.status == 400 && without.has("redirect_uri is missing"), "{}", without.body);
    let token = browser
        .get(&format!("/authorize?client_id={id}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=token&scope=openid&state=s1"))
        .await;
    let q = query(token.location.as_deref().unwrap());
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("unsupported_response_type", "s1"));
    assert_eq!(q["iss"], app.address);

    let public = app.client("acme", true, false);
    let no_pkce = browser
        .get(&format!("/authorize?client_id={}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code&scope=openid", public.client.id))
        .await;
    assert_eq!(query(no_pkce.location.as_deref().unwrap())["error"], "invalid_request");
}

#[tokio::test]
async fn the_code_page_says_who_is_signing_in_and_not_you_starts_again() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "alice", "correct horse", true);
    app.user("acme", "bob", "battery staple", true);
    let (_, codes) = enrol(&app, &client.client.id, "bob", "battery staple").await;
    assert_eq!(codes.len(), 10);
    // alice's first sign-in: her recovery codes can be downloaded as a file.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let enrol_page = browser.password(&login, "alice", "correct horse").await;
    let shown =
        browser.code(&enrol_page, "/login/enrol", &oathtool(&enrol_page.otpauth(), app.clock_now())).await;
    let first = &shown.codes()[0];
    assert!(
        shown.has("download=\"watchword-recovery-codes.txt\"") && shown.has(&format!("%0A{first}%0A")),
        "{}",
        shown.body
    );

    // bob's sign-in, started by someone at alice's desk: "not you?" goes back to the password.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let code_page = browser.password(&login, "bob", "battery staple").await;
    assert!(code_page.has("Signing in as <strong>bob</strong>"), "{}", code_page.body);
    let login = browser.post("/login/not-me", &[("csrf", &code_page.csrf())]).await;
    assert!(login.has("name=\"password\""), "{}", login.body);
    let again = browser.password(&login, "alice", "correct horse").await;
    assert!(again.has("Signing in as <strong>alice</strong>"), "{}", again.body);
    // Not from other steps: a forged post changes nothing.
    let forged = browser.post("/login/not-me", &[("csrf", "wrong")]).await;
    assert_ne!(forged.location.as_deref(), Some("/login"));
}
