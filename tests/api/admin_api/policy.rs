//! What the admin API's policy changes do to the next login, and what it explains.

use diesel::prelude::*;
use serde_json::{Value, json};
use watchword::store::schema::users;

use crate::browser::Browser;
use crate::helpers::spawn_app;

#[tokio::test]
async fn enforcement_per_user_per_kind_and_the_new_user_prompt_change_the_next_login() {
    let app = spawn_app().await;
    let root = app.child("acme", "boss", None, "admin");
    let worker = app.child("acme", "worker", Some(&root), "none");
    let (token, _) = app.admin_token("boss").await;
    let client = app.client("acme", false, false);
    let next_page = |username: &'static str| {
        let app = &app;
        let client_id = client.client.id.clone();
        async move {
            let browser = Browser::new(app);
            let login = browser.start(&client_id).await;
            browser.password(&login, username, &format!("pw-{username}")).await
        }
    };
    // New users are prompted by default.
    assert!(next_page("worker").await.has("Set up now"));
    // Prompt off: password only.
    let mut policy = app.api(&token, "GET", "/tenant/policy", None).await.1;
    policy["prompt_new_users"] = json!(false);
    assert_eq!(app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await.0, 200);
    assert_eq!(next_page("worker").await.status, 302);
    // Enforced for this user: enrolment.
    assert_eq!(
        app.api(
            &token,
            "PUT",
            &format!("/users/{worker}/totp-enforcement"),
            Some(json!({ "enforced": true }))
        )
        .await
        .0,
        200
    );
    assert!(next_page("worker").await.has("Set up your authenticator app"));
    assert_eq!(
        app.api(
            &token,
            "PUT",
            &format!("/users/{worker}/totp-enforcement"),
            Some(json!({ "enforced": false }))
        )
        .await
        .0,
        200
    );
    assert_eq!(next_page("worker").await.status, 302);
    // Enforced for internal users: enrolment; for external users only: not for this internal one.
    policy["enforce_external"] = json!(true);
    app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await;
    assert_eq!(next_page("worker").await.status, 302);
    policy["enforce_internal"] = json!(true);
    app.api(&token, "PUT", "/tenant/policy", Some(policy.clone())).await;
    assert!(next_page("worker").await.has("Set up your authenticator app"));
    // A bad policy is refused with a clear error.
    policy["digits"] = json!(9);
    let (status, answer) = app.api(&token, "PUT", "/tenant/policy", Some(policy)).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], "invalid_request");
    // A disabled user cannot sign in (the generic error).
    app.api(&token, "PUT", &format!("/users/{worker}/disabled"), Some(json!({ "disabled": true }))).await;
    assert!(next_page("worker").await.has("Invalid username or password"));
}

#[tokio::test]
async fn a_refused_username_is_always_held_by_a_user_the_administrator_sees() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    let root = app.child("acme", "root", None, "admin");
    app.child("acme", "p", Some(&root), "create");
    app.child("acme", "elsewhere", Some(&root), "none");
    let create = async |token: &str, body: Value| {
        let (status, body) = app.api(token, "POST", "/users", Some(body)).await;
        let name = body["user"]["username"].as_str().map(str::to_owned);
        (status, name, body)
    };
    // The tenant's one top-level administrator sees everyone: it names users as typed.
    let (root_token, _) = app.admin_token("root").await;
    let (status, name, body) = create(&root_token, json!({ "username": "free" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("free")), "{body}");

    // Below it, a plain name gets the creator's name in front: a name taken outside the
    // creator's subtree is just another free name, and its answer tells nothing.
    let (token, _) = app.admin_token("p").await;
    let (status, name, body) = create(&token, json!({ "username": "elsewhere" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/elsewhere")), "{body}");
    // That is the name its user signs in with.
    let browser = Browser::new(&app);
    let login = browser.account_login("acme").await;
    let one_time = body["one_time_password"].as_str().unwrap();
    let page = browser.password(&login, "p/elsewhere", one_time).await;
    assert!(page.has("Choose a new password"), "{}", page.body);
    let (status, name, body) = create(&token, json!({ "username": "q", "permission": "create" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/q")), "{body}");
    let q = body["user"]["id"].as_str().unwrap().to_owned();
    // Taken: a 409, and the holder is below p.
    let (status, _, body) = create(&token, json!({ "username": "P/Elsewhere" })).await;
    assert_eq!(status, 409, "{body}");
    // A name owned by a user outside p's subtree, above it, or by no one: refused alike.
    let (status, _, outside) = create(&token, json!({ "username": "elsewhere/x" })).await;
    assert_eq!(status, 400, "{outside}");
    for owner in ["root", "nobody", "free"] {
        let (status, _, body) = create(&token, json!({ "username": format!("{owner}/x") })).await;
        assert_eq!((status, &body), (400, &outside), "{owner}");
    }
    // p/q/… is q's: p may give it, but only below q.
    let (status, name, body) = create(&token, json!({ "username": "p/q/z", "parent_id": q })).await;
    assert_eq!((status, name.as_deref()), (201, Some("p/q/z")), "{body}");
    let (status, _, body) = create(&token, json!({ "username": "p/q/w" })).await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = create(&token, json!({ "username": "x".repeat(65) })).await;
    assert_eq!(status, 400, "{body}");

    // A second top-level administrator: the first no longer sees everyone.
    app.child("acme", "root2", None, "admin");
    let (status, name, body) = create(&root_token, json!({ "username": "later" })).await;
    assert_eq!((status, name.as_deref()), (201, Some("root/later")), "{body}");
    let acme = app.tenant("acme").id;
    let names: Vec<String> = app
        .store
        .run_blocking(move |c| -> Result<Vec<String>, watchword::store::StoreError> {
            Ok(users::table.filter(users::tenant_id.eq(acme)).select(users::username).load(c)?)
        })
        .unwrap();
    let made = ["free", "p/elsewhere", "p/q", "p/q/z", "root/later"];
    assert_eq!(names.iter().filter(|n| made.contains(&n.as_str())).count(), made.len(), "{names:?}");
    assert_eq!(names.len(), made.len() + 4, "nothing refused was written: {names:?}");
}

#[tokio::test]
async fn the_effective_totp_requirement_is_explained_per_user_and_client() {
    let app = spawn_app().await;
    app.policy("acme", |t| {
        t.prompt_new_users = false;
        t.enforce_internal = true;
        t.remember_device_days = Some(7);
    });
    let strict = app.client("acme", false, true);
    let refusing = app.client_with("acme", false, false, |c| c.allow_remembered_devices = false);
    let parent = app.child("acme", "parent", None, "admin");
    let kid = app.child("acme", "kid", Some(&parent), "none");
    let guest = app.child("acme", "guest", Some(&parent), "none");
    let guest2 = guest.clone();
    app.store
        .run_blocking(move |c| -> Result<usize, watchword::store::StoreError> {
            Ok(diesel::update(users::table.find(guest2)).set(users::kind.eq("external")).execute(c)?)
        })
        .unwrap();
    let (token, _) = app.admin_token("parent").await;

    let policy_of = async |id: &str| {
        let (status, body) = app.api(&token, "GET", &format!("/users/{id}"), None).await;
        assert_eq!(status, 200, "{body}");
        body["totp_policy"].clone()
    };
    let kids = policy_of(&kid).await;
    assert_eq!(
        (kids["requirement"].as_str(), kids["decided_by"].as_str()),
        (Some("required"), Some("tenant_internal"))
    );
    assert_eq!(kids["has_active_totp"], false);
    let by_client = |p: &Value, id: &str| {
        p["clients"].as_array().unwrap().iter().find(|c| c["client_id"] == id).cloned().unwrap()
    };
    assert_eq!(by_client(&kids, &strict.client.id)["decided_by"], "client");
    assert_eq!(by_client(&kids, &strict.client.id)["remembered_devices"], "single_factor");
    assert_eq!(by_client(&kids, &refusing.client.id)["remembered_devices"], "refused");
    let guests = policy_of(&guest).await;
    assert_eq!(
        (guests["requirement"].as_str(), guests["decided_by"].as_str()),
        (Some("not_required"), Some("nothing"))
    );
    assert_eq!(by_client(&guests, &strict.client.id)["requirement"], "required", "the client asks anyway");

    // The user's own switch is more specific than the tenant's; the tenant's off switch waives both.
    app.set_totp_required(&guest);
    assert_eq!(policy_of(&guest).await["decided_by"], "user");
    app.policy("acme", |t| t.totp_enabled = false);
    let off = policy_of(&guest).await;
    assert_eq!(
        (off["requirement"].as_str(), off["decided_by"].as_str()),
        (Some("not_required"), Some("tenant"))
    );
    assert_eq!(by_client(&off, &strict.client.id)["decided_by"], "client");
    assert!(off["reason"].as_str().unwrap().contains("switched off for this tenant"));
}
