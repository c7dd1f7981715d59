//! The admin CLI contract, through the real binary: each command with and without
//! `--json`, and each refusal (one line on stderr, non-zero exit, nothing changed).

use serde_json::Value;

use crate::helpers::{Cli, TestDb, stderr, stdout};

struct Fixture {
    db: TestDb,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::new(dir.path());
        Self { db, dir }
    }

    fn cli(&self) -> Cli<'_> {
        Cli { data_dir: self.dir.path(), database_url: &self.db.url }
    }
}

/// Asserts a refusal: exit code 1, exactly one line on stderr containing `needle`.
fn assert_refused(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(1), "stdout: {} stderr: {}", stdout(out), stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
    assert!(stdout(out).is_empty(), "nothing on stdout: {}", stdout(out));
}

#[test]
fn migrate_then_tenants() {
    let f = Fixture::new();
    let cli = f.cli();
    let migrated = cli.json(&["migrate"]);
    assert_eq!(migrated["status"], "ok");
    assert!(cli.run(&["migrate"]).status.success());

    assert_eq!(cli.json(&["tenant", "list"]), Value::Array(vec![]));
    let acme = cli.json(&["tenant", "create", "acme", "--name", "Acme Inc"]);
    assert_eq!(acme["slug"], "acme");
    assert_eq!(acme["name"], "Acme Inc");
    assert_eq!(acme["totp_policy"]["algorithm"], "SHA1");
    assert_eq!(acme["totp_policy"]["digits"], 6);
    let out = cli.run(&["tenant", "create", "globex"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("created tenant globex"));

    let list = cli.json(&["tenant", "list"]);
    let slugs: Vec<&str> = list.as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["acme", "globex"]);
    let text = stdout(&cli.run(&["tenant", "list"]));
    assert!(text.contains("acme\tAcme Inc") && text.contains("globex\tglobex"), "{text}");

    assert_refused(&cli.run(&["tenant", "create", "acme"]), "tenant 'acme' already exists");
    // The display name (the issuer in authenticator apps) can change; the slug cannot.
    let renamed = cli.json(&["tenant", "rename", "globex", "--name", "Globex Corporation"]);
    assert_eq!(
        (renamed["slug"].as_str(), renamed["name"].as_str()),
        (Some("globex"), Some("Globex Corporation"))
    );
    assert_refused(&cli.run(&["tenant", "rename", "globex", "--name", "  "]), "1 to 100 characters");
    assert_refused(&cli.run(&["tenant", "rename", "nope", "--name", "X"]), "unknown tenant 'nope'");
    // Branding: a logo (https only) and a colour dark enough for white button text.
    let branded = cli.json(&[
        "tenant",
        "update",
        "globex",
        "--logo-url",
        "https://cdn.globex.example/logo.svg",
        "--primary-colour",
        "#0B5394",
    ]);
    assert_eq!(branded["logo_url"], "https://cdn.globex.example/logo.svg");
    assert_eq!(branded["primary_colour"], "#0b5394");
    assert_eq!(branded["name"], "Globex Corporation", "untouched");
    let light = cli.run(&["tenant", "update", "globex", "--primary-colour", "#ffcc00"]);
    assert_refused(&light, "too light for white button text");
    assert_refused(
        &cli.run(&["tenant", "update", "globex", "--logo-url", "http://x.example/l.png"]),
        "https URL",
    );
    let cleared = cli.json(&["tenant", "update", "globex", "--logo-url", "", "--primary-colour", ""]);
    assert!(cleared["logo_url"].is_null() && cleared["primary_colour"].is_null(), "{cleared}");
    let german = cli.json(&["tenant", "update", "globex", "--default-language", "DE"]);
    assert_eq!(german["default_language"], "de");
    assert_refused(&cli.run(&["tenant", "update", "globex", "--default-language", "fr"]), "en, de");
    let cleared = cli.json(&["tenant", "update", "globex", "--default-language", ""]);
    assert!(cleared["default_language"].is_null(), "{cleared}");
    assert_refused(&cli.run(&["tenant", "create", "Not A Slug"]), "invalid tenant slug");
    assert_eq!(cli.json(&["tenant", "list"]).as_array().unwrap().len(), 2);
}

#[test]
fn users_are_created_listed_and_refused() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);

    let alice = cli.run_with_stdin(
        &[
            "user",
            "create",
            "--tenant",
            "acme",
            "--username",
            "Alice",
            "--password-stdin",
            "--json",
            "--permission",
            "admin",
            "--totp-required",
            "--email",
            "alice@acme.example",
            "--display-name",
            "Alice A",
        ],
        "s3cret pass\n",
    );
    assert!(alice.status.success(), "{}", stderr(&alice));
    let alice: Value = serde_json::from_slice(&alice.stdout).unwrap();
    assert_eq!(alice["username"], "Alice");
    assert_eq!(alice["permission"], "admin");
    assert_eq!(alice["totp_required"], true);
    assert_eq!(alice["kind"], "internal");
    assert!(alice.get("password").is_none(), "a given password is never echoed");

    let bob = cli.json(&[
        "user",
        "create",
        "--tenant",
        "acme",
        "--username",
        "bob",
        "--parent",
        "alice",
        "--kind",
        "external",
    ]);
    assert_eq!(bob["parent"], "Alice");
    assert_eq!(bob["kind"], "external");
    let generated = bob["password"].as_str().unwrap();
    assert!(generated.len() >= 16, "a generated password is printed once");

    let out = cli.run(&["user", "create", "--tenant", "acme", "--username", "carol"]);
    assert!(out.status.success());
    assert!(stdout(&out).contains("password (shown once): "), "{}", stdout(&out));

    let list = cli.json(&["user", "list", "--tenant", "acme"]);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["Alice", "bob", "carol"]);
    assert!(list.to_string().find("argon2").is_none(), "no hashes in listings");
    let text = stdout(&cli.run(&["user", "list", "--tenant", "acme"]));
    assert!(text.contains("bob\texternal\tnone\ttotp_required=false\tparent=Alice"), "{text}");

    // Each refusal changes nothing.
    assert_refused(
        &cli.run(&["user", "create", "--tenant", "nope", "--username", "x"]),
        "unknown tenant 'nope'",
    );
    assert_refused(
        &cli.run(&["user", "create", "--tenant", "acme", "--username", "x", "--parent", "ghost"]),
        "unknown parent user 'ghost'",
    );
    assert_refused(&cli.run(&["user", "create", "--tenant", "acme", "--username", "ALICE"]), "already taken");
    assert_refused(
        &cli.run_with_stdin(
            &["user", "create", "--tenant", "acme", "--username", "dave", "--password-stdin"],
            "\n",
        ),
        "the password is empty",
    );
    assert_refused(&cli.run(&["user", "list", "--tenant", "nope"]), "unknown tenant 'nope'");
    // A name with '/' belongs to the user named before it, and lives in that user's subtree
    // only (so an administrator is never refused a name held outside its own subtree).
    for parent in [None, Some("carol")] {
        let mut args = vec!["user", "create", "--tenant", "acme", "--username", "alice/x"];
        args.extend(parent.map(|p| ["--parent", p]).into_iter().flatten());
        assert_refused(&cli.run(&args), "belongs to the user named before the last '/'");
    }
    assert_refused(
        &cli.run(&["user", "create", "--tenant", "acme", "--username", "nobody/x", "--parent", "bob"]),
        "belongs to the user named before the last '/'",
    );
    assert_eq!(cli.json(&["user", "list", "--tenant", "acme"]).as_array().unwrap().len(), 3);
    let scoped =
        cli.json(&["user", "create", "--tenant", "acme", "--username", "ALICE/x", "--parent", "bob"]);
    assert_eq!((scoped["username"].as_str(), scoped["parent"].as_str()), (Some("ALICE/x"), Some("bob")));

    // Usage errors are clap's: exit code 2.
    let out = cli.run(&["user", "create", "--tenant", "acme", "--username", "x", "--kind", "robot"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn clients_are_created_listed_and_refused() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);

    let web = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Web app",
        "--redirect-uri",
        "https://app.example.com/cb",
        "--redirect-uri",
        "http://127.0.0.1:3000/cb",
        "--post-logout-redirect-uri",
        "https://app.example.com/",
        "--require-mfa",
        "--trusted",
    ]);
    let secret = web["client_secret"].as_str().unwrap();
    assert!(secret.len() >= 43, "256-bit secret: {secret}");
    assert_eq!(web["public"], false);
    assert_eq!(web["require_mfa"], true);
    assert_eq!(web["trusted"], true);
    assert_eq!(web["redirect_uris"][1], "http://127.0.0.1:3000/cb");

    let spa = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "SPA",
        "--public",
        "--redirect-uri",
        "https://spa.example.com/cb",
    ]);
    assert_eq!(spa["public"], true);
    assert!(spa.get("client_secret").is_none(), "a public client has no secret");

    let out = cli.run(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "CLI",
        "--redirect-uri",
        "https://c.example/cb",
    ]);
    let text = stdout(&out);
    assert!(text.contains("client_id: ") && text.contains("client_secret (shown once): "), "{text}");

    let list = cli.json(&["client", "list", "--tenant", "acme"]);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(!list.to_string().contains(secret), "a secret is shown once only");
    let text = stdout(&cli.run(&["client", "list", "--tenant", "acme"]));
    assert!(text.contains(web["client_id"].as_str().unwrap()) && text.contains("public"), "{text}");

    assert_refused(
        &cli.run(&["client", "create", "--tenant", "acme", "--name", "Bad", "--redirect-uri", "not a uri"]),
        "malformed redirect URI 'not a uri'",
    );
    // Scopes for client credentials: registered one by one, user scopes refused.
    let m2m_args = |scopes: &[&'static str]| {
        let mut args = vec!["client", "create", "--tenant", "acme", "--name", "M2M"];
        args.extend(["--redirect-uri", "https://m.example/cb"]);
        for scope in scopes {
            args.extend(["--client-scope", *scope]);
        }
        args
    };
    let m2m = cli.json(&m2m_args(&["reports:read", "reports:write"]));
    assert_eq!(m2m["client_scopes"], serde_json::json!(["reports:read", "reports:write"]));
    assert_refused(&cli.run(&m2m_args(&["openid"])), "user scope");
    assert_refused(&cli.run(&m2m_args(&["bad\\scope"])), "is not a scope");
    assert_refused(
        &cli.run(&[
            "client",
            "create",
            "--tenant",
            "acme",
            "--name",
            "Bad",
            "--redirect-uri",
            "https://a.example/cb#x",
        ]),
        "fragment",
    );
    assert_refused(
        &cli.run(&[
            "client",
            "create",
            "--tenant",
            "ghost",
            "--name",
            "X",
            "--redirect-uri",
            "https://a.example/cb",
        ]),
        "unknown tenant 'ghost'",
    );
    // The three above and M2M: nothing refused was half-written.
    assert_eq!(cli.json(&["client", "list", "--tenant", "acme"]).as_array().unwrap().len(), 4);
}

#[test]
fn bad_settings_are_one_line_with_exit_code_2() {
    let f = Fixture::new();
    let cli = f.cli();
    for (name, value) in [
        ("WATCHWORD_LISTEN", "not-an-address"),
        ("WATCHWORD_DATABASE_URL", "mysql://x"),
        ("WATCHWORD_ISSUER", "ftp://id.example"),
        ("WATCHWORD_SECRET_KEYS", "k1:tooshort"),
    ] {
        let out = cli.command(&["tenant", "list"]).env(name, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(name), "{err}");
    }
    std::fs::write(f.dir.path().join("bad.toml"), "listen = 5\n").unwrap();
    let out = cli.run(&["--config", "bad.toml", "tenant", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("config file bad.toml"), "{}", stderr(&out));
}

#[test]
fn keys_are_listed_and_rotated_and_clients_choose_their_algorithm() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);
    assert_eq!(cli.json(&["keys", "list"]), Value::Array(vec![]));
    let rotated = cli.json(&["keys", "rotate"]);
    let keys = rotated["keys"].as_array().unwrap();
    let count = |status: &str| keys.iter().filter(|k| k["status"] == status).count();
    assert_eq!((count("active"), count("next")), (3, 3), "{rotated}");
    assert_eq!(rotated["activates_after_seconds"], 86_400);
    let out = cli.run(&["keys", "rotate", "--alg", "ES256"]);
    assert!(stdout(&out).contains("published next keys"), "{}", stdout(&out));
    let list = cli.json(&["keys", "list"]);
    let es_next = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["algorithm"] == "ES256" && k["status"] == "next")
        .count();
    assert_eq!(es_next, 2);
    assert!(!list.to_string().contains("private"), "no private parts listed");
    let text = stdout(&cli.run(&["keys", "list"]));
    assert!(text.contains("\tEdDSA\tactive"), "{text}");
    assert_eq!(cli.run(&["keys", "rotate", "--alg", "HS256"]).status.code(), Some(2));

    let ed = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Ed",
        "--redirect-uri",
        "https://ed.example/cb",
        "--id-token-alg",
        "EdDSA",
    ]);
    assert_eq!(ed["id_token_alg"], "EdDSA");
    let out = cli.run(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "X",
        "--redirect-uri",
        "https://x.example/cb",
        "--id-token-alg",
        "none",
    ]);
    assert_eq!(out.status.code(), Some(2), "alg none is not a choice");
}

#[test]
fn operators_change_policy_and_revoke_secrets_from_the_cli() {
    let f = Fixture::new();
    let cli = f.cli();
    cli.json(&["tenant", "create", "acme"]);
    cli.json(&["user", "create", "--tenant", "acme", "--username", "zoe"]);
    let shown = cli.json(&["tenant", "policy", "--tenant", "acme"]);
    assert_eq!(shown["totp_policy"]["enforce_internal"], false);
    let changed = cli.json(&[
        "tenant",
        "policy",
        "--tenant",
        "acme",
        "--enforce-internal",
        "on",
        "--algorithm",
        "SHA256",
        "--digits",
        "8",
        "--period",
        "60",
        "--prompt-new-users",
        "off",
    ]);
    let p = &changed["totp_policy"];
    assert_eq!(
        (
            p["enforce_internal"].as_bool(),
            p["algorithm"].as_str(),
            p["digits"].as_i64(),
            p["period"].as_i64()
        ),
        (Some(true), Some("SHA256"), Some(8), Some(60))
    );
    assert_eq!(p["prompt_new_users"], false);
    let text = stdout(&cli.run(&["tenant", "policy", "--tenant", "acme"]));
    assert!(text.contains("enforce_internal=true") && text.contains("algorithm=SHA256"), "{text}");
    assert_refused(
        &cli.run(&["tenant", "policy", "--tenant", "acme", "--digits", "9"]),
        "digits must be 6, 7 or 8",
    );
    assert_refused(
        &cli.run(&["tenant", "policy", "--tenant", "acme", "--period", "45"]),
        "period must be 30 or 60",
    );
    assert_refused(&cli.run(&["tenant", "policy", "--tenant", "nope"]), "unknown tenant 'nope'");
    assert_eq!(
        cli.json(&["tenant", "policy", "--tenant", "acme"])["totp_policy"]["digits"],
        8,
        "refusals changed nothing"
    );
    // Remember this device: off by default, 1-90 days, 0 turns it off again.
    assert_eq!(shown["totp_policy"]["remember_device_days"], 0);
    let on = cli.json(&["tenant", "policy", "--tenant", "acme", "--remember-device-days", "14"]);
    assert_eq!(on["totp_policy"]["remember_device_days"], 14);
    assert_refused(
        &cli.run(&["tenant", "policy", "--tenant", "acme", "--remember-device-days", "91"]),
        "remember_device_days must be 0 (off) or 1 to 90",
    );
    assert!(stdout(&cli.run(&["tenant", "policy", "--tenant", "acme"])).contains("remember_device_days=14"));
    let off = cli.json(&["tenant", "policy", "--tenant", "acme", "--remember-device-days", "0"]);
    assert_eq!(off["totp_policy"]["remember_device_days"], 0);
    let refusing = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Payroll",
        "--redirect-uri",
        "https://payroll.example/cb",
        "--no-remembered-devices",
    ]);
    assert_eq!(
        (refusing["allow_remembered_devices"].as_bool(), refusing["remembered_device_mfa"].as_bool()),
        (Some(false), Some(false))
    );
    let counting = cli.json(&[
        "client",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Wiki",
        "--redirect-uri",
        "https://wiki.example/cb",
        "--remembered-device-mfa",
    ]);
    assert_eq!(
        (counting["allow_remembered_devices"].as_bool(), counting["remembered_device_mfa"].as_bool()),
        (Some(true), Some(true))
    );

    let revoked =
        cli.json(&["user", "revoke-totp", "--tenant", "acme", "--username", "ZOE", "--reason", "lost phone"]);
    assert_eq!(revoked["status"], "revoked");
    assert_refused(
        &cli.run(&["user", "revoke-totp", "--tenant", "acme", "--username", "ghost", "--reason", "x"]),
        "unknown user 'ghost'",
    );
    assert_refused(
        &cli.run(&["user", "revoke-totp", "--tenant", "acme", "--username", "zoe", "--reason", " "]),
        "give a reason",
    );
}

#[tokio::test]
async fn secrets_are_reencrypted_under_the_newest_key_and_keep_working() {
    use crate::browser::{Browser, REDIRECT, oathtool};
    use crate::helpers::{TEST_KEYS, spawn_app};
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "rae", "pw-rae", true);
    let (otpauth, _) = crate::login::enrol_for(&app, &client.client.id, "rae", "pw-rae").await;
    let new_key = "test2:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    let cli = Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let both = format!("{new_key},{TEST_KEYS}");
    let run = |keys: &str| {
        let out = cli
            .command(&["secrets", "reencrypt", "--json"])
            .env("WATCHWORD_SECRET_KEYS", keys)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let done = run(&both);
    assert_eq!(
        (done["totp_secrets"].as_u64(), done["signing_keys"].as_u64(), done["key_id"].as_str()),
        (Some(1), Some(3), Some("test2"))
    );
    assert_eq!(run(&both)["totp_secrets"], 0, "nothing left under the old key");
    // Under the old key alone nothing decrypts any more: a refusal, and nothing written.
    let out =
        cli.command(&["secrets", "reencrypt"]).env("WATCHWORD_SECRET_KEYS", TEST_KEYS).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot be decrypted"), "{}", stderr(&out));

    // An instance that knows only the new key signs in with the same TOTP secret.
    let mut settings = app.settings.clone();
    settings.secret_keys = Some(new_key.to_owned());
    let address = app.instance_with(&settings);
    app.clock.advance(30);
    let browser = Browser::new(&app).at(&address);
    let start = browser
        .get(&format!(
            "/authorize?client_id={}&redirect_uri={}&response_type=code&scope=openid&state=s",
            client.client.id,
            crate::browser::urlencode(REDIRECT)
        ))
        .await;
    assert!(start.is_sign_in_page(), "{}", start.body);
    let page = browser.password(&start, "rae", "pw-rae").await;
    let done = browser.code(&page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    assert!(
        done.location.as_deref().is_some_and(|l| l.starts_with(REDIRECT)),
        "{} {}",
        done.status,
        done.body
    );
}

/// A backup taken while the server runs, restored into an empty data dir: every user
/// signs in there with the authenticator they had. On PostgreSQL the command says to
/// use pg_dump instead.
#[tokio::test]
async fn backup_and_restore_keep_every_user_able_to_sign_in_with_their_totp() {
    use crate::browser::{Browser, REDIRECT, oathtool};
    use crate::helpers::{TEST_KEYS, spawn_app_with};
    let app = crate::helpers::spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "nora", "pw-nora", true);
    let (otpauth, _) = crate::login::enrol_for(&app, &client.client.id, "nora", "pw-nora").await;
    let cli = Cli { data_dir: app.dir.path(), database_url: &app.db.url };
    let file = app.dir.path().join("nightly.db");
    let file_arg = file.to_string_lossy().into_owned();
    let out = cli.run(&["backup", "--to", &file_arg]);
    if app.db.url.starts_with("postgres") {
        assert_refused(&out, "pg_dump");
        return;
    }
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("KEEP THE SECRET KEYS"), "said loudly: {}", stderr(&out));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_refused(&cli.run(&["backup", "--to", &file_arg]), "exists");

    // Into a new data dir: refused without the keys (and left empty), kept with them.
    let target = tempfile::tempdir().unwrap();
    let restored_db = target.path().join("watchword.db");
    let restored_url = format!("sqlite://{}", restored_db.display());
    let there = Cli { data_dir: target.path(), database_url: &restored_url };
    let wrong = there
        .command(&["restore", "--from", &file_arg])
        .env("WATCHWORD_SECRET_KEYS", "other:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=")
        .output()
        .unwrap();
    assert_refused(&wrong, "cannot be decrypted");
    assert!(!restored_db.exists(), "nothing half-written");
    let restore = |keys: &str| {
        there
            .command(&["restore", "--from", &file_arg, "--json"])
            .env("WATCHWORD_SECRET_KEYS", keys)
            .output()
            .unwrap()
    };
    let out = restore(TEST_KEYS);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totp_secrets"], 1, "{report}");
    assert_refused(&restore(TEST_KEYS), "already");

    // A server on the restored database: nora signs in with her authenticator.
    let restored = spawn_app_with(|s| {
        s.data_dir = target.path().to_path_buf();
        s.database_url = watchword::store::DatabaseUrl::Sqlite(restored_db.clone());
    })
    .await;
    restored.clock.advance(30);
    let browser = Browser::new(&restored);
    let login = browser.start(&client.client.id).await;
    let code_page = browser.password(&login, "nora", "pw-nora").await;
    let done = browser.code(&code_page, "/login/totp", &oathtool(&otpauth, restored.clock_now())).await;
    let back = done.location.unwrap_or_else(|| panic!("{}", done.body));
    assert!(back.starts_with(REDIRECT) && back.contains("code="), "{back}");
}

/// A PostgreSQL that refuses the connection is named with libpq's own reason, not a
/// generic "invalid connection url": an operator learns what is wrong (down, a wrong
/// password, a certificate that does not verify).
#[test]
fn a_database_that_refuses_says_why() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("postgres://watchword@127.0.0.1:{port}/watchword");
    let out = Cli { data_dir: dir.path(), database_url: &url }.run(&["tenant", "list"]);
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(said.contains("database unavailable") && said.contains("Connection refused"), "{said}");
    assert!(!said.contains("Invalid connection url"), "{said}");
}
