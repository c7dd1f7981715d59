//! The admin pages through the real server: step-up to a TOTP session, the permission
//! matrix as page actions, and the pages' own flows (revoke with a reason, create a user).

use crate::browser::{Browser, oathtool};
use crate::helpers::{TestApp, spawn_app};

mod acts;

/// Signs `username` in at the account page, then steps up at `/admin` (enrolling TOTP).
pub async fn admin_browser(app: &TestApp, username: &str) -> Browser {
    let browser = Browser::new(app);
    browser.get("/account?tenant=acme").await;
    let login = browser.get("/login").await;
    let done = browser.password(&login, username, &format!("pw-{username}")).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
    // A password-only session of a user without an authenticator signs in again
    // (password first), and enrols inside that sign-in.
    let step_up = browser.get("/admin").await;
    assert_eq!(step_up.location.as_deref(), Some("/login"), "{}", step_up.body);
    let again = browser.get("/login").await;
    assert!(again.has("name=\"password\"") && !again.has("otpauth"), "{}", again.body);
    let enrol = browser.password(&again, username, &format!("pw-{username}")).await;
    assert!(enrol.has("Set up your authenticator app"), "{}", enrol.body);
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&enrol.otpauth(), app.clock_now())).await;
    let back = browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;
    assert_eq!(back.location.as_deref(), Some("/admin"), "{}", back.body);
    browser
}

/// (action, path, form fields, permission needed)
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn the_permission_matrix_through_the_pages() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    let p = app.child("acme", "p", Some(&root), "admin");
    let c = app.child("acme", "c", Some(&p), "none");
    let g = app.child("acme", "g", Some(&c), "none");
    let s = app.child("acme", "s", Some(&root), "none");
    let o = app.child("acme", "o", Some(&root), "none");
    let oc = app.child("acme", "oc", Some(&o), "none");
    let x = app.child("other", "x", None, "admin");
    let browser = admin_browser(&app, "p").await;
    let csrf = browser.get("/account").await.csrf();

    let targets = [
        ("self", &p, false),
        ("parent", &root, false),
        ("child", &c, true),
        ("grandchild", &g, true),
        ("sibling", &s, false),
        ("other subtree", &oc, false),
        ("other tenant", &x, false),
    ];
    let rank = |p: &str| ["none", "read", "create", "admin"].iter().position(|x| *x == p).unwrap();
    let mut n = 0;
    for permission in ["none", "read", "create", "admin"] {
        app.set_permission(&p, permission);
        let list = browser.get("/admin").await;
        if permission == "none" {
            assert_eq!(list.status, 403);
        } else {
            assert!(
                list.has(">c</a>") && list.has(">g</a>") && !list.has(">s</a>") && !list.has(">root</a>"),
                "{}",
                list.body
            );
        }
        for (name, id, below) in &targets {
            n += 1;
            let username = format!("n{n}");
            let cases: [Case<'_>; 8] = [
                ("read", format!("/admin/users/{id}"), vec![], "read"),
                ("profile", format!("/admin/users/{id}/profile"), vec![("family_name", &username)], "create"),
                ("revoke", format!("/admin/users/{id}/revoke"), vec![("reason", "matrix")], "create"),
                ("enforce on", format!("/admin/users/{id}/enforcement"), vec![("enforced", "on")], "create"),
                ("enforce off", format!("/admin/users/{id}/enforcement"), vec![], "admin"),
                (
                    "disable",
                    format!("/admin/users/{id}/disabled"),
                    vec![("disabled", "true"), ("confirm", "yes")],
                    "admin",
                ),
                (
                    "enable",
                    format!("/admin/users/{id}/disabled"),
                    vec![("disabled", "false"), ("confirm", "yes")],
                    "admin",
                ),
                (
                    "create child",
                    "/admin/users/new".into(),
                    vec![("parent_id", id.as_str()), ("username", &username)],
                    "create",
                ),
            ];
            for (action, path, fields, needs) in cases {
                let allowed = (*below || (action == "create child" && *name == "self"))
                    && rank(permission) >= rank(needs);
                let page = if action == "read" {
                    browser.get(&path).await
                } else {
                    let mut form = vec![("csrf", csrf.as_str())];
                    form.extend(fields);
                    browser.post(&path, &form).await
                };
                // A refused form goes back to its page, saying so; a refused page is a 403.
                let ok = matches!(page.status, 200 | 303) && !page.has("class=\"error\"");
                assert_eq!(ok, allowed, "{permission} {action} on {name}: {} {}", page.status, page.body);
                if !allowed {
                    let said = page.status == 403 || page.has("does not allow") || page.has("not below you");
                    assert!(said, "{permission} {action} on {name}: {} {}", page.status, page.body);
                }
            }
        }
    }
}

#[tokio::test]
async fn revoking_from_the_pages_asks_for_a_reason_and_shows_in_the_audit_log() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let _ = app.admin_token("kid").await; // the kid enrols TOTP
    let browser = admin_browser(&app, "boss").await;
    let detail = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(detail.has("Activated") && detail.has("Revoke TOTP secret"), "{}", detail.body);
    let confirm = browser.get(&format!("/admin/users/{kid}/revoke")).await;
    assert!(confirm.has("Reason"), "{}", confirm.body);
    let missing = browser
        .post(&format!("/admin/users/{kid}/revoke"), &[("csrf", &confirm.csrf()), ("reason", "")])
        .await;
    assert!(missing.has("class=\"error\"") && missing.has("Revoke TOTP secret"), "{}", missing.body);
    let forged =
        browser.post(&format!("/admin/users/{kid}/revoke"), &[("csrf", "forged"), ("reason", "x")]).await;
    assert_eq!(forged.status, 403);
    let done = browser
        .post(&format!("/admin/users/{kid}/revoke"), &[("csrf", &confirm.csrf()), ("reason", "lost phone")])
        .await;
    assert!(done.has("TOTP revoked") && done.has("Not enrolled"), "{}", done.body);
    let reloaded = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(reloaded.has("Not enrolled") && !reloaded.has("TOTP revoked"), "said once");
    let audit = browser.get(&format!("/admin/audit?user={kid}")).await;
    assert!(audit.has("totp.revoked") && audit.has("reason: lost phone"), "{}", audit.body);
    assert!(!audit.has("{&quot;") && !audit.has("{\""), "no raw JSON: {}", audit.body);
    assert!(
        audit.has("<div class=\"table-scroll\" tabindex=\"0\" role=\"region\""),
        "a wide table scrolls inside the page, reachable by keyboard"
    );
    // Filters: the event from a list of those the log holds, and a range of days.
    let all = browser.get("/admin/audit").await;
    assert!(
        all.has("<option value=\"totp.revoked\">totp.revoked</option>") && all.has("type=\"date\""),
        "{}",
        all.body
    );
    let only = browser.get("/admin/audit?event=totp.revoked").await;
    assert!(
        only.has("<option value=\"totp.revoked\" selected>totp.revoked</option>")
            && only.has("reason: lost phone"),
        "{}",
        only.body
    );
    assert!(!only.has("<td>totp.activated</td>"), "{}", only.body);
    let day = watchword::http::pages::format_time(app.clock_now()).0[..10].to_owned();
    let today = browser.get(&format!("/admin/audit?event=totp.revoked&from={day}&to={day}")).await;
    assert!(today.has("reason: lost phone"), "{}", today.body);
    let later = browser.get("/admin/audit?event=totp.revoked&from=2099-01-01").await;
    assert!(!later.has("reason: lost phone"), "{}", later.body);
    let bad = browser.get("/admin/audit?from=yesterday").await;
    assert!(bad.status == 400 && bad.has("from must be a date"), "{} {}", bad.status, bad.body);
    assert!(audit.has("boss revoked the TOTP secret of kid"), "who and whom by name: {}", audit.body);
    assert!(audit.has("name=\"username\" type=\"text\" maxlength=\"200\" value=\"kid\""), "{}", audit.body);
    // The user filter by name, as typed; an unknown name shows nothing.
    let by_name = browser.get("/admin/audit?username=KID").await;
    assert!(by_name.has("reason: lost phone"), "{}", by_name.body);
    let nobody = browser.get("/admin/audit?username=nobody").await;
    assert!(
        nobody.status == 200 && !nobody.has("reason: lost phone") && !nobody.has("<td><time"),
        "{}",
        nobody.body
    );
    // A user's own detail page offers no revocation of itself.
    let own = browser.get(&format!("/admin/users/{boss}")).await;
    assert_eq!(own.status, 403);

    // Create a child with a one-time password shown once; the policy page saves.
    let new = browser.get("/admin/users/new").await;
    let created = browser
        .post(
            "/admin/users/new",
            &[("csrf", &new.csrf()), ("username", "fresh"), ("kind", "external"), ("permission", "none")],
        )
        .await;
    assert!(created.has("one-time password"), "{}", created.body);
    // A taken name: the form again, saying why, with what was typed.
    let again = browser
        .post(
            "/admin/users/new",
            &[
                ("csrf", &new.csrf()),
                ("username", "fresh"),
                ("email", "fresh@acme.example"),
                ("kind", "external"),
                ("permission", "read"),
                ("totp_required", "on"),
            ],
        )
        .await;
    assert_eq!(again.status, 200, "the form again, through a redirect");
    assert!(again.has("The username fresh is already taken"), "{}", again.body);
    assert!(
        again.has("value=\"fresh@acme.example\"") && again.has("<option value=\"external\" selected>"),
        "{}",
        again.body
    );
    assert!(
        again.has("<option value=\"read\" selected>read</option>") && again.has("value=\"on\" checked"),
        "{}",
        again.body
    );
    let bad = browser
        .post("/admin/users/new", &[("csrf", &new.csrf()), ("username", "has space"), ("kind", "internal")])
        .await;
    assert!(bad.status == 200 && bad.has("value=\"has space\"") && bad.has("form-error"), "{}", bad.body);
    assert!(!bad.has("username-prefix"), "the tenant's one top-level administrator names freely");
    // With a second top-level administrator, boss no longer sees everyone: the form says
    // its new users are named after it, and they are.
    app.child("acme", "other-root", None, "admin");
    let new = browser.get("/admin/users/new").await;
    assert!(new.has("a name you type becomes boss&#x2F;name"), "{}", new.body);
    let created = browser
        .post("/admin/users/new", &[("csrf", &new.csrf()), ("username", "fresh"), ("kind", "internal")])
        .await;
    assert!(created.has("Created boss&#x2F;fresh.") && created.has("one-time password"), "{}", created.body);
    let policy = browser.get("/admin/policy").await;
    assert!(policy.has("Enforce for internal users"), "{}", policy.body);
    let saved = browser
        .post(
            "/admin/policy",
            &[
                ("csrf", &policy.csrf()),
                ("enabled", "on"),
                ("enforce_external", "on"),
                ("algorithm", "SHA256"),
                ("digits", "8"),
                ("period", "30"),
                ("skew", "1"),
            ],
        )
        .await;
    assert!(saved.has("Policy saved."), "{}", saved.body);
    assert_eq!(app.tenant("acme").totp_algorithm, "SHA256");
    assert!(app.tenant("acme").enforce_external && !app.tenant("acme").enforce_internal);
}
