//! Moving in and out through the real binary and server: users imported with bcrypt and
//! PBKDF2 hashes sign in (and are rehashed to argon2id), TOTP secrets from Authelia's
//! YAML export and from otpauth:// URIs give codes that `oathtool` computes, and the
//! export writes what Authelia imports.

use std::process::Output;

use diesel::prelude::*;
use watchword::store::schema::users;

use crate::browser::{Browser, oathtool};
use crate::helpers::{Cli, TEST_KEYS, TestApp, spawn_app, stderr, stdout};

// Made with Python's `bcrypt` and `hashlib.pbkdf2_hmac`.
const PASSWORD: &str = "correct horse battery staple";
const BCRYPT: &str = "$2b$06$hai81xLOUey3wDDBpJQbgOXX/J.UVQjFiG0fHoKM.YknG50qP7wBS";
const DJANGO: &str = "pbkdf2_sha256$1000$abcdefgh12345678$dhfF12U7XZRP+8D+ERjfFYLp/HEjrtN9BFy/JLr3jso=";
// RFC 6238's SHA-1 seed, "12345678901234567890", in base32.
const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

impl TestApp {
    /// The real binary, on this app's database, data dir and keyring.
    fn run_cli(&self, args: &[&str]) -> Output {
        Cli { data_dir: self.dir.path(), database_url: &self.db.url }
            .command(args)
            .env("WATCHWORD_SECRET_KEYS", TEST_KEYS)
            .output()
            .expect("run watchword")
    }

    fn password_hash_of(&self, username: &str) -> String {
        let username = username.to_owned();
        self.store
            .run_blocking(move |c| -> Result<String, watchword::store::StoreError> {
                Ok(users::table.filter(users::username.eq(username)).select(users::password_hash).first(c)?)
            })
            .unwrap()
    }

    fn id_of(&self, username: &str) -> String {
        let username = username.to_owned();
        self.store
            .run_blocking(move |c| -> Result<String, watchword::store::StoreError> {
                Ok(users::table.filter(users::username.eq(username)).select(users::id).first(c)?)
            })
            .unwrap()
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

/// Signs `username` in at the account page with `password` and, when it has `secret`,
/// a code from oathtool; true when it lands on the account page.
async fn signs_in(app: &TestApp, username: &str, password: &str, secret: Option<&str>) -> bool {
    let browser = Browser::new(app);
    let login = browser.account_login("acme").await;
    let mut page = browser.password(&login, username, password).await;
    if let Some(secret) = secret {
        if !page.has("action=\"/login/totp?flow=") {
            return false;
        }
        let uri = format!("otpauth://totp/x?secret={secret}&algorithm=SHA1&digits=6&period=30");
        page = browser.code(&page, "/login/totp", &oathtool(&uri, app.clock_now())).await;
    }
    page.location.as_deref() == Some("/account")
}

#[tokio::test]
async fn imported_users_sign_in_with_their_old_hashes_and_codes_and_are_rehashed() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let lines = [
        format!(r#"{{"username":"boss","password_hash":"{BCRYPT}","email":"boss@acme.example"}}"#),
        format!(
            r#"{{"username":"bea","password_hash":"{BCRYPT}","parent":"boss","kind":"external","display_name":"Bea","totp":{{"secret":"{SEED}","algorithm":"SHA1","digits":6,"period":30}}}}"#
        ),
        format!(r#"{{"username":"dj","password_hash":"{}","parent":"boss"}}"#, DJANGO),
        r#"{"username":"md5","password_hash":"$1$abc$def"}"#.to_owned(),
        format!(r#"{{"username":"orphan","password_hash":"{BCRYPT}","parent":"nobody"}}"#),
        format!(r#"{{"username":"boss","password_hash":"{BCRYPT}"}}"#),
        r#"not json"#.to_owned(),
        format!(r#"{{"username":"weak","password_hash":"{BCRYPT}","totp":{{"secret":"GEZDGNBV"}}}}"#),
    ];
    let file = app.write("users.jsonl", &(lines.join("\n") + "\n\n"));
    let out = app.run_cli(&["user", "import", "--tenant", "acme", "--file", &file, "--json"]);
    assert_eq!(out.status.code(), Some(1), "some lines failed: {}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!((report["imported"].as_i64(), report["failed"].as_i64()), (Some(3), Some(5)), "{report}");
    let error_of = |line: usize| report["lines"][line - 1]["error"].as_str().unwrap_or("").to_owned();
    assert!(error_of(4).contains("unsupported password hash"), "{}", error_of(4));
    assert!(error_of(5).contains("unknown parent user 'nobody'"), "{}", error_of(5));
    assert!(error_of(6).contains("already taken"), "{}", error_of(6));
    assert!(error_of(7).contains("not a user line"), "{}", error_of(7));
    assert!(error_of(8).contains("at least 80"), "{}", error_of(8));
    // A failed line changed nothing: no half-made user.
    assert!(
        app.store
            .run_blocking(|c| watchword::store::users::find_by_username_key(
                c,
                &app.tenant("acme").id,
                "weak"
            ))
            .unwrap()
            .is_none()
    );

    // bcrypt, then argon2id: the first sign-in rehashes.
    assert!(!signs_in(&app, "boss", "wrong password", None).await);
    assert!(signs_in(&app, "boss", PASSWORD, None).await);
    assert!(app.password_hash_of("boss").starts_with("$argon2id$"));
    assert!(signs_in(&app, "boss", PASSWORD, None).await, "and the new hash works");
    // Django's PBKDF2 too.
    assert!(signs_in(&app, "dj", PASSWORD, None).await);
    assert!(app.password_hash_of("dj").starts_with("$argon2id$"));
    // The imported secret is active: the code step, with codes from oathtool.
    app.clock.advance(30);
    assert!(signs_in(&app, "bea", PASSWORD, Some(SEED)).await);
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&app.run_cli(&["user", "list", "--tenant", "acme", "--json"]))).unwrap();
    let bea = listed.as_array().unwrap().iter().find(|u| u["username"] == "bea").unwrap();
    assert_eq!(bea["authenticators"], serde_json::json!(["Imported authenticator"]));
    assert_eq!(bea["parent"], "boss");
    let events = app.events_of(&app.id_of("bea"));
    assert!(
        events.contains(&"user.imported".to_owned()) && events.contains(&"totp.imported".to_owned()),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_authelia_export_and_otpauth_uris_attach_secrets_and_the_export_round_trips() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    for name in ["ann", "ben", "cat", "dan"] {
        app.user("acme", name, &format!("pw-{name}-long"), false);
    }
    // Authelia's format (`authelia storage user totp export`).
    let yaml = format!(
        "totp_configurations:\n  - created_at: 2025-03-01T10:00:00Z\n    last_used_at: 2025-03-02T10:00:00Z\n    username: ann\n    issuer: Authelia\n    algorithm: SHA1\n    digits: 6\n    period: 30\n    secret: {SEED}\n  - username: nobody\n    issuer: Authelia\n    algorithm: SHA1\n    digits: 6\n    period: 30\n    secret: {SEED}\n  - username: ben\n    issuer: Authelia\n    algorithm: MD5\n    digits: 6\n    period: 30\n    secret: {SEED}\n"
    );
    let out =
        app.run_cli(&["user", "import-totp", "--tenant", "acme", "--file", &app.write("totp.yml", &yaml)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("line 1: ann: imported"), "{text}");
    assert!(text.contains("line 2: nobody: failed: no user 'nobody'"), "{text}");
    assert!(text.contains("line 3: ben: failed"), "{text}");
    assert!(text.contains("1 secrets imported, 2 failed"), "{text}");
    app.clock.advance(30);
    assert!(signs_in(&app, "ann", "pw-ann-long", Some(SEED)).await);
    // Again for ann: an import never replaces an authenticator.
    let again =
        app.run_cli(&["user", "import-totp", "--tenant", "acme", "--file", &app.write("again.yml", &yaml)]);
    assert!(stdout(&again).contains("ann: failed: ann already has an authenticator"), "{}", stdout(&again));

    // otpauth:// URIs, as authenticator apps and `authelia … export uri` write them.
    let sha256 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
    let uris = format!(
        "otpauth://totp/Acme:ben?secret={SEED}&issuer=Acme\n# a comment\notpauth://totp/Acme%3Acat?secret={sha256}&algorithm=SHA256&digits=8&period=60\nhttps://not-otpauth\n"
    );
    let out = app.run_cli(&[
        "user",
        "import-totp",
        "--tenant",
        "acme",
        "--file",
        &app.write("uris.txt", &uris),
        "--json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!((report["imported"].as_i64(), report["failed"].as_i64()), (Some(2), Some(1)), "{report}");
    app.clock.advance(60);
    assert!(signs_in(&app, "ben", "pw-ben-long", Some(SEED)).await);
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let page = browser.password(&login, "cat", "pw-cat-long").await;
    let cat_uri = format!("otpauth://totp/x?secret={sha256}&algorithm=SHA256&digits=8&period=60");
    let done = browser.code(&page, "/login/totp", &oathtool(&cat_uri, app.clock_now())).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);

    // The export: never to a terminal or a file others can read; Authelia's shape.
    let shared = app.dir.path().join("shared.yml");
    std::fs::write(&shared, "").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let refused =
        app.run_cli(&["user", "export-totp", "--tenant", "acme", "--file", &shared.display().to_string()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("readable by others"), "{}", stderr(&refused));
    let target = app.dir.path().join("export.yml");
    let out =
        app.run_cli(&["user", "export-totp", "--tenant", "acme", "--file", &target.display().to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("3 TOTP secrets written"), "{}", stdout(&out));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let exported: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    let entries = exported["totp_configurations"].as_sequence().unwrap();
    let cat = entries.iter().find(|e| e["username"].as_str() == Some("cat")).unwrap();
    assert_eq!(cat["secret"].as_str(), Some(sha256));
    assert_eq!(
        (cat["algorithm"].as_str(), cat["digits"].as_u64(), cat["period"].as_u64()),
        (Some("SHA256"), Some(8), Some(60))
    );
    assert!(cat["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(
        app.store
            .run_blocking(|c| watchword::store::audit::list_for_tenant(c, &app.tenant("acme").id, 50))
            .unwrap()
            .iter()
            .any(|e| e.event == "totp.exported")
    );

    // What was exported imports again (into another tenant's users of the same names).
    app.policy("other", |t| t.prompt_new_users = false);
    for name in ["ann", "ben", "cat"] {
        app.user("other", name, &format!("pw-{name}-long"), false);
    }
    let out =
        app.run_cli(&["user", "import-totp", "--tenant", "other", "--file", &target.display().to_string()]);
    assert!(out.status.success(), "{} {}", stdout(&out), stderr(&out));
}
