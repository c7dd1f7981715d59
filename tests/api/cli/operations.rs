//! An operator's work through the CLI: policy, revoking secrets, re-encryption, backup
//! and restore.

use serde_json::Value;

use super::{Fixture, assert_refused};
use crate::helpers::{Cli, stderr, stdout};

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
