//! Brute-force limits through the real server: password delays per username, the TOTP
//! lock per user (with its audit events), parallel guesses, and the per-IP budget.

use crate::browser::{Browser, Page, oathtool};
use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn try_password(app: &TestApp, client_id: &str, username: &str, password: &str) -> Page {
    let browser = Browser::new(app);
    let login = browser.start(client_id).await;
    browser.password(&login, username, password).await
}

#[tokio::test]
async fn wrong_passwords_past_five_wait_longer_and_longer_and_a_success_resets() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "tina", "pw-tina", false);
    let id = &client.client.id;
    for _ in 0..6 {
        assert!(try_password(&app, id, "tina", "wrong").await.has("Invalid username or password"));
    }
    let refused = try_password(&app, id, "TINA", "pw-tina").await;
    assert_eq!(refused.status, 429, "even the right password waits: {}", refused.body);
    assert!(refused.has("Too many attempts"));
    app.clock.advance(1);
    assert!(try_password(&app, id, "tina", "wrong").await.has("Invalid username or password"));
    assert_eq!(try_password(&app, id, "tina", "pw-tina").await.status, 429, "now 2 s");
    app.clock.advance(2);
    let ok = try_password(&app, id, "tina", "pw-tina").await;
    assert_eq!(ok.status, 302, "{}", ok.body);
    // Reset by the success: five free attempts again.
    for _ in 0..5 {
        assert_eq!(try_password(&app, id, "tina", "wrong").await.status, 200);
    }
    // Unknown usernames are throttled the same way.
    for _ in 0..6 {
        assert_eq!(try_password(&app, id, "nobody", "wrong").await.status, 200);
    }
    assert_eq!(try_password(&app, id, "nobody", "wrong").await.status, 429);
}

#[tokio::test]
async fn five_wrong_codes_lock_the_totp_step_for_fifteen_minutes() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    let user = app.user("acme", "uma", "pw-uma", true);
    let id = &client.client.id;
    let (otpauth, _) = crate::login::enrol_for(&app, id, "uma", "pw-uma").await;
    // Five flows, one wrong code each.
    for n in 0..5 {
        let browser = Browser::new(&app);
        let login = browser.start(id).await;
        let page = browser.password(&login, "uma", "pw-uma").await;
        let wrong = browser.code(&page, "/login/totp", "000000").await;
        assert!(wrong.has("Invalid code"), "attempt {n}: {}", wrong.body);
        // The attempt that starts the lock says so, with how long.
        assert_eq!(wrong.has("are refused for 15 minutes more"), n == 4, "attempt {n}: {}", wrong.body);
    }
    let browser = Browser::new(&app);
    let login = browser.start(id).await;
    let page = browser.password(&login, "uma", "pw-uma").await;
    // Every later attempt sees it before typing: the code page and the recovery page.
    assert!(page.has("recovery codes too") && page.has("refused for 15 minutes more"), "{}", page.body);
    assert!(browser.get("/login?recovery=1").await.has("recovery codes too"));
    app.clock.advance(30);
    let locked = browser.code(&page, "/login/totp", &oathtool(&otpauth, crate::login_now(&app))).await;
    assert_eq!(locked.status, 429, "locked even for the right code");
    // The ephemeral store loses the counter (a Redis restarted empty): the lock holds,
    // because it is kept in the database too.
    app.ephemeral.delete(&format!("attempts:totp:{user}")).await.unwrap();
    let page = browser.get("/login").await;
    app.clock.advance(30);
    let still = browser.code(&page, "/login/totp", &oathtool(&otpauth, crate::login_now(&app))).await;
    assert_eq!(still.status, 429, "{}", still.body);
    let events = app.events_of(&user);
    assert!(
        events.iter().any(|e| e == "totp.locked")
            && events.iter().any(|e| e == "password.likely_compromised"),
        "{events:?}"
    );
    app.clock.advance(900);
    // After the lock, a fresh flow signs in.
    let browser = Browser::new(&app);
    let login = browser.start(id).await;
    let page = browser.password(&login, "uma", "pw-uma").await;
    app.clock.advance(30);
    let ok = browser.code(&page, "/login/totp", &oathtool(&otpauth, crate::login_now(&app))).await;
    assert_eq!(ok.status, 302, "{}", ok.body);
}

#[tokio::test]
async fn twenty_parallel_wrong_codes_get_at_most_five_guesses() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "vic", "pw-vic", true);
    let id = client.client.id.clone();
    crate::login::enrol_for(&app, &id, "vic", "pw-vic").await;
    let mut pages = Vec::new();
    for _ in 0..20 {
        let browser = Browser::new(&app);
        let login = browser.start(&id).await;
        let page = browser.password(&login, "vic", "pw-vic").await;
        pages.push((browser, page));
    }
    let guesses = pages.iter().enumerate().map(|(i, (browser, page))| {
        let code = format!("{:06}", 100_000 + i);
        async move { browser.code(page, "/login/totp", &code).await }
    });
    let results = futures_join_all(guesses).await;
    let checked = results.iter().filter(|p| p.has("Invalid code")).count();
    let refused = results.iter().filter(|p| p.status == 429).count();
    assert!(checked <= 5, "{checked} guesses were checked");
    assert_eq!(checked + refused, 20);
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future<Output = Page>>(
    futures: impl Iterator<Item = F>,
) -> Vec<Page> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut done: Vec<Option<Page>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(page) => done[i] = Some(page),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    done.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn one_address_gets_a_budget_of_failures_across_usernames() {
    let app = spawn_app_with(|s| {
        s.limits.password_ip.free = 2;
    })
    .await;
    let client = app.client("acme", false, false);
    let id = &client.client.id;
    for name in ["a1", "a2", "a3"] {
        assert_eq!(try_password(&app, id, name, "wrong").await.status, 200, "{name}");
    }
    let refused = try_password(&app, id, "a4", "wrong").await;
    assert_eq!(refused.status, 429);
    app.clock.advance(900);
    assert_eq!(try_password(&app, id, "a5", "wrong").await.status, 200, "a new window");
}

/// The address recorded for the last `password.failed` event.
fn last_failure_ip(app: &TestApp) -> Option<String> {
    use diesel::prelude::*;
    use watchword::store::schema::audit_events;
    app.store
        .run_blocking(|c| -> Result<Option<String>, watchword::store::StoreError> {
            Ok(audit_events::table
                .filter(audit_events::event.eq("password.failed"))
                .order(audit_events::id.desc())
                .select(audit_events::ip)
                .first(c)?)
        })
        .unwrap()
}

/// How many `password.failed` events were recorded from `ip`.
fn failures_from(app: &TestApp, ip: &str) -> i64 {
    use diesel::prelude::*;
    use watchword::store::schema::audit_events;
    let ip = ip.to_owned();
    app.store
        .run_blocking(move |c| -> Result<i64, watchword::store::StoreError> {
            Ok(audit_events::table
                .filter(audit_events::event.eq("password.failed"))
                .filter(audit_events::ip.eq(ip))
                .count()
                .get_result(c)?)
        })
        .unwrap()
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    for trusted in [false, true] {
        let app = spawn_app_with(|s| s.trust_forwarded = trusted).await;
        let client = app.client("acme", false, false);
        let browser = Browser::new(&app);
        let login = browser.start(&client.client.id).await;
        let form = [("csrf", login.csrf()), ("username", "nobody".into()), ("password", "wrong".into())];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // The client wrote the first entry; our proxy appended the last (the address it saw).
        let page = browser
            .post_with("/login/password", &form, ("x-forwarded-for", "203.0.113.9, 198.51.100.7"))
            .await;
        assert_eq!(page.status, 303, "back to the sign-in page, saying so");
        let expected = if trusted { "198.51.100.7" } else { "127.0.0.1" };
        assert_eq!(last_failure_ip(&app).as_deref(), Some(expected), "trusted={trusted}");
        // A header that does not parse: the socket address, and the step is checked as usual.
        for garbage in ["203.0.113.9, not-an-address", "", ",", "999.1.1.1"] {
            let login = browser.start(&client.client.id).await;
            let csrf = login.csrf();
            let form = [("csrf", csrf.as_str()), ("username", "nobody"), ("password", "wrong")];
            let before = failures_from(&app, "127.0.0.1");
            let page = browser.post_with("/login/password", &form, ("x-forwarded-for", garbage)).await;
            assert!(page.status == 303 || page.status == 429, "{garbage:?}: {} {}", page.status, page.body);
            let next = browser.get("/login").await;
            assert!(
                next.has("name=\"password\"") && !next.has("Authentication code"),
                "never past the password"
            );
            if page.status == 303 {
                assert_eq!(failures_from(&app, "127.0.0.1"), before + 1, "{garbage:?}");
            }
        }
    }
}

/// One password attempt for `username` in a fresh sign-in at the account page.
async fn attempt(browser: &Browser, username: &str, password: &str) -> crate::browser::Page {
    let start = browser.get("/account?tenant=acme").await;
    assert_eq!(start.location.as_deref(), Some("/login"), "a new sign-in: {} {}", start.status, start.body);
    let login = browser.get("/login").await;
    let csrf = login.csrf();
    browser.post("/login/password", &[("csrf", &csrf), ("username", username), ("password", password)]).await
}

/// A browser that signed in as `username` once (and signed out again): it holds a device cookie.
async fn known_browser(app: &TestApp, username: &str, password: &str) -> Browser {
    let browser = Browser::new(app);
    let done = attempt(&browser, username, password).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    sign_out(&browser).await;
    browser
}

async fn sign_out(browser: &Browser) {
    let page = browser.get("/account").await;
    let out = browser.post("/account/logout", &[("csrf", &page.csrf())]).await;
    assert!(out.has("You are signed out"), "{}", out.body);
}

#[tokio::test]
async fn a_stranger_cannot_lock_the_owner_out_of_a_browser_it_signed_in_from() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "owner", "owners-password", false);
    let owners = known_browser(&app, "owner", "owners-password").await;
    // A stranger guesses until it is held off.
    let stranger = Browser::new(&app);
    let mut held_off = false;
    for _ in 0..30 {
        let page = attempt(&stranger, "owner", "a guess").await;
        assert!(page.status == 200 || page.status == 429, "{} {}", page.status, page.body);
        held_off |= page.status == 429;
    }
    assert!(held_off, "the stranger is slowed down");
    // An unknown browser at the same address waits too (the shared budget), but the
    // owner's own browser signs in at once.
    assert_eq!(attempt(&Browser::new(&app), "owner", "owners-password").await.status, 429);
    let done = attempt(&owners, "owner", "owners-password").await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{} {}", done.status, done.body);
    sign_out(&owners).await;
    // The known browser's own failures have a budget of their own, and it is finite.
    let mut own_held = false;
    for _ in 0..10 {
        own_held |= attempt(&owners, "owner", "a typo").await.status == 429;
    }
    assert!(own_held, "a stolen device cookie does not buy unlimited guesses");
}

#[tokio::test]
async fn one_address_does_not_block_a_browser_known_to_the_user_behind_it() {
    let app = spawn_app_with(|s| s.limits.password_ip.free = 3).await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "owner", "owners-password", false);
    let owners = known_browser(&app, "owner", "owners-password").await;
    // Someone behind the same address spends the address's budget on other usernames.
    let neighbour = Browser::new(&app);
    let answers: Vec<u16> = {
        let mut all = Vec::new();
        for n in 0..6 {
            all.push(attempt(&neighbour, &format!("someone{n}"), "wrong").await.status);
        }
        all
    };
    assert_eq!(answers.last(), Some(&429), "{answers:?}");
    assert_eq!(attempt(&Browser::new(&app), "owner", "owners-password").await.status, 429);
    let done = attempt(&owners, "owner", "owners-password").await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{} {}", done.status, done.body);
    sign_out(&owners).await;
    // A device cookie names one user: for another username it counts for nothing.
    assert_eq!(attempt(&owners, "someone0", "wrong").await.status, 429);
}
