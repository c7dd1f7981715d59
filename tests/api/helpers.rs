//! `spawn_app()` and the fresh-database fixture.
//!
//! By default each test gets a temp SQLite file. With `WATCHWORD_TEST_DATABASE_URL`
//! (a PostgreSQL URL whose user may create databases) each test gets a database of its
//! own, dropped when the test ends.

use std::process::{Command, Output};
use std::sync::Arc;

use diesel::{Connection, PgConnection, RunQueryDsl};
use watchword::clock::FixedClock;
use watchword::config::Settings;
use watchword::ephemeral::Ephemeral;
use watchword::startup::{self, Application, FirstRun};
use watchword::store::{DatabaseUrl, Db};

/// A keyring fixed for tests (32 bytes of 0x2a).
pub const TEST_KEYS: &str = "test1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

/// A database that exists for one test.
pub struct TestDb {
    pub url: String,
    dropper: Option<(String, String)>,
}

impl TestDb {
    pub fn new(dir: &std::path::Path) -> Self {
        match std::env::var("WATCHWORD_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            None => Self { url: format!("sqlite://{}", dir.join("test.db").display()), dropper: None },
            Some(admin_url) => {
                let name = format!(
                    "ww_test_{}",
                    watchword::random::token(9).to_lowercase().replace(['-', '_'], "x")
                );
                let mut admin = PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("WATCHWORD_TEST_DATABASE_URL is set but unreachable: {e}"));
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("create test database");
                let mut url = url::Url::parse(&admin_url).expect("WATCHWORD_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Self { url: url.to_string(), dropper: Some((admin_url, name)) }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.dropper.is_some()
    }

    /// The URL for a `watchword serve` of the test's own: this database, or a SQLite
    /// file inside `data_dir` (which serve creates).
    pub fn url_in(&self, data_dir: &std::path::Path) -> String {
        if self.is_postgres() {
            self.url.clone()
        } else {
            format!("sqlite://{}/watchword.db", data_dir.display())
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = &self.dropper
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ =
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    /// The issuer as the server publishes it (the address unless configured).
    pub issuer: String,
    /// The management listener (`/metrics`, `/health/*`).
    pub management: String,
    /// The server's clock: tests move it to cross TOTP steps.
    pub clock: FixedClock,
    /// A handle on the server's database, for seeding and checking rows.
    pub store: Db,
    /// The server's ephemeral store (shared with any second instance).
    pub ephemeral: Ephemeral,
    pub client: reqwest::Client,
    pub first_run: Option<FirstRun>,
    pub settings: Settings,
    // Dropped last: the database, then the directory holding it.
    pub db: TestDb,
    pub dir: tempfile::TempDir,
}

/// The JSON a GET of `url` answers.
pub async fn get_json(url: &str) -> serde_json::Value {
    http_client().get(url).send().await.expect("GET").json().await.expect("JSON")
}

/// A cookie-keeping HTTP client that does not follow redirects.
pub fn http_client() -> reqwest::Client {
    watchword::install_tls_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

pub fn test_settings(dir: &std::path::Path, db: &TestDb) -> Settings {
    Settings {
        listen: "127.0.0.1:0".parse().expect("address"),
        issuer: None,
        data_dir: dir.to_path_buf(),
        database_url: DatabaseUrl::parse(&db.url).expect("test database URL"),
        // With WATCHWORD_TEST_REDIS_URL, Redis under a key prefix of this test's own.
        redis_url: std::env::var("WATCHWORD_TEST_REDIS_URL").ok().filter(|u| !u.is_empty()),
        redis_prefix: format!("wwtest:{}:", watchword::random::token(9)),
        secret_keys: Some(TEST_KEYS.to_owned()),
        totp_enabled: true,
        key_rotation_delay: 86_400,
        limits: watchword::ephemeral::limiter::Limits::default(),
        trust_forwarded: false,
        hash_workers: 2,
        hash_queue: 128,
        theme_dir: None,
        management_listen: Some("127.0.0.1:0".parse().expect("address")),
        backchannel_poll: std::time::Duration::from_millis(50),
    }
}

/// Where every test's clock starts: a TOTP step boundary (60,000,000 × 30 s).
pub const T0: i64 = 1_800_000_000;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with the settings adjusted first.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = TestDb::new(dir.path());
    let mut settings = test_settings(dir.path(), &db);
    adjust(&mut settings);
    let keyring = startup::load_keyring(&settings).expect("keyring");
    let store = startup::open_database(&settings).expect("database");
    let first_run = startup::bootstrap(&store, "Watchword", T0).expect("bootstrap");
    let clock = FixedClock::at(T0);
    let ephemeral = startup::ephemeral_store(&settings).expect("ephemeral store");
    let app = Application::build_with(
        &settings,
        store.clone(),
        keyring,
        Arc::new(clock.clone()),
        ephemeral.clone(),
    )
    .expect("build");
    let address = format!("http://{}", app.addr());
    let issuer = app.state().issuer_str().to_owned();
    let management = app.management_addr().map(|a| format!("http://{a}")).unwrap_or_default();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        issuer,
        management,
        clock,
        store,
        ephemeral,
        client: http_client(),
        first_run,
        settings,
        db,
        dir,
    }
}

impl TestApp {
    /// Another instance over the same database and clock: with Redis configured it
    /// connects to Redis itself (under the same prefix); in memory it shares the store.
    pub fn second_instance(&self) -> String {
        self.instance_with(&self.settings)
    }

    /// Another instance over the same database, clock and ephemeral store, with `settings`.
    pub fn instance_with(&self, settings: &Settings) -> String {
        let keyring = startup::load_keyring(settings).expect("keyring");
        let store = startup::open_database(&self.settings).expect("database");
        let ephemeral = match &self.settings.redis_url {
            Some(_) => startup::ephemeral_store(&self.settings).expect("redis"),
            None => self.ephemeral.clone(),
        };
        let app =
            Application::build_with(&self.settings, store, keyring, Arc::new(self.clock.clone()), ephemeral)
                .expect("build");
        let address = format!("http://{}", app.addr());
        tokio::spawn(app.run_until_stopped());
        address
    }
}

/// Runs the real `watchword` binary with this test's database and data dir.
pub struct Cli<'a> {
    pub data_dir: &'a std::path::Path,
    pub database_url: &'a str,
}

impl Cli<'_> {
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_watchword"));
        cmd.args(args)
            .current_dir(self.data_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("WATCHWORD_DATA_DIR", self.data_dir)
            .env("WATCHWORD_DATABASE_URL", self.database_url)
            // Tests run side by side: no fixed management port.
            .env("WATCHWORD_MANAGEMENT_LISTEN", "127.0.0.1:0");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run watchword")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn watchword");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait for watchword")
    }

    /// Runs with `--json` and expects success and one JSON value on stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(out.status.success(), "watchword {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("watchword {args:?} printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
        })
    }
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
