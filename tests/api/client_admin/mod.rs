//! Client management beyond create: the `/api/v1/clients` API for tenant administrators
//! and the CLI's update, disable, enable and delete — each change seen by the running
//! server (token, refresh, introspection, authorize) and audited.

use serde_json::{Value, json};
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT};
use crate::conformance::{Rp, code_of, sign_in};
use crate::helpers::{TestApp, http_client};

mod pages;

async fn grant(app: &TestApp, rp: &Rp) -> u16 {
    rp.token(app, &[("grant_type", "client_credentials")]).await.0
}

/// A user signed in through `rp`: its tokens (with a refresh token).
async fn tokens_through(app: &TestApp, rp: &Rp) -> Value {
    let browser = Browser::new(app);
    browser.get(&rp.url("")).await;
    let done = sign_in(&browser, "quinn", "pw-quinn").await;
    let (status, tokens) = rp.exchange(app, &code_of(&done)).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn introspect(app: &TestApp, by: &Rp, token: &str) -> Value {
    let res = http_client()
        .post(format!("{}/introspect", app.address))
        .basic_auth(&by.id, by.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    res.json().await.unwrap()
}

#[tokio::test]
async fn tenant_administrators_manage_clients_through_the_api_and_each_change_takes_effect_at_once() {
    let app = crate::conformance::app_with_user().await;
    let boss = app.child("acme", "boss", None, "admin");
    app.child("acme", "deputy", Some(&boss), "admin");
    app.child("acme", "viewer", None, "read");
    let (token, _) = app.admin_token("boss").await;

    // Registered: the secret once, in the answer; listed and shown without it.
    let (status, created) = app
        .api(
            &token,
            "POST",
            "/clients",
            Some(json!({ "name": "Wiki", "redirect_uris": [REDIRECT], "trusted": true })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let rp = Rp {
        id: created["client_id"].as_str().unwrap().to_owned(),
        secret: created["client_secret"].as_str().map(str::to_owned),
    };
    let secret = rp.secret.clone().unwrap();
    assert_eq!((created["public"].clone(), created["disabled"].clone()), (json!(false), json!(false)));
    let (status, list) = app.api(&token, "GET", "/clients", None).await;
    assert_eq!(status, 200);
    assert!(list.as_array().unwrap().iter().any(|c| c["client_id"] == rp.id.as_str()), "{list}");
    let (status, shown) = app.api(&token, "GET", &format!("/clients/{}", rp.id), None).await;
    assert_eq!((status, shown["name"].clone()), (200, json!("Wiki")));
    assert!(!list.to_string().contains(&secret) && !shown.to_string().contains(&secret));
    assert_eq!(grant(&app, &rp).await, 200, "it works at once, and is now cached");

    // Only a tenant root with admin permission; nothing of it for anyone else.
    for who in ["deputy", "viewer"] {
        let (other, _) = app.admin_token(who).await;
        let (status, body) = app.api(&other, "GET", "/clients", None).await;
        assert_eq!(status, 403, "{who}: {body}");
        let (status, _) = app
            .api(&other, "PUT", &format!("/clients/{}/disabled", rp.id), Some(json!({ "disabled": true })))
            .await;
        assert_eq!(status, 403, "{who}");
    }
    // Bad requests are refused with the reason, and change nothing.
    for body in [
        json!({ "name": "x", "redirect_uris": [] }),
        json!({ "name": "x", "redirect_uris": ["https://a.example/cb#frag"] }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "id_token_alg": "HS256" }),
        json!({ "name": " ", "redirect_uris": [REDIRECT] }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "client_scopes": ["openid"] }),
        json!({ "name": "x", "redirect_uris": [REDIRECT], "secret": "mine" }),
    ] {
        let (status, answer) = app.api(&token, "POST", "/clients", Some(body.clone())).await;
        assert_eq!((status, answer["error"]["code"].clone()), (400, json!("invalid_request")), "{body}");
    }
    let path = format!("/clients/{}", rp.id);
    let (status, _) = app.api(&token, "PATCH", &path, Some(json!({ "public": true }))).await;
    assert_eq!(status, 400, "whether a client is public is fixed");
    assert_eq!(app.api(&token, "GET", "/clients/nobody", None).await.0, 404);

    // Changed: a new redirect URI, the old one refused at once on this instance.
    let moved = "https://rp.example/moved";
    let (status, changed) = app
        .api(
            &token,
            "PATCH",
            &path,
            Some(json!({ "name": "Wiki 2", "redirect_uris": [moved], "client_scopes": ["api"] })),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["name"].clone(), changed["redirect_uris"].clone()),
        (json!("Wiki 2"), json!([moved]))
    );
    assert_eq!(changed["client_scopes"], json!(["api"]));
    let browser = Browser::new(&app);
    let refused = browser.get(&rp.url("")).await;
    assert_eq!(refused.status, 400, "the old redirect URI: {}", refused.body);
    assert!(refused.location.is_none());
    let (status, _) = app.api(&token, "PATCH", &path, Some(json!({ "redirect_uris": [REDIRECT] }))).await;
    assert_eq!(status, 200);

    // A user's tokens through it, for what disabling does to them.
    let tokens = tokens_through(&app, &rp).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token").to_owned();
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let other = Rp::new(&app, SigningAlg::Es256, false, true);
    assert_eq!(introspect(&app, &other, &access).await["active"], true);

    // Rotated: the new secret at once, the old one within the grace only.
    let (status, rotated) =
        app.api(&token, "POST", &format!("{path}/rotate-secret"), Some(json!({ "grace": 0 }))).await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = Rp { id: rp.id.clone(), secret: rotated["client_secret"].as_str().map(str::to_owned) };
    assert_eq!(grant(&app, &fresh).await, 200);
    assert_eq!(grant(&app, &rp).await, 401, "no grace asked: the old secret ends at once");
    let (status, _) =
        app.api(&token, "POST", &format!("{path}/rotate-secret"), Some(json!({ "grace": -1 }))).await;
    assert_eq!(status, 400);

    // Disabled: refused everywhere at once; its refresh tokens revoked for good.
    let disabled = format!("{path}/disabled");
    let (status, off) = app.api(&token, "PUT", &disabled, Some(json!({ "disabled": true }))).await;
    assert_eq!((status, off["disabled"].clone()), (200, json!(true)));
    assert!(off["disabled_at"].is_i64());
    assert_eq!(grant(&app, &fresh).await, 401);
    assert_eq!(introspect(&app, &other, &access).await["active"], false, "its access tokens end with it");
    let page = Browser::new(&app).get(&fresh.url("")).await;
    assert_eq!((page.status, page.location.is_none()), (400, true), "no sign-in for it: {}", page.body);
    let (status, _) = app.api(&token, "PUT", &disabled, Some(json!({ "disabled": false }))).await;
    assert_eq!(status, 200);
    assert_eq!(grant(&app, &fresh).await, 200, "enabled again");
    let (status, body, _) =
        fresh.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_grant")),
        "the refresh token stays revoked"
    );
    assert!(tokens_through(&app, &fresh).await["access_token"].is_string(), "users sign in afresh");

    // Deleted: gone, with its tokens; another tenant's administrator never saw it.
    let (status, body) = app.api(&token, "DELETE", &path, None).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(app.api(&token, "GET", &path, None).await.0, 404);
    assert_eq!(app.api(&token, "DELETE", &path, None).await.0, 404);
    assert_eq!(grant(&app, &fresh).await, 401);

    // Every change audited, with who made it.
    let (_, audit) = app.api(&token, "GET", "/audit", None).await;
    for event in [
        "client.created",
        "client.updated",
        "client.secret_rotated",
        "client.disabled",
        "client.enabled",
        "client.deleted",
    ] {
        let found = audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event"] == event && e["detail"]["client_id"] == rp.id.as_str());
        let found = found.unwrap_or_else(|| panic!("{event} missing: {audit}"));
        assert_eq!(
            (found["actor"].clone(), found["detail"]["via"].clone()),
            (json!(boss), json!("admin")),
            "{event}"
        );
    }
    let disabled_event = audit.as_array().unwrap().iter().find(|e| e["event"] == "client.disabled").unwrap();
    assert_eq!(disabled_event["detail"]["refresh_tokens_revoked"], 1, "{disabled_event}");
}

#[tokio::test]
async fn the_cli_updates_disables_enables_and_deletes_a_client() {
    let app = crate::conformance::app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    let cli = crate::helpers::Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let run = |args: &[&str]| {
        let mut all = vec!["client"];
        all.extend_from_slice(args);
        all.extend(["--tenant", "acme", "--client-id", rp.id.as_str(), "--json"]);
        let out = cli.command(&all).env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            serde_json::from_str::<Value>(&stdout).unwrap_or(Value::Null),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let tokens = tokens_through(&app, &rp).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let (ok, updated, stderr) = run(&[
        "update",
        "--name",
        "Renamed",
        "--redirect-uri",
        "https://rp.example/a",
        "--redirect-uri",
        REDIRECT,
        "--trusted",
        "false",
        "--access-token-alg",
        "EdDSA",
        "--no-post-logout-redirect-uris",
    ]);
    assert!(ok, "{stderr}");
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["redirect_uris"], json!(["https://rp.example/a", REDIRECT]));
    assert_eq!(
        (updated["trusted"].clone(), updated["access_token_alg"].clone()),
        (json!(false), json!("EdDSA"))
    );
    assert_eq!(updated["post_logout_redirect_uris"], json!([]));
    assert_eq!(updated["id_token_alg"], "ES256", "what was not given stays");
    let (ok, _, stderr) = run(&["update", "--id-token-alg", "none"]);
    assert!(!ok && stderr.contains("none"), "{stderr}");
    let (ok, _, stderr) = run(&["update", "--redirect-uri", "not a uri"]);
    assert!(!ok && stderr.contains("malformed redirect URI"), "{stderr}");

    let (ok, off, stderr) = run(&["disable"]);
    assert!(ok && off["disabled"] == true, "{stderr}");
    // The running server had it cached: refused once its cache lapses (30 s).
    app.clock.advance(31);
    assert_eq!(grant(&app, &rp).await, 401);
    let (ok, on, _) = run(&["enable"]);
    assert!(ok && on["disabled"] == false);
    app.clock.advance(31);
    assert_eq!(grant(&app, &rp).await, 200);
    let (status, _, _) =
        rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(status, 400, "disabling revoked its refresh tokens");

    let (ok, _, stderr) = run(&["delete"]);
    assert!(!ok && stderr.contains("--yes"), "a deletion is confirmed: {stderr}");
    let (ok, gone, stderr) = run(&["delete", "--yes"]);
    assert!(ok && gone["deleted"] == true, "{stderr}");
    let (ok, _, stderr) = run(&["show"]);
    assert!(!ok && stderr.contains("no client"), "{stderr}");
    for event in ["client.updated", "client.disabled", "client.enabled", "client.deleted"] {
        assert_eq!(app.count_events(event), 1, "{event}");
    }
}

/// The text of the first `<code class="secret">` on a page.
fn secret_on(page: &crate::browser::Page) -> Option<String> {
    page.body
        .split("<code class=\"secret\">")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .map(str::to_owned)
}
