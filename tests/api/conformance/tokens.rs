//! Refresh, revocation and introspection; signing keys published and rotated.

use serde_json::Value;
use watchword::oidc::keys::SigningAlg;

use super::{Rp, app_with_user, code_of, header, sign_in};
use crate::browser::Browser;
use crate::helpers::{http_client, spawn_app, spawn_app_with};

#[tokio::test]
async fn refresh_narrows_scope_never_widens_and_revoke_and_introspect_work() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, wider, _) = rp
        .token(
            &app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("scope", "openid offline_access"),
            ],
        )
        .await;
    assert_eq!((status, wider["error"].as_str()), (400, Some("invalid_scope")));
    let (status, narrower, _) = rp
        .token(&app, &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("scope", "openid")])
        .await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");

    let introspect = |token: String| {
        let (id, secret, address) = (rp.id.clone(), rp.secret.clone().unwrap(), app.address.clone());
        async move {
            let res = http_client()
                .post(format!("{address}/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let access = narrower["access_token"].as_str().unwrap().to_owned();
    let newest = narrower["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(access.clone()).await["active"], true);
    assert_eq!(introspect(newest.clone()).await["token_type"], "refresh_token");
    assert_eq!(introspect("nonsense".into()).await, serde_json::json!({ "active": false }));
    // A client of another tenant learns nothing about this tenant's tokens.
    let stranger = app.client("globex", false, false);
    let res = http_client()
        .post(format!("{}/introspect", app.address))
        .basic_auth(&stranger.client.id, stranger.secret.as_deref())
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!({ "active": false }));

    let revoke = http_client()
        .post(format!("{}/revoke", app.address))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("token", newest.as_str()), ("token_type_hint", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 200);
    assert_eq!(introspect(newest.clone()).await["active"], false);
    assert_eq!(introspect(access).await["active"], false, "the family's access tokens go with it");
    let (_, body, _) = rp.token(&app, &[("grant_type", "refresh_token"), ("refresh_token", &newest)]).await;
    assert_eq!(body["error"], "invalid_grant");
}

/// A key published elsewhere (another instance, the CLI) is in this server's JWKS within
/// seconds — its cache compares the keys' stamp every two seconds, not a minute — and
/// signs from the moment it was given, not up to a minute later.
#[tokio::test]
async fn a_key_published_elsewhere_is_served_within_seconds_and_signs_on_time() {
    use watchword::oidc::keys::{CHECK_EVERY, publish_next};
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "sam", "pw-sam", false);
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "sam", "pw-sam").await)).await;
    let kid_of =
        |tokens: &Value| header(tokens["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();
    let old_kid = kid_of(&tokens);
    let jwks_kids = async || -> Vec<String> {
        let jwks = crate::helpers::get_json(&format!("{}/jwks", app.address)).await;
        jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
    };
    assert!(jwks_kids().await.contains(&old_kid));

    // Published by someone else, to sign in 30 s.
    let keyring = watchword::auth::keyring::Keyring::parse(crate::helpers::TEST_KEYS).unwrap();
    let now = app.clock_now();
    let next = app.store.run_blocking(|c| publish_next(c, &keyring, SigningAlg::Rs256, 30, now)).unwrap();
    app.clock.advance(CHECK_EVERY);
    let kids = jwks_kids().await;
    assert!(kids.contains(&next.id) && kids.contains(&old_kid), "published at once: {kids:?}");
    let signed = async || kid_of(&rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await.1);
    assert_eq!(signed().await, old_kid, "not before its moment");
    app.clock.advance(30 - CHECK_EVERY);
    assert_eq!(signed().await, next.id, "from its moment on");
    assert!(jwks_kids().await.contains(&old_kid), "the old key stays published for its tokens");
}

#[tokio::test]
async fn a_token_signed_before_rotation_verifies_against_jwks_after_it() {
    let app = spawn_app_with(|s| s.key_rotation_delay = 0).await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "sam", "pw-sam", false);
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "sam", "pw-sam").await)).await;
    let old_kid = header(tokens["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();

    // Rotate through the CLI against the same database, then let the key cache expire.
    let cli = crate::helpers::Cli { data_dir: app.settings.data_dir.as_path(), database_url: &app.db.url };
    let out = cli
        .command(&["keys", "rotate", "--alg", "RS256", "--json"])
        .env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS)
        .env("WATCHWORD_KEY_ROTATION_DELAY", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.clock.advance(61);
    let (_, after) = rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await;
    let new_kid = header(after["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid, "the new key signs");
    // The delay the publisher was given is the one every instance keeps (this server's
    // own is 0): a key published to sign in an hour waits the hour. (Published on the
    // server's clock here; the CLI runs on the real one.)
    let keyring = watchword::auth::keyring::Keyring::parse(crate::helpers::TEST_KEYS).unwrap();
    let now = app.clock_now();
    let next = app
        .store
        .run_blocking(|c| watchword::oidc::keys::publish_next(c, &keyring, SigningAlg::Rs256, 3600, now))
        .unwrap();
    let signer = async |advance: i64| {
        app.clock.advance(advance);
        let (_, later) = rp.exchange(&app, &code_of(&browser.get(&rp.url("")).await)).await;
        header(later["id_token"].as_str().unwrap())["kid"].as_str().unwrap().to_owned()
    };
    assert_eq!(signer(61).await, new_kid, "a key published for an hour from now does not sign yet");
    assert_eq!(signer(3600).await, next.id, "an hour later it does");

    let jwks: Value =
        http_client().get(format!("{}/jwks", app.address)).send().await.unwrap().json().await.unwrap();
    let old = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .expect("the retired key is still published");
    let key = jsonwebtoken::DecodingKey::from_jwk(&serde_json::from_value(old.clone()).unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[rp.id.as_str()]);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(tokens["id_token"].as_str().unwrap(), &key, &validation)
        .expect("the old token verifies");
    let list = cli
        .command(&["keys", "list", "--json"])
        .env("WATCHWORD_SECRET_KEYS", crate::helpers::TEST_KEYS)
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        list.as_array().unwrap().iter().any(|k| k["kid"] == old_kid.as_str() && k["status"] == "retired"),
        "{list}"
    );
}
