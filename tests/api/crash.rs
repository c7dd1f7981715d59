//! `kill -9` in the middle of concurrent logins, enrolments and refreshes, on the real
//! binary: after a restart nobody is stuck half-enrolled, every refresh-token family
//! is consistent (one live token, or revoked) and every client can go on refreshing
//! with the last token it holds, and the database passes its integrity check.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::prelude::*;
use serde_json::Value;

use crate::browser::{Browser, REDIRECT, oathtool, query, urlencode};
use crate::helpers::{Cli, TestDb, http_client};

/// `watchword serve` on a free port; returns the child and its address.
fn serve(cli: &Cli<'_>, redis: Option<&(String, String)>) -> (Child, String) {
    let mut cmd = cli.command(&["serve"]);
    cmd.env("WATCHWORD_LISTEN", "127.0.0.1:0").stdout(Stdio::piped()).stderr(Stdio::null());
    if let Some((url, prefix)) = redis {
        cmd.env("WATCHWORD_REDIS_URL", url).env("WATCHWORD_REDIS_PREFIX", prefix);
    }
    #[expect(clippy::zombie_processes, reason = "the caller kills and waits for it")]
    let mut child = cmd.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx.recv_timeout(Duration::from_secs(60)).expect("serve prints its address");
        if let Some(address) = line.strip_prefix("Watchword is listening on ") {
            return (child, address.trim_end_matches('/').to_owned());
        }
    }
}

/// The real time: the server under test runs on the system clock.
fn now() -> i64 {
    use watchword::clock::Clock;
    watchword::clock::SystemClock.now()
}

struct Rp {
    base: String,
    id: String,
    secret: String,
}

const VERIFIER: &str = "a-verifier-of-at-least-forty-three-characters-0123456789";

impl Rp {
    fn authorize(&self) -> String {
        use base64::Engine;
        use sha2::Digest;
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
        format!(
            "{}/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s&code_challenge={challenge}&code_challenge_method=S256",
            self.base,
            self.id,
            urlencode(REDIRECT)
        )
    }

    async fn token(&self, form: &[(&str, &str)]) -> Option<(u16, Value)> {
        let res = http_client()
            .post(format!("{}/token", self.base))
            .basic_auth(&self.id, Some(&self.secret))
            .form(form)
            .send()
            .await
            .ok()?;
        let status = res.status().as_u16();
        Some((status, res.json().await.ok()?))
    }
}

/// Signs `username` in (enrolling, or with a code, when the page asks); returns the
/// refresh token, or `None` when the server went away on the way.
/// The user's `otpauth://` URI and the last time step a code of it was used.
type Secrets = Mutex<HashMap<String, (String, i64)>>;

/// A code of `otpauth` for a step after `last`: the current step or the next (both within
/// the accepted skew), waiting for the next step when neither is after `last`. Never the
/// previous step: on a slow machine a step boundary can pass before the server checks it,
/// and the code is then two steps old and refused.
async fn fresh_code(otpauth: &str, last: i64) -> (String, i64) {
    loop {
        let step = now() / 30;
        if let Some(use_step) = (step..=step + 1).find(|s| *s > last) {
            return (oathtool(otpauth, use_step * 30), use_step);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn login(rp: &Rp, username: &str, secrets: &Secrets) -> Option<String> {
    let browser = Browser::for_base(&rp.base);
    browser.try_get(&rp.authorize()).await?;
    let login = browser.try_get("/login").await?;
    let mut page = browser
        .try_post(
            "/login/password",
            &[("csrf", &login.csrf()), ("username", username), ("password", &format!("pw-{username}"))],
        )
        .await?;
    if page.location.as_deref() == Some("/login") {
        page = browser.try_get("/login").await?;
    }
    if page.has("Set up your authenticator app") {
        let otpauth = page.otpauth();
        // A pending secret shown again keeps its steps: never reuse one.
        let last = secrets.lock().unwrap().get(username).map_or(i64::MIN, |(_, last)| *last);
        let (code, step) = fresh_code(&otpauth, last).await;
        secrets.lock().unwrap().insert(username.to_owned(), (otpauth, step));
        browser.try_post("/login/enrol", &[("csrf", &page.csrf()), ("code", &code)]).await?;
        let codes = browser.try_get("/login").await?;
        page = browser.try_post("/login/codes", &[("csrf", &codes.csrf())]).await?;
    } else if page.has("Authentication code") {
        let (otpauth, last) =
            secrets.lock().unwrap().get(username).cloned().expect("the secret of an enrolled user");
        // A step the last login used is refused as a replay: take a later one.
        let (code, step) = fresh_code(&otpauth, last).await;
        secrets.lock().unwrap().insert(username.to_owned(), (otpauth, step));
        page = browser.try_post("/login/totp", &[("csrf", &page.csrf()), ("code", &code)]).await?;
    }
    if page.location.as_deref() == Some("/authorize/resume") {
        page = browser.try_get("/authorize/resume").await?;
    }
    let location = page.location.clone()?;
    assert!(location.starts_with(REDIRECT), "{username}: {} to {location}: {}", page.status, page.body);
    let code = query(&location)["code"].clone();
    let (status, tokens) = rp
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await?;
    assert_eq!(status, 200, "{tokens}");
    tokens["refresh_token"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn sigkill_during_logins_enrolments_and_refreshes_leaves_everything_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db = TestDb::new(dir.path());
    let database_url = db.url_in(&data_dir);
    let redis = std::env::var("WATCHWORD_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|url| (url, format!("wwcrash:{}:", watchword::random::token(6))));
    let cli = Cli { data_dir: &data_dir, database_url: &database_url };
    watchword::auth::keyring::create_private_dir(&data_dir).unwrap();
    cli.json(&["tenant", "create", "acme"]);
    cli.json(&["tenant", "policy", "--tenant", "acme", "--prompt-new-users", "off"]);
    let client = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Crash",
        "--redirect-uri",
        REDIRECT,
        "--trusted",
    ]);
    let users: Vec<String> = (0..12).map(|n| format!("user{n}")).collect();
    for (n, user) in users.iter().enumerate() {
        let mut args = vec!["user", "create", "--tenant", "acme", "--username", user, "--password-stdin"];
        if n % 2 == 0 {
            args.push("--totp-required");
        }
        let out = cli.run_with_stdin(&args, &format!("pw-{user}\n"));
        assert!(out.status.success(), "{}", crate::helpers::stderr(&out));
    }
    let secrets = Arc::new(Mutex::new(HashMap::new()));
    let mut held: HashMap<String, String> = HashMap::new();

    for round in 0..3 {
        let (mut child, base) = serve(&cli, redis.as_ref());
        let rp = Rp {
            base,
            id: client["client_id"].as_str().unwrap().to_owned(),
            secret: client["client_secret"].as_str().unwrap().to_owned(),
        };
        // Everyone without a token signs in (enrolling if required); everyone with one
        // refreshes, over and over, until the server is killed under them.
        let work = users.iter().map(|user| {
            let (rp, secrets, mut token) = (&rp, &secrets, held.get(user).cloned());
            async move {
                if token.is_none() {
                    token = login(rp, user, secrets).await;
                }
                let mut log = Vec::new();
                while let Some(current) = token.clone() {
                    match rp.token(&[("grant_type", "refresh_token"), ("refresh_token", &current)]).await {
                        Some((200, body)) => token = body["refresh_token"].as_str().map(str::to_owned),
                        Some((status, body)) => {
                            log.push(format!("{status} {body}"));
                            break;
                        }
                        None => break,
                    }
                }
                (user.clone(), token, log)
            }
        });
        let killer = async {
            tokio::time::sleep(Duration::from_millis(1500 + 500 * round)).await;
            child.kill().unwrap();
            child.wait().unwrap();
        };
        let (results, ()) = tokio::join!(futures_util::future::join_all(work), killer);
        for (user, token, log) in results {
            assert!(log.iter().all(|l| !l.starts_with('5')), "{user}: {log:?}");
            assert!(log.is_empty(), "{user}: a refresh was refused while the server ran: {log:?}");
            if let Some(token) = token {
                held.insert(user, token);
            }
        }
    }

    // After the last kill: a clean database, consistent families, nobody stuck.
    let store =
        watchword::store::Db::connect(&watchword::store::DatabaseUrl::parse(&database_url).unwrap()).unwrap();
    if !db.is_postgres() {
        let check: Vec<String> = store
            .run_blocking(|c| -> Result<_, watchword::store::StoreError> {
                #[derive(QueryableByName)]
                struct Row {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    integrity_check: String,
                }
                let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check").load(c)?;
                Ok(rows.into_iter().map(|r| r.integrity_check).collect())
            })
            .unwrap();
        assert_eq!(check, ["ok"]);
    }
    let families = crate::load::families_in(&store);
    assert!(
        families.values().all(|(live, revoked)| (*live == 1 && !revoked) || (*live == 0 && *revoked)),
        "{families:?}"
    );
    assert!(families.values().all(|(_, revoked)| !revoked), "no family was taken for stolen: {families:?}");

    let (mut child, base) = serve(&cli, redis.as_ref());
    let rp = Rp {
        base,
        id: client["client_id"].as_str().unwrap().to_owned(),
        secret: client["client_secret"].as_str().unwrap().to_owned(),
    };
    for user in &users {
        // The token the client holds still refreshes (or its answer was lost: it still works once).
        if let Some(token) = held.get(user) {
            let answer = rp.token(&[("grant_type", "refresh_token"), ("refresh_token", token)]).await;
            assert_eq!(answer.as_ref().map(|a| a.0), Some(200), "{user}: {answer:?}");
        }
        // And everybody can sign in: enrolled users with a code, half-enrolled ones see
        // their pending secret again and finish.
        assert!(login(&rp, user, &secrets).await.is_some(), "{user} cannot sign in after the crash");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::io::stdout().flush();
}
