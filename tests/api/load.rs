//! Under load and abuse (outcomes, never timings): many logins and refresh chains at
//! once, the same refresh token raced, a full hashing queue, the CLI writing beside a
//! running server, floods of new sign-ins, NUL bytes, and a rotation whose answer was
//! lost in a crash.

use std::collections::HashMap;

use serde_json::Value;
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT};
use crate::conformance::{Rp, app_with_user, code_of, header, sign_in};
use crate::helpers::{Cli, TestApp, http_client, spawn_app, spawn_app_with};

fn families(app: &TestApp) -> HashMap<String, (usize, bool)> {
    families_in(&app.store)
}

/// Per refresh-token family: how many tokens are live (neither rotated nor revoked)
/// and whether any was revoked.
pub(crate) fn families_in(store: &watchword::store::Db) -> HashMap<String, (usize, bool)> {
    use diesel::prelude::*;
    use watchword::store::schema::refresh_tokens;
    let rows: Vec<(String, Option<i64>, Option<i64>)> = store
        .run_blocking(|c| -> Result<_, watchword::store::StoreError> {
            Ok(refresh_tokens::table
                .select((refresh_tokens::family_id, refresh_tokens::rotated_at, refresh_tokens::revoked_at))
                .load(c)?)
        })
        .unwrap();
    let mut out: HashMap<String, (usize, bool)> = HashMap::new();
    for (family, rotated, revoked) in rows {
        let entry = out.entry(family).or_default();
        if rotated.is_none() && revoked.is_none() {
            entry.0 += 1;
        }
        entry.1 |= revoked.is_some();
    }
    out
}

async fn refresh(rp: &Rp, app: &TestApp, token: &str) -> (u16, Value) {
    refresh_at(rp, &app.address, token).await
}

async fn refresh_at(rp: &Rp, address: &str, token: &str) -> (u16, Value) {
    let res = http_client()
        .post(format!("{address}/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn count_events(app: &TestApp, event: &str) -> i64 {
    use diesel::prelude::*;
    use watchword::store::schema::audit_events;
    let event = event.to_owned();
    app.store
        .run_blocking(|c| -> Result<i64, watchword::store::StoreError> {
            Ok(audit_events::table.filter(audit_events::event.eq(event)).count().get_result(c)?)
        })
        .unwrap()
}

/// 64 users sign in at once (password, code exchange with PKCE), then each rotates its
/// refresh token five times, all chains at once: every answer is a success.
#[tokio::test]
async fn sixty_four_concurrent_logins_and_refresh_chains_get_no_5xx() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    for n in 0..64 {
        app.user("acme", &format!("user{n}"), &format!("pw-user{n}"), false);
    }
    let chains = (0..64).map(|n| {
        let (app, rp) = (&app, &rp);
        async move {
            let mut statuses = Vec::new();
            let browser = Browser::new(app);
            browser.get(&rp.url("")).await;
            let signed_in = sign_in(&browser, &format!("user{n}"), &format!("pw-user{n}")).await;
            statuses.push(signed_in.status);
            if signed_in.status != 302 {
                return statuses;
            }
            let (status, tokens) = rp.exchange(app, &code_of(&signed_in)).await;
            statuses.push(status);
            let Some(mut token) = tokens["refresh_token"].as_str().map(str::to_owned) else {
                return statuses;
            };
            assert_eq!(header(tokens["access_token"].as_str().unwrap())["alg"], "ES256");
            for _ in 0..5 {
                let (status, body) = refresh(rp, app, &token).await;
                statuses.push(status);
                match body["refresh_token"].as_str() {
                    Some(next) => token = next.to_owned(),
                    None => break,
                }
            }
            statuses
        }
    });
    let statuses: Vec<Vec<u16>> = futures_util::future::join_all(chains).await;
    let all: Vec<u16> = statuses.iter().flatten().copied().collect();
    assert!(all.iter().all(|s| *s < 500), "no 5xx: {all:?}");
    assert!(
        statuses.iter().all(|s| s.len() == 7 && s[0] == 302 && s[1..].iter().all(|s| *s == 200)),
        "every login and every rotation succeeds: {statuses:?}"
    );
    let families = families(&app);
    assert_eq!(families.len(), 64);
    assert!(families.values().all(|(live, revoked)| *live == 1 && !revoked), "{families:?}");
}

/// One refresh token sent four times at once, ten times over: exactly one answer wins,
/// the others are refused as a reuse and the family ends (its winner too).
#[tokio::test]
async fn a_refresh_token_raced_four_ways_is_spent_once_and_the_reuse_ends_the_family() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::EdDsa, false, true);
    for _ in 0..10 {
        let browser = Browser::new(&app);
        browser.get(&rp.url("")).await;
        let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
        let token = tokens["refresh_token"].as_str().unwrap().to_owned();
        let answers = futures_util::future::join_all((0..4).map(|_| refresh(&rp, &app, &token))).await;
        assert!(answers.iter().all(|(s, _)| *s < 500), "{answers:?}");
        let winners: Vec<&Value> = answers.iter().filter(|(s, _)| *s == 200).map(|(_, b)| b).collect();
        assert_eq!(winners.len(), 1, "{answers:?}");
        assert!(
            answers
                .iter()
                .filter(|(s, _)| *s != 200)
                .all(|(s, b)| *s == 400 && b["error"] == "invalid_grant")
        );
        let (status, _) = refresh(&rp, &app, winners[0]["refresh_token"].as_str().unwrap()).await;
        assert_eq!(status, 400, "the reuse revoked the family, the winner's token with it");
    }
    assert!(families(&app).values().all(|(live, revoked)| *live == 0 && *revoked));
}

/// A full hashing queue answers 503 with `Retry-After` before hashing, never a 500;
/// the refusals are reported once in the audit log.
#[tokio::test]
async fn a_full_hashing_queue_answers_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.hash_workers = 1;
        s.hash_queue = 1;
    })
    .await;
    let client = app.client("acme", false, false);
    let mut browsers = Vec::new();
    for _ in 0..24 {
        let browser = Browser::new(&app);
        let login = browser.start(&client.client.id).await;
        browsers.push((browser, login));
    }
    let attempts = browsers.iter().enumerate().map(|(n, (browser, login))| async move {
        let page = browser
            .post(
                "/login/password",
                &[("csrf", &login.csrf()), ("username", &format!("nobody{n}")), ("password", "wrong")],
            )
            .await;
        (page.status, page.retry_after, page.body)
    });
    let answers = futures_util::future::join_all(attempts).await;
    assert!(
        answers.iter().all(|(s, _, _)| *s == 200 || *s == 503),
        "{:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let busy: Vec<_> = answers.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(!busy.is_empty(), "24 hashes at once against one worker and a queue of one");
    assert!(busy.iter().all(|(_, retry, body)| retry.is_some() && body.contains("try again")));
    assert!(
        answers
            .iter()
            .filter(|(s, _, _)| *s == 200)
            .all(|(_, _, b)| b.contains("Invalid username or password"))
    );
    assert_eq!(
        count_events(&app, "password.hashing_overloaded"),
        1,
        "one report a minute, not one a request"
    );
}

/// Two `watchword user create` processes write while 16 logins run: none fails.
#[tokio::test]
async fn the_cli_writes_beside_a_running_server_without_failing() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    for n in 0..16 {
        app.user("acme", &format!("user{n}"), &format!("pw-user{n}"), false);
    }
    let cli = Cli { data_dir: app.dir.path(), database_url: &app.db.url };
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (dir, url) = (app.dir.path().to_path_buf(), app.db.url.clone());
            std::thread::spawn(move || {
                let cli = Cli { data_dir: &dir, database_url: &url };
                (0..8)
                    .map(|n| {
                        let name = format!("cli{w}x{n}");
                        let out = cli.run(&["user", "create", "--tenant", "acme", "--username", &name]);
                        (name, out.status.success(), crate::helpers::stderr(&out))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let logins = (0..16).map(|n| {
        let (app, rp) = (&app, &rp);
        async move {
            let browser = Browser::new(app);
            browser.get(&rp.url("")).await;
            let signed_in = sign_in(&browser, &format!("user{n}"), &format!("pw-user{n}")).await;
            rp.exchange(app, &code_of(&signed_in)).await.0
        }
    });
    let statuses = futures_util::future::join_all(logins).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    for writer in writers {
        for (name, ok, stderr) in writer.join().unwrap() {
            assert!(ok, "user create {name} failed: {stderr}");
        }
    }
    let listed = cli.json(&["user", "list", "--tenant", "acme"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(1 + 16 + 16), "{listed}");
}

/// New sign-ins are budgeted per client address: past it, a readable 429.
#[tokio::test]
async fn new_sign_ins_are_limited_per_address() {
    // The fifth start spends the budget (as with every budget here); the sixth is refused.
    let app = spawn_app_with(|s| s.limits.flow_starts.free = 4).await;
    let client = app.client("acme", false, false);
    let url = format!(
        "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid",
        client.client.id,
        crate::browser::urlencode(REDIRECT)
    );
    for _ in 0..5 {
        assert!(Browser::new(&app).get(&url).await.is_sign_in_page());
    }
    let refused = Browser::new(&app).get(&url).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.has("Too many attempts"));
}

/// NUL characters never reach the database: a 400 everywhere, on both backends.
#[tokio::test]
async fn nul_characters_get_a_400_not_a_500() {
    let app = app_with_user().await;
    let client = app.client("acme", false, false);
    let browser = Browser::new(&app);
    let login = browser.start(&client.client.id).await;
    let page = browser
        .post("/login/password", &[("csrf", &login.csrf()), ("username", "quinn\0"), ("password", "pw")])
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert!(page.has("not allowed"));
    let page = browser.get("/authorize?client_id=x%00&redirect_uri=y").await;
    assert_eq!(page.status, 400);
    // In a path parameter too (decoded by the router, after the middleware has looked).
    let page = browser.get("/admin/users/x%00y").await;
    assert_eq!(page.status, 400, "{}", page.body);
    let token = http_client()
        .post(format!("{}/token", app.address))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", "a\0b"), ("client_id", "c\0")])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 400);
    assert_eq!(token.json::<Value>().await.unwrap()["error"], "invalid_request");
    let api = http_client()
        .post(format!("{}/api/v1/users", app.address))
        .header("content-type", "application/json")
        .body(r#"{"username":"x\u0000y"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 400);
    let api: Value = api.json().await.unwrap();
    assert_eq!(api["error"]["code"], "invalid_request", "the API's own error shape: {api}");
    // The same inputs without NUL still work.
    let ok = browser.password(&browser.get("/login").await, "quinn", "pw-quinn").await;
    assert_eq!(ok.status, 302, "{}", ok.body);
}

/// A rotation committed by a process that then died (its answer never sent): the
/// client's old token still works once at the restarted server, the unused successor
/// is retired, and the family stays whole. At the same process it is a reuse.
#[tokio::test]
async fn a_refresh_answer_lost_in_a_crash_does_not_end_the_family() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, lost) = refresh(&rp, &app, &old).await;
    assert_eq!(status, 200);
    let lost = lost["refresh_token"].as_str().unwrap().to_owned();

    // "After the crash": a server process started later, over the same database.
    app.clock.advance(5);
    let restarted = app.second_instance();
    let (status, again) = refresh_at(&rp, &restarted, &old).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(count_events(&app, "oauth.refresh_answer_lost"), 1);
    let (live, revoked) = families(&app).into_values().next().unwrap();
    assert_eq!((live, revoked), (1, false));
    let newest = again["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh_at(&rp, &restarted, &newest).await.0, 200, "the new successor is the live one");

    // The retired successor surfacing after all is a reuse: the family ends.
    assert_eq!(refresh_at(&rp, &restarted, &lost).await.0, 400);
    assert!(families(&app).values().all(|(live, revoked)| *live == 0 && *revoked));

    // At the process that rotated (no crash in between), presenting the old token is a reuse.
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&rp, &app, &old).await.0, 200);
    assert_eq!(refresh(&rp, &app, &old).await.0, 400);
}

/// The SQLite database and its WAL and shared-memory files are the owner's alone.
#[tokio::test]
async fn database_files_are_private() {
    let app = spawn_app().await;
    if app.db.is_postgres() {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    app.client("acme", false, false);
    for name in ["test.db", "test.db-wal", "test.db-shm"] {
        let mode = std::fs::metadata(app.dir.path().join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{name} is {mode:o}");
    }
}
