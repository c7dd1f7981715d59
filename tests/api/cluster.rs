//! Several instances over one database and one ephemeral store (Redis when configured):
//! a login moves between instances, and a code is accepted once across them. Plus a
//! Redis of the test's own that goes away and comes back.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::browser::{Browser, REDIRECT, oathtool};
use watchword::oidc::clients::CreatedClient;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_login_started_on_one_instance_finishes_on_another() {
    let app = spawn_app().await;
    let second = app.second_instance();
    let client = app.client("acme", false, false);
    app.user("acme", "wes", "pw-wes", true);
    let (otpauth, _) = crate::login::enrol_for(&app, &client.client.id, "wes", "pw-wes").await;
    app.clock.advance(30);
    let a = Browser::new(&app);
    let login = a.start(&client.client.id).await;
    // Password on the second instance, code on the first.
    let b = a.at(&second);
    let page = b.password(&login, "wes", "pw-wes").await;
    assert!(page.has("Authentication code"), "{}", page.body);
    let done = a.code(&page, "/login/totp", &oathtool(&otpauth, crate::login_now(&app))).await;
    assert!(
        done.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)),
        "{} {}",
        done.status,
        done.body
    );
}

#[tokio::test]
async fn the_same_code_at_two_instances_at_once_is_accepted_exactly_once_fifty_times() {
    let app = spawn_app().await;
    let second = app.second_instance();
    let client = app.client("acme", false, false);
    app.user("acme", "xia", "pw-xia", true);
    let (otpauth, _) = crate::login::enrol_for(&app, &client.client.id, "xia", "pw-xia").await;
    for round in 1..=50 {
        app.clock.advance(30);
        let code = oathtool(&otpauth, crate::login_now(&app));
        let a = Browser::new(&app);
        let page_a = a.password(&a.start(&client.client.id).await, "xia", "pw-xia").await;
        let b = Browser::new(&app).at(&second);
        let start = b
            .get(&format!(
                "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=st4te",
                client.client.id,
                crate::browser::urlencode(REDIRECT)
            ))
            .await;
        assert!(start.is_sign_in_page(), "{}", start.body);
        let page_b = b.password(&start, "xia", "pw-xia").await;
        let (ra, rb) =
            tokio::join!(a.code(&page_a, "/login/totp", &code), b.code(&page_b, "/login/totp", &code));
        let accepted = [&ra, &rb]
            .iter()
            .filter(|p| p.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)))
            .count();
        assert_eq!(accepted, 1, "round {round}: {} / {}", ra.status, rb.status);
    }
}

/// A redis-server of this test's own, on a free port, keeping nothing on disk.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (.ci/run installs it)");
        let redis = Self { port, child: Some(child) };
        redis.wait_until(true);
        redis
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    }

    fn wait_until(&self, up: bool) {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() == up {
                return;
            }
            std::thread::park_timeout(Duration::from_millis(50));
        }
        panic!("redis on {} did not come {}", self.port, if up { "up" } else { "down" });
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.wait_until(false);
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A server on a Redis of the test's own, with a client and a password-only user `yan`.
async fn with_own_redis() -> (OwnRedis, u16, TestApp, CreatedClient) {
    let port = OwnRedis::free_port();
    let redis = OwnRedis::start(port);
    let app = spawn_app_with(|s| s.redis_url = Some(format!("redis://127.0.0.1:{port}"))).await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let client = app.client("acme", false, false);
    app.user("acme", "yan", "pw-yan", false);
    (redis, port, app, client)
}

#[tokio::test]
async fn logins_fail_closed_while_redis_is_down_and_recover_without_a_restart() {
    let (mut redis, port, app, client) = with_own_redis().await;

    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    redis.stop();
    let down = browser.password(&login, "yan", "pw-yan").await;
    assert_eq!(down.status, 503, "never a login, never a 500: {}", down.body);
    assert!(down.has("temporarily unavailable"));
    let ready = browser.get("/readyz").await;
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("\"ephemeral\":\"unavailable\""), "{}", ready.body);
    let again = Browser::new(&app)
        .get(&format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid",
            client.client.id,
            crate::browser::urlencode(REDIRECT)
        ))
        .await;
    assert_eq!(again.status, 503, "a new login cannot start either");

    let _redis = OwnRedis::start(port);
    // The connection manager reconnects by itself; give it a moment.
    let mut ready = browser.get("/readyz").await;
    for _ in 0..50 {
        if ready.status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        ready = browser.get("/readyz").await;
    }
    assert_eq!(ready.status, 200, "{}", ready.body);
    let fresh = Browser::new(&app);
    let login = fresh.start(&client.client.id).await;
    let done = fresh.password(&login, "yan", "pw-yan").await;
    assert!(
        done.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)),
        "{} {}",
        done.status,
        done.body
    );
}

/// Redis restarted under a running server (connections broken while idle): the very
/// next sign-in succeeds, with no failed request in between and no waiting.
#[tokio::test]
async fn the_first_login_after_a_redis_restart_succeeds() {
    let (mut redis, port, app, client) = with_own_redis().await;
    // One login, so that the connection exists before Redis goes away.
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let done = browser.password(&login, "yan", "pw-yan").await;
    assert!(done.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)), "{}", done.body);

    redis.stop();
    let _redis = OwnRedis::start(port);
    let fresh = Browser::new(&app);
    let login = fresh.start(&client.client.id).await;
    let done = fresh.password(&login, "yan", "pw-yan").await;
    assert!(
        done.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)),
        "the very next login: {} {}",
        done.status,
        done.body
    );
}

#[tokio::test]
async fn a_password_reset_while_redis_is_down_shows_the_password_rather_than_losing_it() {
    let (mut redis, _port, app, _client) = with_own_redis().await;
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let browser = crate::admin_pages::admin_browser(&app, "boss").await;
    let user_page = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(user_page.has("Reset password"), "{}", user_page.body);
    // The session and the reset need only the database; the note that would carry the
    // password to its page needs Redis, which is gone.
    redis.stop();
    let form = [("csrf", user_page.csrf()), ("confirm", "yes".to_owned())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let shown = browser.post(&format!("/admin/users/{kid}/password"), &form).await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    assert!(shown.has("Password reset for kid") && shown.has("shown only once"), "{}", shown.body);
    let password = shown.body.split("<code>").nth(1).unwrap().split("</code>").next().unwrap();
    assert!(password.len() >= 16 && app.is_temporary(&kid), "the password shown is the one set");
}
