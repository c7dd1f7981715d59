//! Password resets: a parent's (a temporary password, never the child's code) and the
//! operator's from the CLI.

use super::{STRONG, enrolled};
use crate::browser::{Browser, oathtool};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_parents_reset_gives_a_temporary_password_but_never_the_childs_code() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    let parent = app.child("acme", "parent", Some(&root), "create");
    let kid = app.child("acme", "kid", Some(&parent), "none");
    app.child("acme", "reader", Some(&root), "read");
    app.set_totp_required(&kid);
    let (kids_browser, otpauth) = enrolled(&app, "kid").await;
    let (token, _) = app.admin_token("parent").await;

    // Never oneself, never an ancestor, never without `create`.
    for id in [&parent, &root] {
        let (status, body) = app.api(&token, "POST", &format!("/users/{id}/reset-password"), None).await;
        assert_eq!(status, 403, "{body}");
    }
    let (reader_token, _) = app.admin_token("reader").await;
    let (status, _) = app.api(&reader_token, "POST", &format!("/users/{kid}/reset-password"), None).await;
    assert_eq!(status, 403);

    let (status, body) = app.api(&token, "POST", &format!("/users/{kid}/reset-password"), None).await;
    assert_eq!(status, 200, "{body}");
    let temporary = body["one_time_password"].as_str().unwrap().to_owned();
    assert_eq!(body["user"]["totp_status"], "active", "the factor stays");
    assert!(app.is_temporary(&kid));
    assert_eq!(kids_browser.get("/account").await.location.as_deref(), Some("/login"), "signed out");
    assert!(app.events_of(&kid).iter().any(|e| e == "password.reset"));

    // The parent knows the new password, but the code comes first: no way past it.
    app.clock.advance(30);
    let parents = Browser::new(&app);
    let login = parents.account_login("acme").await;
    let page = parents.password(&login, "kid", &temporary).await;
    assert!(page.has("Authentication code") && !page.has("Choose a new password"), "{}", page.body);
    assert_eq!(app.live_sessions(&kid), 0);

    // The child: the temporary password, its own code, then its own password.
    let child = Browser::new(&app);
    let login = child.account_login("acme").await;
    let page = child.password(&login, "kid", &temporary).await;
    let choose = child.code(&page, "/login/totp", &oathtool(&otpauth, app.clock_now())).await;
    assert!(choose.has("Choose a new password"), "{}", choose.body);
    let done = child.choose(&choose, STRONG, STRONG).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
}

#[tokio::test]
async fn a_reset_discards_the_pending_secret_someone_may_have_seen() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    let kid = app.child("acme", "kid", Some(&root), "none");
    app.set_totp_required(&kid);
    // Someone with the old password reaches the enrolment page and notes the secret.
    let watcher = Browser::new(&app);
    let login = watcher.account_login("acme").await;
    let seen = watcher.password(&login, "kid", "pw-kid").await;
    let seen_secret = seen.otpauth();
    let (token, _) = app.admin_token("root").await;
    let (_, body) = app.api(&token, "POST", &format!("/users/{kid}/reset-password"), None).await;
    let temporary = body["one_time_password"].as_str().unwrap().to_owned();

    let child = Browser::new(&app);
    let login = child.account_login("acme").await;
    let choose = child.password(&login, "kid", &temporary).await;
    let enrol = child.choose(&choose, STRONG, STRONG).await;
    assert_ne!(enrol.otpauth(), seen_secret, "a new secret after the reset");
    // The watcher's sign-in cannot enrol the secret it saw.
    let late = watcher.code(&seen, "/login/enrol", &oathtool(&seen_secret, app.clock_now())).await;
    assert!(late.has("Invalid code") || late.status >= 400, "{}", late.body);
    assert_eq!(app.live_sessions(&kid), 0);
}

#[test]
fn the_operator_resets_a_password_from_the_cli() {
    use crate::helpers::{Cli, TestDb, stdout};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let cli = Cli { data_dir: dir.path(), database_url: &db.url };
    cli.json(&["tenant", "create", "acme"]);
    let created = cli.json(&["user", "create", "--tenant", "acme", "--username", "fay"]);
    let first = created["password"].as_str().unwrap().to_owned();
    let reset = cli.json(&["user", "reset-password", "--tenant", "acme", "--username", "FAY"]);
    assert_eq!(reset["status"], "reset");
    let second = reset["password"].as_str().unwrap();
    assert!(second.len() >= 16 && second != first);
    let text = stdout(&cli.run(&["user", "reset-password", "--tenant", "acme", "--username", "fay"]));
    assert!(text.contains("temporary password (shown once"), "{text}");
    let out = cli.run(&["user", "reset-password", "--tenant", "acme", "--username", "ghost"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(crate::helpers::stderr(&out).contains("unknown user 'ghost'"));
    // The tenant's minimum length is policy.
    let policy = cli.json(&["tenant", "policy", "--tenant", "acme", "--password-min-length", "20"]);
    assert_eq!(policy["totp_policy"]["password_min_length"], 20);
    let out = cli.run(&["tenant", "policy", "--tenant", "acme", "--password-min-length", "3"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(crate::helpers::stderr(&out).contains("8 to 128"), "{}", crate::helpers::stderr(&out));
}
