//! `/healthz`, `/readyz`, security headers and body limits through the real server.

use std::sync::Arc;

use watchword::clock::SystemClock;
use watchword::startup::{self, Application};
use watchword::store::{DatabaseUrl, Db};

use crate::helpers::{TestDb, http_client, spawn_app, spawn_app_with, test_settings};

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;
    let health = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = app.client.get(format!("{}/readyz", app.address)).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app().await;
    let missing = app.client.get(format!("{}/no-such-page", app.address)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
    // Error pages speak the browser's language too.
    let german =
        |path: &str| app.client.get(format!("{}{path}", app.address)).header("accept-language", "de").send();
    let body = german("/no-such-page").await.unwrap().text().await.unwrap();
    assert!(body.contains("<html lang=\"de\">") && body.contains("Seite nicht gefunden"), "{body}");
    let body = german("/admin?page=abc").await.unwrap().text().await.unwrap();
    assert!(body.contains("Mit diesem Formular stimmt etwas nicht"), "{body}");
    let body = german("/authorize?client_id=nobody").await.unwrap().text().await.unwrap();
    assert!(body.contains("Dieser Anmeldelink ist ungültig") && body.contains("nicht bekannt"), "{body}");
    for path in ["/healthz", "/no-such-page"] {
        let res = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    }
}

#[tokio::test]
async fn readyz_reports_an_unreachable_database_as_503() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let settings = test_settings(dir.path(), &db);
    // Nothing listens on port 1: the pool cannot get a connection.
    let down = Db::connect(&DatabaseUrl::Postgres("postgres://postgres@127.0.0.1:1/none".into())).unwrap();
    let keyring = startup::load_keyring(&settings).unwrap();
    let app = Application::build(&settings, down, keyring, Arc::new(SystemClock)).unwrap();
    let address = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let res = http_client().get(format!("{address}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["database"], "unavailable");
    assert_eq!(body["ephemeral"], "ok");
    // The process itself is still healthy.
    let res = http_client().get(format!("{address}/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_reports_an_unreachable_redis_as_503() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let mut settings = test_settings(dir.path(), &db);
    settings.redis_url = Some("redis://127.0.0.1:1".into());
    let keyring = startup::load_keyring(&settings).unwrap();
    let store = startup::open_database(&settings).unwrap();
    let app = Application::build(&settings, store, keyring, Arc::new(SystemClock)).unwrap();
    let address = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    let res = http_client().get(format!("{address}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["ephemeral"], "unavailable");
    assert_eq!(body["database"], "ok");
}

#[tokio::test]
async fn oversized_and_malformed_input_gets_a_readable_page_not_a_500() {
    let app = spawn_app().await;
    let big = "x".repeat(64 * 1024);
    let res = app
        .client
        .post(format!("{}/login/password", app.address))
        .form(&[("csrf", "x"), ("username", big.as_str()), ("password", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("too large"));
    let res = app.client.get(format!("{}/admin?page=abc", app.address)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("Something is wrong with that form"));
    // Programs get JSON in the API's own shape, never a page.
    for (path, status, code) in
        [("/api/v1/users?page=abc", 400, "invalid_request"), ("/api/v1/nope", 404, "not_found")]
    {
        let res = app.client.get(format!("{}{path}", app.address)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
    }
    let res = app
        .client
        .post(format!("{}/login/totp", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=%zz&code=%%%")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn an_https_issuer_gets_hsts_and_secure_host_cookies() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.issuer = Some(watchword::config::Issuer::parse("https://id.example.com").unwrap())
    })
    .await;
    let res = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
    let client = app.client("acme", false, false);
    let res = app
        .client
        .get(format!(
            "{}/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid",
            app.address,
            client.client.id,
            crate::browser::urlencode(crate::browser::REDIRECT)
        ))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("__Host-ww_flow="), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let plain = spawn_app().await;
    let res = plain.client.get(format!("{}/healthz", plain.address)).send().await.unwrap();
    assert!(res.headers().get("strict-transport-security").is_none());
}

/// The value of one series (`name{labels}` exactly as exposed), 0 when absent.
fn series(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// A limiter's refusals are counted by budget (here, new sign-ins per address).
#[tokio::test]
async fn limiter_refusals_are_counted_by_budget() {
    let app = spawn_app_with(|s| s.limits.flow_starts.free = 2).await;
    let client = app.client("acme", false, false);
    let browser = crate::browser::Browser::new(&app);
    let url = format!(
        "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid",
        client.client.id,
        crate::browser::urlencode(crate::browser::REDIRECT)
    );
    let statuses: Vec<u16> = futures_util::future::join_all((0..4).map(|_| browser.get(&url)))
        .await
        .iter()
        .map(|p| p.status)
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    let text =
        app.client.get(format!("{}/metrics", app.management)).send().await.unwrap().text().await.unwrap();
    assert_eq!(series(&text, "watchword_limiter_refusals_total{budget=\"flows\"}"), 1.0, "{text}");
    assert_eq!(series(&text, "watchword_limiter_refusals_total{budget=\"pw\"}"), 0.0, "{text}");
}

#[tokio::test]
async fn metrics_and_health_are_on_the_management_listener_and_move_with_the_traffic() {
    use crate::browser::Browser;
    let app = spawn_app().await;
    let metrics = async || {
        let res = app.client.get(format!("{}/metrics", app.management)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
        res.text().await.unwrap()
    };
    let before = metrics().await;
    assert_eq!(series(&before, "watchword_hash_queue_depth"), 0.0, "{before}");
    // Never on the public port.
    let public = app.client.get(format!("{}/metrics", app.address)).send().await.unwrap();
    assert_eq!(public.status(), 404);

    // A first sign-in with enrolment, then a wrong code, then a token grant.
    let client = app.client("acme", false, false);
    let mia = app.user("acme", "mia", "pw-mia", true);
    crate::login::enrol_for(&app, &client.client.id, "mia", "pw-mia").await;
    app.clock.advance(30);
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let code_page = browser.password(&login, "mia", "pw-mia").await;
    let wrong = browser.code(&code_page, "/login/totp", "000000").await;
    assert!(wrong.has("class=\"error\""), "{}", wrong.body);
    let rp = crate::conformance::Rp::new(&app, watchword::oidc::keys::SigningAlg::Es256, false, true);
    let (status, _, _) = rp.token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200);

    let after = metrics().await;
    let tenant = app.tenant("acme").id;
    let moved = |name: &str| series(&after, name) - series(&before, name);
    assert_eq!(
        moved(&format!("watchword_logins_total{{outcome=\"success\",tenant=\"{tenant}\"}}")),
        1.0,
        "{after}"
    );
    assert_eq!(moved("watchword_factor_checks_total{factor=\"password\",outcome=\"ok\"}"), 2.0, "{after}");
    assert_eq!(moved("watchword_factor_checks_total{factor=\"enrolment\",outcome=\"ok\"}"), 1.0, "{after}");
    assert_eq!(moved("watchword_factor_checks_total{factor=\"totp\",outcome=\"wrong\"}"), 1.0, "{after}");
    assert_eq!(moved("watchword_tokens_issued_total{grant=\"client_credentials\"}"), 1.0, "{after}");
    assert!(moved("watchword_flows_started_total") >= 2.0, "{after}");
    let posts = "watchword_http_request_duration_seconds_count{method=\"POST\",route=\"/login/password\",status=\"3xx\"}";
    assert_eq!(moved(posts), 2.0, "by route pattern: {after}");
    assert!(after.contains("route=\"/login\""), "{after}");
    // Both password checks waited for a hashing worker (however briefly); the second
    // sign-in is still live, on its code page.
    assert!(moved("watchword_hash_wait_seconds_count") >= 2.0, "{after}");
    assert!(series(&after, "watchword_active_flows") >= 1.0, "{after}");

    // A user whose code step is locked: the check is refused before it is made.
    let until = app.clock_now() + 600;
    app.store
        .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
            use diesel::prelude::*;
            use watchword::store::schema::users;
            Ok(diesel::update(users::table.find(mia))
                .set(users::totp_locked_until.eq(Some(until)))
                .execute(c)?)
        })
        .unwrap();
    let again = Browser::new(&app);
    let login = again.start(&client.client.id).await;
    let code_page = again.password(&login, "mia", "pw-mia").await;
    again.code(&code_page, "/login/totp", "000000").await;
    let last = metrics().await;
    assert!(
        series(&last, "watchword_factor_checks_total{factor=\"totp\",outcome=\"locked\"}") >= 1.0,
        "{last}"
    );

    // Health as orchestrators expect it.
    for (path, status) in [("/health/live", 200), ("/health/ready", 200), ("/health/started", 200)] {
        let res = app.client.get(format!("{}{path}", app.management)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
    }
    let ready = crate::helpers::get_json(&format!("{}/health/ready", app.management)).await;
    assert_eq!(ready["database"], "ok");
}
