//! Clients managed from the admin pages, and a client changed during a sign-in.

use serde_json::json;
use watchword::oidc::keys::SigningAlg;

use super::{grant, secret_on};
use crate::browser::{Browser, REDIRECT};
use crate::conformance::Rp;

#[tokio::test]
async fn tenant_administrators_manage_clients_from_the_pages() {
    let app = crate::conformance::app_with_user().await;
    let boss = app.child("acme", "boss", None, "admin");
    app.child("acme", "deputy", Some(&boss), "admin");
    let browser = crate::admin_pages::admin_browser(&app, "boss").await;
    assert!(browser.get("/admin").await.has("href=\"/admin/clients\""));
    let list = browser.get("/admin/clients").await;
    assert!(list.has("Register a client"), "{}", list.body);
    let forged = browser
        .post("/admin/clients", &[("csrf", "forged"), ("name", "x"), ("redirect_uris", REDIRECT)])
        .await;
    assert_eq!(forged.status, 403);

    // Registered: its page shows the secret this once.
    let form = [
        ("csrf", list.csrf()),
        ("name", "Wiki".into()),
        ("redirect_uris", format!("{REDIRECT}\r\n")),
        ("trusted", "on".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = browser.post("/admin/clients", &form).await;
    assert!(created.has("Client registered.") && created.has("shown this once"), "{}", created.body);
    let id =
        created.body.split("Client ID: <code>").nth(1).unwrap().split("</code>").next().unwrap().to_owned();
    let rp = Rp { id: id.clone(), secret: secret_on(&created) };
    assert_eq!(grant(&app, &rp).await, 200);
    let page = browser.get(&format!("/admin/clients/{id}")).await;
    assert!(secret_on(&page).is_none(), "never shown again");
    assert!(browser.get("/admin/clients").await.has(&format!("href=\"/admin/clients/{id}\">Wiki</a>")));

    // Changed; a bad change is refused with the reason and changes nothing.
    let csrf = page.csrf();
    let save = |name: &'static str, uris: &'static str| {
        let (browser, csrf, id) = (&browser, csrf.clone(), id.clone());
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("name", name),
                ("redirect_uris", uris),
                ("post_logout_redirect_uris", ""),
                ("trusted", "on"),
                ("allow_remembered_devices", "on"),
                ("id_token_alg", "ES256"),
                ("access_token_alg", "EdDSA"),
                ("client_scopes", "api reports"),
            ];
            browser.post(&format!("/admin/clients/{id}"), &fields).await
        }
    };
    let saved = save("Wiki 2", "https://rp.example/cb\nhttps://rp.example/other").await;
    assert!(saved.has("Client saved.") && saved.has("<h1>Wiki 2</h1>"), "{}", saved.body);
    assert!(
        saved.has("<option selected>EdDSA</option>") && saved.has("value=\"api reports\""),
        "{}",
        saved.body
    );
    let refused = save("Wiki 3", "").await;
    assert!(refused.has("at least one redirect URI") && refused.has("<h1>Wiki 2</h1>"), "{}", refused.body);

    // Rotated, disabled, enabled.
    let rotated = browser.post(&format!("/admin/clients/{id}/rotate-secret"), &[("csrf", &csrf)]).await;
    assert!(rotated.has("New secret made."), "{}", rotated.body);
    let fresh = Rp { id: id.clone(), secret: secret_on(&rotated) };
    assert_ne!(fresh.secret, rp.secret);
    assert_eq!((grant(&app, &fresh).await, grant(&app, &rp).await), (200, 200), "the old one in its grace");
    let off =
        browser.post(&format!("/admin/clients/{id}/disabled"), &[("csrf", &csrf), ("disabled", "on")]).await;
    assert!(off.has("Client disabled") && off.has("Enable client"), "{}", off.body);
    assert_eq!(grant(&app, &fresh).await, 401);
    let on = browser.post(&format!("/admin/clients/{id}/disabled"), &[("csrf", &csrf)]).await;
    assert!(on.has("Client enabled."), "{}", on.body);
    assert_eq!(grant(&app, &fresh).await, 200);

    // Deleted, after being asked.
    let asked = browser.post(&format!("/admin/clients/{id}/delete"), &[("csrf", &csrf)]).await;
    assert!(
        asked.has("Delete this client?") && asked.has("name=\"confirm\" value=\"yes\""),
        "{}",
        asked.body
    );
    assert_eq!(grant(&app, &fresh).await, 200, "not yet");
    let gone =
        browser.post(&format!("/admin/clients/{id}/delete"), &[("csrf", &csrf), ("confirm", "yes")]).await;
    assert!(gone.has("Client deleted.") && !gone.has(&id), "{}", gone.body);
    assert_eq!(grant(&app, &fresh).await, 401);
    assert_eq!(browser.get(&format!("/admin/clients/{id}")).await.status, 404);

    // Not for an administrator below the tenant's root.
    let deputy = crate::admin_pages::admin_browser(&app, "deputy").await;
    assert_eq!(deputy.get("/admin/clients").await.status, 403);
    assert!(!deputy.get("/admin").await.has("href=\"/admin/clients\""));
    for event in [
        "client.created",
        "client.updated",
        "client.secret_rotated",
        "client.disabled",
        "client.enabled",
        "client.deleted",
    ] {
        assert!(app.count_events(event) >= 1, "{event}");
    }
}

/// A client disabled or deleted while one of its users is signing in: the sign-in ends
/// with a readable page — no code, never a 500 — whether this instance had the client
/// cached (deleted elsewhere) or not.
#[tokio::test]
async fn a_client_disabled_or_deleted_during_a_sign_in_gets_no_code() {
    let app = crate::conformance::app_with_user().await;
    app.child("acme", "boss", None, "admin");
    let (token, _) = app.admin_token("boss").await;
    for how in ["disabled through the API", "deleted through the API", "deleted elsewhere"] {
        let rp = Rp::new(&app, SigningAlg::Es256, false, true);
        let browser = Browser::new(&app);
        browser.get(&rp.url("")).await;
        let login = browser.get("/login").await;
        match how {
            "disabled through the API" => {
                let path = format!("/clients/{}/disabled", rp.id);
                assert_eq!(app.api(&token, "PUT", &path, Some(json!({ "disabled": true }))).await.0, 200);
            }
            "deleted through the API" => {
                assert_eq!(app.api(&token, "DELETE", &format!("/clients/{}", rp.id), None).await.0, 204);
            }
            _ => {
                // Another instance (or the CLI) deleted it: this one still has it cached.
                let (acme, id) = (watchword::tenancy::Slug::parse("acme").unwrap(), rp.id.clone());
                app.store
                    .run_blocking(|c| {
                        let tenant = watchword::tenancy::service::find_tenant(c, &acme)?;
                        watchword::oidc::client_settings::delete_client(
                            c,
                            &tenant.id,
                            &id,
                            &Default::default(),
                            0,
                        )
                    })
                    .unwrap();
            }
        }
        let done = browser.password(&login, "quinn", "pw-quinn").await;
        assert!(done.status < 500, "{how}: {} {}", done.status, done.body);
        let location = done.location.clone().unwrap_or_default();
        assert!(!location.contains("code="), "{how}: no code: {location}");
        let page = match done.location.as_deref() {
            Some(to) if to.starts_with('/') => browser.get(to).await,
            _ => done,
        };
        assert!(
            page.status < 500 && !page.location.as_deref().unwrap_or("").contains("code="),
            "{how}: {} {:?} {}",
            page.status,
            page.location,
            page.body
        );
        if how == "deleted elsewhere" {
            // The code's write met the deleted client: nothing written, a page that says so.
            assert_eq!(page.status, 409, "{}", page.body);
            assert!(page.has("no longer exists"), "{}", page.body);
        }
    }
}
