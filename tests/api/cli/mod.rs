//! The admin CLI contract, through the real binary: each command with and without
//! `--json`, and each refusal (one line on stderr, non-zero exit, nothing changed).

use serde_json::Value;

use crate::helpers::{Cli, TestDb, stderr, stdout};

mod clients;
mod operations;

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
