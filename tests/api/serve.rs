//! `watchword serve` as an operator runs it: first run, restart, graceful stop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::helpers::{Cli, TestDb, spawn_app};

/// A running `watchword serve` whose stdout lines arrive on a channel.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Served {
    fn start(cli: &Cli<'_>) -> Self {
        Self::start_logging_to(cli, Stdio::null())
    }

    fn start_logging_to(cli: &Cli<'_>, stderr: impl Into<Stdio>) -> Self {
        Self::start_with(cli, stderr, &[])
    }

    fn start_with(cli: &Cli<'_>, stderr: impl Into<Stdio>, env: &[(&str, &str)]) -> Self {
        let mut child = cli
            .command(&["serve"])
            // The log the tests read is the default one, whatever the developer's shell says.
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .env("WATCHWORD_LISTEN", "127.0.0.1:0")
            // Started beside, not inside, its data dir: serve creates the dir itself.
            .current_dir(cli.data_dir.parent().unwrap())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Self { child, lines }
    }

    /// Lines up to and including the one containing `needle`.
    fn until(&self, needle: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no '{needle}' in {seen:?}"));
            let done = line.contains(needle);
            seen.push(line);
            if done {
                return seen;
            }
        }
    }

    /// As [`Served::terminate`], waiting off this test's runtime: a test whose proxy
    /// carries the server's database connections must keep that proxy running while the
    /// server shuts down (its back-channel logout notifier may have a query in flight).
    async fn terminate_off_runtime(self) -> std::process::ExitStatus {
        tokio::task::spawn_blocking(move || self.terminate()).await.unwrap()
    }

    /// SIGTERM, then the exit status of a graceful shutdown.
    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap()
    }
}

fn address(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("Watchword is listening on "))
        .unwrap()
        .trim_end_matches('/')
        .to_owned()
}

/// The status line the server answers `request`, sent as raw bytes.
fn raw_status(base: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn first_run_prints_the_admin_once_and_restarts_keep_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db = TestDb::new(dir.path());
    let database_url = db.url_in(&data_dir);
    let cli = Cli { data_dir: &data_dir, database_url: &database_url };
    assert!(!data_dir.exists());
    // Without WATCHWORD_SECRET_KEYS the key file is made in the data dir.
    let log_path = dir.path().join("serve.log");
    let served = Served::start_logging_to(&cli, std::fs::File::create(&log_path).unwrap());
    let lines = served.until("Sign in at");
    let password = lines.iter().find_map(|l| l.trim().strip_prefix("password: ")).unwrap().to_owned();
    assert!(lines.iter().any(|l| l.contains("username: admin")), "{lines:?}");
    let base = address(&lines);
    assert!(lines.last().unwrap().contains(&format!("{base}/account")), "{lines:?}");
    let ready = crate::helpers::http_client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    crate::helpers::http_client()
        .get(format!("{base}/end_session?id_token_hint=SECRET-HINT&state=SECRET-STATE"))
        .send()
        .await
        .unwrap();
    // Requests that break HTTP get a 4xx and no ERROR line: anyone can send them.
    for request in [
        format!("GET /healthz?{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000)),
        "NONSENSE\r\n\r\n".into(),
    ] {
        assert!(raw_status(&base, &request).starts_with("HTTP/1.1 4"), "{request:.40}");
    }
    assert!(served.terminate().success(), "SIGTERM ends serve gracefully");
    // One line per request, without query strings; the admin password only on stdout.
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(!log.contains("ERROR"), "{log}");
    assert!(log.contains("path=/end_session") && log.contains("status=400"), "{log}");
    assert!(!log.contains("SECRET") && !log.contains(&password), "secrets in the log: {log}");
    assert!(log.contains("single instance"), "the in-process store warns: {log}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&data_dir).unwrap().permissions().mode() & 0o777,
            0o700,
            "a private data dir"
        );
    }
    if !db.is_postgres() {
        assert!(data_dir.join("watchword.db").is_file(), "the SQLite database is in the data dir");
    }
    let key_file = data_dir.join("secret-keys");
    let keys = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let users = cli.json(&["user", "list", "--tenant", "default"]);
    assert_eq!(users[0]["username"], "admin");
    assert_eq!(users[0]["permission"], "admin");
    assert_eq!(users[0]["totp_required"], true);

    // The second start creates nothing and prints no password.
    let served = Served::start(&cli);
    let lines = served.until("Watchword is listening on");
    // Anything printed shortly after start-up counts too.
    let late: Vec<String> =
        std::iter::from_fn(|| served.lines.recv_timeout(Duration::from_millis(300)).ok()).collect();
    assert!(
        !lines.iter().chain(&late).any(|l| l.contains(&password) || l.contains("First run")),
        "{lines:?} {late:?}"
    );
    assert!(served.terminate().success());
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), keys, "the same keys after a restart");
    assert_eq!(cli.json(&["user", "list", "--tenant", "default"]).as_array().unwrap().len(), 1);
    assert_eq!(cli.json(&["tenant", "list"]).as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_first_run_admin_can_be_verified_with_its_printed_password() {
    let app = spawn_app().await;
    let first = app.first_run.as_ref().expect("an empty database gets an admin");
    assert_eq!((first.tenant.as_str(), first.username.as_str()), ("default", "admin"));
    let settings = app.settings.clone();
    let password = first.password.clone();
    let db = watchword::startup::open_database(&settings).unwrap();
    let user = db
        .run(move |conn| {
            let tenant = tenant_id(conn);
            watchword::store::users::find_by_username_key(conn, &tenant, "admin").map(Option::unwrap)
        })
        .await
        .unwrap();
    let pw = watchword::auth::password::Password::parse(password).unwrap();
    assert!(matches!(
        watchword::auth::password::verify(&pw, &user.password_hash),
        watchword::auth::password::Verification::Match { rehash: false }
    ));
    // A second bootstrap on the same database does nothing.
    assert!(watchword::startup::bootstrap(&db, "Watchword", 0).unwrap().is_none());
    // The printed password was seen by a terminal or a log: the first sign-in replaces it
    // before anything else (then enrols, as policy requires for the admin).
    assert!(user.password_temporary);
    let browser = crate::browser::Browser::new(&app);
    let login = browser.account_login("default").await;
    let page = browser.password(&login, "admin", &first.password).await;
    assert!(page.has("Choose a new password") && !page.has("otpauth"), "{}", page.body);
    let enrol = browser.choose(&page, crate::passwords::STRONG, crate::passwords::STRONG).await;
    assert!(enrol.has("Set up your authenticator app"), "{}", enrol.body);
}

fn tenant_id(conn: &mut watchword::store::DbConn) -> String {
    watchword::store::tenants::find_by_slug(conn, "default").unwrap().unwrap().id
}

/// `serve` with its PostgreSQL unreachable starts anyway, answers 503 (and /readyz says
/// not ready), and serves once the database can be reached — without a restart.
#[tokio::test]
async fn serve_waits_for_a_database_that_is_down_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    if !db.is_postgres() {
        return; // An embedded SQLite file cannot be "down".
    }
    let real = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", real.host_str().unwrap(), real.port().unwrap_or(5432));
    // A port nothing listens on yet; later a proxy to the real server listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut through = real.clone();
    through.set_host(Some("127.0.0.1")).unwrap();
    through.set_port(Some(port)).unwrap();
    let data_dir = dir.path().join("data");
    let url = through.to_string();
    let cli = Cli { data_dir: &data_dir, database_url: &url };
    let served = Served::start(&cli);
    let base = address(&served.until("Watchword is listening on"));
    let ready = crate::helpers::http_client().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let page = crate::helpers::http_client().get(format!("{base}/account")).send().await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
    assert!(page.text().await.unwrap().contains("cannot reach its database"));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let mut status = 0;
    for _ in 0..100 {
        status = crate::helpers::http_client()
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, 200, "ready once the database is reachable");
    // Migrated and bootstrapped in the meantime: the first-run admin was printed.
    let lines = served.until("Sign in at");
    assert!(lines.iter().any(|l| l.contains("username: admin")), "{lines:?}");
    let page = crate::helpers::http_client().get(format!("{base}/account")).send().await.unwrap();
    assert_eq!(page.status(), 303, "the sign-in starts");
    assert!(served.terminate_off_runtime().await.success());
}

#[tokio::test]
async fn an_operator_theme_replaces_templates_and_the_stylesheet_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db = TestDb::new(dir.path());
    let database_url = db.url_in(&data_dir);
    let cli = Cli { data_dir: &data_dir, database_url: &database_url };

    // A template that does not parse: serve refuses to start, naming the theme and why.
    let broken = dir.path().join("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("login.html"), "{% if %}").unwrap();
    let refused = cli
        .command(&["serve"])
        .env("WATCHWORD_THEME_DIR", &broken)
        .env("WATCHWORD_LISTEN", "127.0.0.1:0")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("theme") && stderr.contains("login.html"),
        "{stderr}"
    );

    let theme = dir.path().join("theme");
    std::fs::create_dir(&theme).unwrap();
    std::fs::write(theme.join("style.css"), ":root { --accent: #5b2c6f; } /* the Acme theme */").unwrap();
    std::fs::write(
        theme.join("message.html"),
        r#"{% extends "base.html" %}{% block content %}<p class="acme-message">{{ message }}</p>{% endblock content %}"#,
    )
    .unwrap();
    let theme_dir = theme.to_str().unwrap();
    let served = Served::start_with(&cli, Stdio::null(), &[("WATCHWORD_THEME_DIR", theme_dir)]);
    let base = address(&served.until("Sign in at"));
    let css = crate::helpers::http_client()
        .get(format!("{base}/static/style.css"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("the Acme theme"), "{css}");
    // The replaced template, and the built-in ones around it.
    let page = crate::helpers::http_client()
        .get(format!("{base}/login?flow=gone"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<p class=\"acme-message\">Sign-in pages are valid"), "{page}");
    let built_in_base = page.contains(r#"<link rel="stylesheet" href="/static/style.css">"#);
    assert!(built_in_base, "base.html is still the built-in one: {page}");
    assert!(served.terminate().success());
}
