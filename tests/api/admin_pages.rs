//! The admin pages through the real server: step-up to a TOTP session, the permission
//! matrix as page actions, and the pages' own flows (revoke with a reason, create a user).

use crate::browser::{Browser, oathtool};
use crate::helpers::{TestApp, spawn_app};

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

#[tokio::test]
async fn a_parent_resets_a_password_from_the_pages_and_sees_it_once() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let browser = admin_browser(&app, "boss").await;
    let detail = browser.get(&format!("/admin/users/{kid}")).await;
    assert!(detail.has("Reset password"), "{}", detail.body);
    let forged = browser
        .post(&format!("/admin/users/{kid}/password"), &[("csrf", "forged"), ("confirm", "yes")])
        .await;
    assert_eq!(forged.status, 403);
    // Asked first: nothing happens until confirmed, and Cancel goes back.
    let asked = browser.post(&format!("/admin/users/{kid}/password"), &[("csrf", &detail.csrf())]).await;
    assert!(
        asked.has("Reset this user&#x27;s password?") || asked.has("Reset this user's password?"),
        "{}",
        asked.body
    );
    assert!(
        asked.has("name=\"confirm\" value=\"yes\"")
            && asked.has(&format!("href=\"/admin/users/{kid}\">Cancel"))
    );
    assert!(!app.is_temporary(&kid), "not reset yet");
    let disable = browser
        .post(&format!("/admin/users/{kid}/disabled"), &[("csrf", &detail.csrf()), ("disabled", "true")])
        .await;
    assert!(
        disable.has("Disable this user?") && disable.has("name=\"disabled\" value=\"true\""),
        "{}",
        disable.body
    );
    let done = browser
        .post(&format!("/admin/users/{kid}/password"), &[("csrf", &detail.csrf()), ("confirm", "yes")])
        .await;
    assert!(done.has("Password reset for kid") && done.has("shown only once"), "{}", done.body);
    let password = done.body.split("<code>").nth(1).unwrap().split("</code>").next().unwrap().to_owned();
    assert!(password.len() >= 16);
    // Oneself: refused.
    let own = browser
        .post(&format!("/admin/users/{boss}/password"), &[("csrf", &detail.csrf()), ("confirm", "yes")])
        .await;
    assert_eq!(own.status, 403, "{}", own.body);
    // The child signs in with it and must choose its own.
    let child = Browser::new(&app);
    child.get("/account?tenant=acme").await;
    let login = child.get("/login").await;
    let page = child.password(&login, "kid", &password).await;
    assert!(page.has("Choose a new password"), "{}", page.body);
    let audit = browser.get(&format!("/admin/audit?user={kid}")).await;
    assert!(audit.has("password.reset") && audit.has("boss reset the password of kid"), "{}", audit.body);
}

#[tokio::test]
async fn the_admin_step_up_asks_for_the_authenticator_and_spends_no_recovery_code() {
    let app = spawn_app().await;
    app.policy("default", |t| t.prompt_new_users = false);
    let boss = app.child("default", "boss", None, "admin");
    app.set_totp_required(&boss);
    let browser = Browser::new(&app);
    let login = browser.account_login("default").await;
    let enrol = browser.password(&login, "boss", "pw-boss").await;
    let codes = browser.code(&enrol, "/login/enrol", &oathtool(&enrol.otpauth(), app.clock_now())).await;
    let recovery = codes.codes();
    browser.post("/login/codes", &[("csrf", &codes.csrf())]).await;

    // Signed out, /admin signs in as usual — here with a recovery code — then the step-up
    // asks for the authenticator's code, and offers no recovery code it would not accept.
    let admin = Browser::new(&app);
    assert_eq!(admin.get("/admin").await.location.as_deref(), Some("/login"));
    let login = admin.get("/login").await;
    let code_page = admin.password(&login, "boss", "pw-boss").await;
    let signed_in =
        admin.post("/login/recovery", &[("csrf", &code_page.csrf()), ("code", &recovery[0])]).await;
    assert_eq!(signed_in.location.as_deref(), Some("/admin"), "{}", signed_in.body);
    assert_eq!(admin.get("/admin").await.location.as_deref(), Some("/login"), "a step-up");
    let step_up = admin.get("/login").await;
    assert!(step_up.has("action=\"/login/totp?flow=") && !step_up.has("recovery"), "{}", step_up.body);
    assert!(!step_up.has("Not you?"), "a step-up's user is its session's");
    let refused = admin.post("/login/recovery", &[("csrf", &step_up.csrf()), ("code", &recovery[1])]).await;
    assert!(refused.has("action=\"/login/totp?flow="), "back to the code page: {}", refused.body);
    let spent = app.events_of(&boss).iter().filter(|e| *e == "recovery_code.used").count();
    assert_eq!(spent, 1, "only the sign-in's");
    // That recovery code still works where it is accepted.
    let account = Browser::new(&app);
    let login = account.account_login("default").await;
    let page = account.password(&login, "boss", "pw-boss").await;
    let done = account.post("/login/recovery", &[("csrf", &page.csrf()), ("code", &recovery[1])]).await;
    assert_eq!(done.location.as_deref(), Some("/account"), "{}", done.body);
}

#[tokio::test]
async fn a_user_who_is_no_administrator_is_told_so_before_anything_is_asked_of_it() {
    let app = spawn_app().await;
    app.policy("default", |t| t.prompt_new_users = false);
    let plain = app.child("default", "plain", None, "none");
    // Signed out: sign in (password only: nothing requires a code), then told.
    let browser = Browser::new(&app);
    assert_eq!(browser.get("/admin").await.location.as_deref(), Some("/login"));
    let login = browser.get("/login").await;
    let back = browser.password(&login, "plain", "pw-plain").await;
    assert_eq!(back.location.as_deref(), Some("/admin"), "{}", back.body);
    let told = browser.get("/admin").await;
    assert!(told.status == 403 && told.has("Not an administrator"), "{}", told.body);
    // Signed in: told at once, with no step-up and no enrolment.
    assert!(browser.get("/admin").await.has("Not an administrator"));
    assert!(!app.events_of(&plain).iter().any(|e| e.starts_with("totp.")), "{:?}", app.events_of(&plain));
}

#[tokio::test]
async fn the_admin_pages_speak_german_too() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let boss = app.child("acme", "boss", None, "admin");
    let kid = app.child("acme", "kid", Some(&boss), "none");
    let browser = admin_browser(&app, "boss").await;
    let de = ("accept-language", "de-DE,de;q=0.9");
    let users = browser.get_with("/admin", de).await;
    assert!(
        users.has("<html lang=\"de\">") && users.has("Ihre Benutzer") && users.has("hreflang=\"en\""),
        "{}",
        users.body
    );
    assert!(users.has("1 Benutzer.") && users.has("Nicht eingerichtet"), "{}", users.body);

    // A disruptive act is asked first, in German, and said done in German.
    let page = browser.get_with(&format!("/admin/users/{kid}"), de).await;
    assert!(page.has("Benutzer sperren") && page.has("Nicht verlangt — nichts verlangt es"), "{}", page.body);
    let path = format!("/admin/users/{kid}/disabled");
    let asked = browser.post_with(&path, &[("csrf", &page.csrf()), ("disabled", "true")], de).await;
    assert!(
        asked.has("Diesen Benutzer sperren?")
            && asked.has("kid wird überall abgemeldet")
            && asked.has(">Abbrechen<"),
        "{}",
        asked.body
    );
    let done = browser
        .post_with(&path, &[("csrf", &page.csrf()), ("disabled", "true"), ("confirm", "yes")], de)
        .await;
    let shown = browser.get_with(done.location.as_deref().unwrap(), de).await;
    assert!(shown.has("Benutzer gesperrt und überall abgemeldet."), "{}", shown.body);
    // A refusal too: nobody disables their own account.
    let own = format!("/admin/users/{boss}/disabled");
    let refused = browser
        .post_with(&own, &[("csrf", &page.csrf()), ("disabled", "true"), ("confirm", "yes")], de)
        .await;
    let refused = browser.get_with(refused.location.as_deref().unwrap(), de).await;
    assert!(refused.has("Das können Sie nicht mit Ihrem eigenen Konto tun."), "{}", refused.body);

    // And a refused value, with the typed form kept.
    let policy = browser.get_with("/admin/policy", de).await;
    let fields = [
        ("csrf", policy.csrf()),
        ("enabled", "on".to_owned()),
        ("algorithm", "SHA1".to_owned()),
        ("digits", "9".to_owned()),
        ("period", "30".to_owned()),
        ("skew", "1".to_owned()),
        ("password_min_length", "12".to_owned()),
        ("remember_device_days", "0".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = browser.post_with("/admin/policy", &fields, de).await;
    let refused = browser.get_with(refused.location.as_deref().unwrap(), de).await;
    assert!(refused.has("Die Stellenzahl muss 6, 7 oder 8 sein."), "{}", refused.body);

    // The audit log reads as sentences in the page's language.
    let audit = browser.get_with("/admin/audit", de).await;
    assert!(audit.has("boss hat kid gesperrt") && audit.has("Was geschah"), "{}", audit.body);
    let english = browser.get_with("/admin/audit?lang=en", de).await;
    assert!(english.has("boss disabled kid") && english.has("What happened"), "{}", english.body);
    // The switcher's choice sticks over the browser's language.
    assert!(browser.get_with("/admin", de).await.has("Users below you"));
}
