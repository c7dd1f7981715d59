//! The `claims` request parameter (OpenID Connect Core §5.5): the user claims it asks
//! for are released in the ID token or at userinfo, as asked, whatever the scope — and
//! kept for the grant's refreshed tokens.

use serde_json::Value;
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT, query, urlencode};
use crate::conformance::{Rp, VERIFIER, app_with_user, challenge, claims, code_of, sign_in};
use crate::helpers::{TestApp, http_client};

/// An authorization request of `rp` for `scope`, with a `claims` parameter if given.
pub(crate) fn link(rp: &Rp, scope: &str, claims: Option<&str>) -> String {
    let mut url = format!(
        "/authorize?client_id={}&redirect_uri={}&response_type=code&scope={}&state=s&code_challenge={}&code_challenge_method=S256",
        rp.id,
        urlencode(REDIRECT),
        urlencode(scope),
        challenge(VERIFIER)
    );
    if let Some(claims) = claims {
        url.push_str(&format!("&claims={}", urlencode(claims)));
    }
    url
}

/// What userinfo answers for the access token `access`.
pub(crate) async fn userinfo(app: &TestApp, access: &str) -> Value {
    http_client()
        .get(format!("{}/userinfo", app.address))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_claims_parameter_releases_what_it_asks_for_where_it_asks() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let asked = r#"{"id_token":{"email":{"essential":true},"shoe_size":null},"userinfo":{"preferred_username":null,"name":null}}"#;
    let browser = Browser::new(&app);
    browser.get(&link(&rp, "openid", Some(asked))).await;
    let (status, tokens) = rp.exchange(&app, &code_of(&sign_in(&browser, "quinn", "pw-quinn").await)).await;
    assert_eq!(status, 200, "{tokens}");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["email"], "quinn@acme.example", "{id}");
    for absent in ["name", "preferred_username", "email_verified", "shoe_size"] {
        assert!(id.get(absent).is_none(), "{absent} was not asked for the ID token: {id}");
    }
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        (info["preferred_username"].as_str(), info["name"].as_str()),
        (Some("quinn"), Some("quinn")),
        "{info}"
    );
    assert!(info.get("email").is_none(), "email was asked for the ID token only: {info}");

    // The grant keeps them: a refreshed ID token and access token release the same.
    let (status, refreshed, _) = rp
        .token(
            &app,
            &[("grant_type", "refresh_token"), ("refresh_token", tokens["refresh_token"].as_str().unwrap())],
        )
        .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(claims(refreshed["id_token"].as_str().unwrap())["email"], "quinn@acme.example");
    let info = userinfo(&app, refreshed["access_token"].as_str().unwrap()).await;
    assert_eq!(info["preferred_username"], "quinn");

    // Without the parameter, the scope alone decides.
    let plain = Browser::new(&app);
    plain.get(&link(&rp, "openid", None)).await;
    let (_, tokens) = rp.exchange(&app, &code_of(&sign_in(&plain, "quinn", "pw-quinn").await)).await;
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert!(id.get("email").is_none() && id.get("name").is_none(), "{id}");
    let info = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert!(info.get("preferred_username").is_none(), "{info}");

    // A claims parameter of the wrong shape goes back to the client as invalid_request.
    let bad = Browser::new(&app).get(&link(&rp, "openid", Some(r#"{"id_token":["email"]}"#))).await;
    let answer = query(bad.location.as_deref().unwrap());
    assert_eq!(answer["error"], "invalid_request", "{answer:?}");
}
