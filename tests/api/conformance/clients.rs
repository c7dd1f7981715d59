//! Codes (reuse, expiry, their bindings) and client authentication: secrets, PKCE for
//! public clients, secret rotation.

use serde_json::Value;
use watchword::oidc::keys::SigningAlg;

use super::{Rp, VERIFIER, app_with_user, claims, code_of, header, sign_in};
use crate::browser::{Browser, REDIRECT};
use crate::helpers::{http_client, spawn_app};

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_the_first_use_issued() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let (status, first) = rp.exchange(&app, &code).await;
    assert_eq!(status, 200);
    app.clock.advance(30);
    let (status, second) = rp.exchange(&app, &code).await;
    assert_eq!(status, 400);
    assert_eq!(second["error"], "invalid_grant");
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, body, _) =
        rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let userinfo = http_client()
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401, "the first access token is revoked too");
}

#[tokio::test]
async fn codes_expire_after_60_seconds_and_bind_redirect_uri_and_pkce() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);

    browser.get(&rp.url("")).await;
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let (_, body, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", "the-wrong-verifier-of-at-least-forty-three-chars-000"),
            ],
        )
        .await;
    assert_eq!(body["error"], "invalid_grant", "wrong PKCE verifier");

    let code = code_of(&browser.get(&rp.url("")).await);
    let (_, body, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://rp.example/other"),
                ("code_verifier", VERIFIER),
            ],
        )
        .await;
    assert_eq!(body["error"], "invalid_grant", "another redirect_uri");

    let code = code_of(&browser.get(&rp.url("")).await);
    app.clock.advance(61);
    assert_eq!(rp.exchange(&app, &code).await.1["error"], "invalid_grant", "expired");
}

#[tokio::test]
async fn client_authentication_failures_are_401_with_a_challenge() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let wrong = Rp { id: rp.id.clone(), secret: Some("wrong".into()) };
    let (status, body, challenge) = wrong.token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(challenge.unwrap().starts_with("Basic"));
    let (status, body, _) = rp.token(&app, &[("grant_type", "password")]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    let (status, body, _) = rp.token(&app, &[("grant_type", "client_credentials"), ("scope", "")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["sub"], rp.id);
    assert!(body.get("id_token").is_none() && body.get("refresh_token").is_none());
    // Only the scopes registered for the client (here `reports:read`): anything else,
    // the admin API's scope above all, is refused.
    let (status, body, _) =
        rp.token(&app, &[("grant_type", "client_credentials"), ("scope", "reports:read")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["scope"], "reports:read");
    for asked in ["watchword:admin anything-i-like", "reports:read reports:write", "openid"] {
        let (status, body, _) =
            rp.token(&app, &[("grant_type", "client_credentials"), ("scope", asked)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{asked}: {body}");
    }
    let garbage = http_client()
        .post(format!("{}/token", app.address))
        .body("%%%")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let body: Value = garbage.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // A public client cannot use client credentials, and must use PKCE.
    let public = Rp::new(&app, SigningAlg::Rs256, true, true);
    let (_, body, _) = public.token(&app, &[("grant_type", "client_credentials")]).await;
    assert_eq!(body["error"], "unauthorized_client");
}

#[tokio::test]
async fn a_public_client_signs_in_with_pkce_and_no_secret() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::EdDsa, true, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (status, body) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(body["id_token"].as_str().unwrap())["alg"], "EdDSA");
}

/// A rotated client secret works at once on a server that had the client cached; the
/// old one keeps working for the grace period and not a second longer; a public client
/// has nothing to rotate; each rotation is audited.
#[tokio::test]
async fn a_rotated_client_secret_works_at_once_and_the_old_one_for_its_grace() {
    use watchword::oidc::clients::rotate_secret;
    use watchword::tenancy::Slug;
    let app = spawn_app().await;
    let rp = Rp::new(&app, SigningAlg::Es256, false, true);
    let with = |secret: &str| Rp { id: rp.id.clone(), secret: Some(secret.to_owned()) };
    let grant = async |rp: &Rp| rp.token(&app, &[("grant_type", "client_credentials")]).await.0;
    let old = rp.secret.clone().unwrap();
    assert_eq!(grant(&rp).await, 200, "the client is now cached");

    // Rotated on the server's clock (by another instance, say) with an hour's grace.
    let acme = Slug::parse("acme").unwrap();
    let (id, now) = (rp.id.clone(), app.clock_now());
    let (new, until) = app
        .store
        .run_blocking(|c| {
            let tenant = watchword::tenancy::service::find_tenant(c, &acme)?;
            rotate_secret(c, &tenant.id, &id, 3600, &Default::default(), now)
        })
        .unwrap();
    assert_eq!(until, now + 3600);
    assert_eq!(grant(&with(&new)).await, 200, "the new secret at once");
    assert_eq!(grant(&with(&old)).await, 200, "the old one in its grace");
    assert_eq!(grant(&with("not-a-secret")).await, 401);
    app.clock.advance(3600);
    assert_eq!(grant(&with(&old)).await, 401, "the grace is over");
    assert_eq!(grant(&with(&new)).await, 200);

    // Through the CLI, with no grace: the printed secret works, the one before does not.
    let cli = crate::helpers::Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let run = |args: &[&str]| {
        let out = cli.command(args).env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = run(&[
        "client",
        "rotate-secret",
        "--tenant",
        "acme",
        "--client-id",
        &rp.id,
        "--grace",
        "0",
        "--json",
    ]);
    assert!(ok, "{stderr}");
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    let newest = printed["client_secret"].as_str().unwrap();
    assert_eq!(grant(&with(newest)).await, 200);
    assert_eq!(grant(&with(&new)).await, 401);
    // A generated id may begin with "-" (base64url): still taken as the id.
    let (ok, _, stderr) = run(&["client", "show", "--tenant", "acme", "--client-id", "-Cnobody"]);
    assert!(!ok && stderr.contains("no client -Cnobody"), "{stderr}");
    // Shown: its settings and when the last rotated secret stops, never a secret.
    let (ok, stdout, stderr) = run(&["client", "show", "--tenant", "acme", "--client-id", &rp.id, "--json"]);
    assert!(ok, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["client_id"], rp.id.as_str());
    assert!(shown["previous_secret_valid_until"].is_i64(), "{shown}");
    assert!(!stdout.contains(newest) && !stdout.contains(&old) && shown.get("client_secret").is_none());
    let (ok, _, _) = run(&["client", "show", "--tenant", "other", "--client-id", &rp.id]);
    assert!(!ok, "another tenant's slug does not show it");

    // Refusals: a public client, an unknown client, a grace out of range.
    let public = Rp::new(&app, SigningAlg::Es256, true, true);
    for args in [
        vec!["client", "rotate-secret", "--tenant", "acme", "--client-id", public.id.as_str()],
        vec!["client", "rotate-secret", "--tenant", "acme", "--client-id", "nobody"],
        vec![
            "client",
            "rotate-secret",
            "--tenant",
            "acme",
            "--client-id",
            rp.id.as_str(),
            "--grace",
            "2592001",
        ],
    ] {
        let (ok, _, stderr) = run(&args);
        assert!(!ok && !stderr.trim().is_empty(), "{args:?}");
    }
    assert_eq!(app.count_events("client.secret_rotated"), 2);
}
