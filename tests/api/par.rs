//! Pushed Authorization Requests (RFC 9126): the request goes to `/par` from the client,
//! the browser carries only `client_id` and `request_uri` — once, within a minute, and
//! only for the client that pushed it; a bad request is refused to the client at once.

use serde_json::Value;
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT, query, urlencode};
use crate::conformance::{Rp, VERIFIER, app_with_user, challenge, sign_in};
use crate::helpers::{TestApp, http_client};

/// POSTs `form` to `/par` as `rp` (client_secret_basic, or its id alone when public).
async fn push(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let url = format!("{}/par", app.address);
    let req = match &rp.secret {
        Some(secret) => http_client().post(url).basic_auth(&rp.id, Some(secret)).form(form),
        None => {
            let mut with_id = form.to_vec();
            with_id.push(("client_id", &rp.id));
            http_client().post(url).form(&with_id)
        }
    };
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn request(challenge: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("redirect_uri", REDIRECT.into()),
        ("scope", "openid profile".into()),
        ("state", "pushed-state".into()),
        ("nonce", "pushed-nonce".into()),
        ("code_challenge", challenge.into()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn a_pushed_request_signs_in_once_for_its_client_and_ignores_what_the_browser_adds() {
    let app = app_with_user().await;
    let doc = crate::helpers::get_json(&format!("{}/.well-known/openid-configuration", app.address)).await;
    assert_eq!(doc["pushed_authorization_request_endpoint"], format!("{}/par", app.address));
    assert_eq!(doc["require_pushed_authorization_requests"], false);

    for public in [false, true] {
        let rp = Rp::new(&app, SigningAlg::Rs256, public, true);
        let form = request(&challenge(VERIFIER));
        let (status, pushed) = push(&app, &rp, &pairs(&form)).await;
        assert_eq!(status, 201, "{pushed}");
        assert_eq!(pushed["expires_in"], 60);
        let request_uri = pushed["request_uri"].as_str().unwrap().to_owned();
        assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"), "{request_uri}");

        // The browser's copy of anything but client_id is ignored (RFC 9126 §4).
        let browser = Browser::new(&app);
        let link = format!(
            "/authorize?client_id={}&request_uri={}&state=forged&redirect_uri={}",
            rp.id,
            urlencode(&request_uri),
            urlencode("https://evil.example/")
        );
        browser.get(&link).await;
        let done = sign_in(&browser, "quinn", "pw-quinn").await;
        let location = done.location.clone().unwrap_or_default();
        assert!(location.starts_with(REDIRECT), "{location}");
        let answer = query(&location);
        assert_eq!(answer["state"], "pushed-state");
        let (status, tokens) = rp.exchange(&app, &answer["code"]).await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(crate::conformance::claims(tokens["id_token"].as_str().unwrap())["nonce"], "pushed-nonce");

        // Once only.
        let again = Browser::new(&app).get(&link).await;
        assert_eq!(again.status, 400);
        assert!(again.has("expired or was already used"), "{}", again.body);
    }
}

#[tokio::test]
async fn a_pushed_request_expires_belongs_to_its_client_and_is_checked_when_pushed() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let other = Rp::new(&app, SigningAlg::Rs256, false, true);
    let public = Rp::new(&app, SigningAlg::Rs256, true, true);
    let form = request(&challenge(VERIFIER));

    // Named by another client: refused, and still usable by its own.
    let (_, pushed) = push(&app, &rp, &pairs(&form)).await;
    let uri = urlencode(pushed["request_uri"].as_str().unwrap());
    let stolen =
        Browser::new(&app).get(&format!("/authorize?client_id={}&request_uri={uri}", other.id)).await;
    assert_eq!(stolen.status, 400);
    assert!(stolen.has("made for another application"), "{}", stolen.body);
    let browser = Browser::new(&app);
    let own = browser.get(&format!("/authorize?client_id={}&request_uri={uri}", rp.id)).await;
    // Its sign-in page is not shown at the request_uri's URL, which works once: a reload
    // of the page still finds the sign-in.
    assert_eq!(own.status, 303, "{}", own.body);
    assert_eq!(own.location.as_deref(), Some("/login"));
    for _ in 0..2 {
        assert!(browser.get("/login").await.is_sign_in_page());
    }

    // A minute later it is gone; an id that was never pushed is gone too.
    let (_, pushed) = push(&app, &rp, &pairs(&form)).await;
    let uri = urlencode(pushed["request_uri"].as_str().unwrap());
    app.clock.advance(61);
    let late = Browser::new(&app).get(&format!("/authorize?client_id={}&request_uri={uri}", rp.id)).await;
    assert_eq!(late.status, 400, "{}", late.body);
    let made_up = urlencode("urn:ietf:params:oauth:request_uri:nothing-like-this");
    let unknown =
        Browser::new(&app).get(&format!("/authorize?client_id={}&request_uri={made_up}", rp.id)).await;
    assert_eq!(unknown.status, 400);

    // Checked when pushed, answered to the client (never a redirect, never stored).
    let wrong_secret = Rp { id: rp.id.clone(), secret: Some("not-the-secret".into()) };
    assert_eq!(push(&app, &wrong_secret, &pairs(&form)).await.0, 401);
    let mut unregistered = form.clone();
    unregistered[1].1 = "https://evil.example/cb".into();
    let (status, body) = push(&app, &rp, &pairs(&unregistered)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let mut nested = form.clone();
    nested.push(("request_uri", "urn:ietf:params:oauth:request_uri:x".into()));
    let (status, body) = push(&app, &rp, &pairs(&nested)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let implicit: Vec<_> = form
        .iter()
        .cloned()
        .map(|(k, v)| if k == "response_type" { (k, "token".into()) } else { (k, v) })
        .collect();
    let (status, body) = push(&app, &rp, &pairs(&implicit)).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_response_type")), "{body}");
    let without_pkce: Vec<_> =
        form.iter().filter(|(k, _)| !k.starts_with("code_challenge")).cloned().collect();
    let (status, body) = push(&app, &public, &pairs(&without_pkce)).await;
    assert_eq!(status, 400, "a public client needs PKCE: {body}");
}
