//! DPoP (RFC 9449): tokens issued with a proof are bound to its key — an access token
//! is usable only with a fresh proof by that key, a public client's refresh token only
//! with one — and every malformed, stale, replayed or misdirected proof is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use watchword::oidc::keys::SigningAlg;

use crate::browser::{Browser, REDIRECT};
use crate::conformance::{Rp, VERIFIER, app_with_user, claims, code_of, sign_in};
use crate::helpers::{TestApp, http_client};

/// A client's DPoP key (P-256).
struct Key {
    enc: EncodingKey,
    jwk: Jwk,
}

impl Key {
    fn new() -> Self {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let enc = EncodingKey::from_ec_der(pkcs8.as_ref());
        let jwk = Jwk::from_encoding_key(&enc, Algorithm::ES256).unwrap();
        Self { enc, jwk }
    }

    fn jkt(&self) -> String {
        self.jwk.thumbprint(ThumbprintHash::SHA256).unwrap()
    }

    /// A proof for `method url` at `iat`, with `ath` when a token is given; `adjust`
    /// changes its header and claims first.
    fn proof_with(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        iat: i64,
        adjust: impl FnOnce(&mut Value, &mut Value),
    ) -> String {
        let mut header = serde_json::to_value({
            let mut h = Header::new(Algorithm::ES256);
            h.typ = Some("dpop+jwt".into());
            h.jwk = Some(self.jwk.clone());
            h
        })
        .unwrap();
        let mut body = json!({
            "jti": watchword::random::token(16), "htm": method, "htu": url, "iat": iat,
        });
        if let Some(token) = token {
            body["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        adjust(&mut header, &mut body);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap()),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap())
        );
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.enc, Algorithm::ES256).unwrap();
        format!("{signing_input}.{signature}")
    }

    fn proof(&self, app: &TestApp, method: &str, path: &str, token: Option<&str>) -> String {
        self.proof_with(method, &format!("{}{path}", app.issuer), token, app.clock_now(), |_, _| {})
    }
}

/// POST /token with the given DPoP headers (a public client sends its id in the form).
async fn token(app: &TestApp, rp: &Rp, form: &[(&str, &str)], proofs: &[&str]) -> (u16, Value) {
    let mut form = form.to_vec();
    let mut req = http_client().post(format!("{}/token", app.address));
    match &rp.secret {
        Some(secret) => req = req.basic_auth(&rp.id, Some(secret)),
        None => form.push(("client_id", &rp.id)),
    }
    for proof in proofs {
        req = req.header("DPoP", *proof);
    }
    let res = req.form(&form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn userinfo(app: &TestApp, scheme: &str, access: &str, proof: Option<&str>) -> (u16, Value) {
    let mut req = http_client()
        .get(format!("{}/userinfo", app.address))
        .header("Authorization", format!("{scheme} {access}"));
    if let Some(proof) = proof {
        req = req.header("DPoP", proof);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tokens_issued_with_a_proof_are_bound_to_its_key() {
    let app = app_with_user().await;
    let doc = crate::helpers::get_json(&format!("{}/.well-known/openid-configuration", app.address)).await;
    assert_eq!(doc["dpop_signing_alg_values_supported"], json!(["ES256", "RS256", "EdDSA"]));
    let rp = Rp::new(&app, SigningAlg::Rs256, true, true);
    let (key, thief) = (Key::new(), Key::new());

    let browser = Browser::new(&app);
    browser.get(&rp.url("")).await;
    let code = code_of(&sign_in(&browser, "quinn", "pw-quinn").await);
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let (status, tokens) = token(&app, &rp, &exchange, &[&key.proof(&app, "POST", "/token", None)]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&access)["cnf"], json!({ "jkt": key.jkt() }));

    // The access token: with a fresh proof by its key, for this request, only.
    let (status, _) = userinfo(&app, "Bearer", &access, None).await;
    assert_eq!(status, 401, "never as a bearer token");
    let good = key.proof(&app, "GET", "/userinfo", Some(&access));
    let (status, body) = userinfo(&app, "DPoP", &access, Some(&good)).await;
    assert_eq!((status, body["sub"].is_string()), (200, true), "{body}");
    let (status, _) = userinfo(&app, "DPoP", &access, Some(&good)).await;
    assert_eq!(status, 401, "a proof is used once");
    for proof in [
        thief.proof(&app, "GET", "/userinfo", Some(&access)),
        key.proof(&app, "GET", "/userinfo", None),
        key.proof(&app, "GET", "/userinfo", Some("another-token")),
        key.proof(&app, "POST", "/userinfo", Some(&access)),
    ] {
        let (status, body) = userinfo(&app, "DPoP", &access, Some(&proof)).await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, _) = userinfo(&app, "DPoP", &access, None).await;
    assert_eq!(status, 401, "no proof");

    // Introspection says so.
    let rs = Rp::new(&app, SigningAlg::Rs256, false, true);
    let res = http_client()
        .post(format!("{}/introspect", app.address))
        .basic_auth(&rs.id, rs.secret.as_deref())
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    let seen: Value = res.json().await.unwrap();
    assert_eq!((seen["active"].clone(), seen["token_type"].clone()), (json!(true), json!("DPoP")), "{seen}");
    assert_eq!(seen["cnf"]["jkt"], key.jkt());

    // The public client's refresh token: with a proof by the same key only.
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())];
    let (status, body) = token(&app, &rp, &form, &[]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{body}");
    let (status, body) = token(&app, &rp, &form, &[&thief.proof(&app, "POST", "/token", None)]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{body}");
    let (status, body) = token(&app, &rp, &form, &[&key.proof(&app, "POST", "/token", None)]).await;
    assert_eq!(
        (status, body["token_type"].as_str()),
        (200, Some("DPoP")),
        "the refusals left it usable: {body}"
    );
    let next = body["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", next)];
    let (status, _) = token(&app, &rp, &form, &[&thief.proof(&app, "POST", "/token", None)]).await;
    assert_eq!(status, 400, "its successor is bound too");
}

#[tokio::test]
async fn malformed_stale_replayed_or_misdirected_proofs_are_refused() {
    let app = app_with_user().await;
    let rp = Rp::new(&app, SigningAlg::Rs256, false, true);
    let key = Key::new();
    let form = [("grant_type", "client_credentials")];
    let url = format!("{}/token", app.issuer);
    let now = app.clock_now();

    let (status, body) = token(&app, &rp, &form, &[]).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("Bearer")), "DPoP is optional");
    let good = key.proof(&app, "POST", "/token", None);
    let (status, body) = token(&app, &rp, &form, &[&good]).await;
    assert_eq!((status, body["token_type"].as_str()), (200, Some("DPoP")), "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["cnf"]["jkt"], key.jkt());

    let with_private_key = key.proof_with("POST", &url, None, now, |header, _| {
        header["jwk"]["d"] = json!("AAAA");
    });
    let bad = [
        ("replayed", good.clone()),
        ("another method", key.proof(&app, "GET", "/token", None)),
        ("another URL", key.proof(&app, "POST", "/userinfo", None)),
        ("two minutes old", key.proof_with("POST", &url, None, now - 120, |_, _| {})),
        ("from the future", key.proof_with("POST", &url, None, now + 120, |_, _| {})),
        ("not dpop+jwt", key.proof_with("POST", &url, None, now, |h, _| h["typ"] = json!("JWT"))),
        ("no jti", key.proof_with("POST", &url, None, now, |_, c| c["jti"] = json!(""))),
        ("a private key", with_private_key),
        ("not a JWT", "not-a-jwt".to_owned()),
        ("signed by another key", {
            let other = Key::new();
            let mut proof = key.proof(&app, "POST", "/token", None);
            let forged = other.proof(&app, "POST", "/token", None);
            proof.truncate(proof.rfind('.').unwrap());
            format!("{proof}{}", &forged[forged.rfind('.').unwrap()..])
        }),
    ];
    for (what, proof) in bad {
        let (status, body) = token(&app, &rp, &form, &[&proof]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{what}: {body}");
    }
    // A bearer token is not a DPoP one: the admin API refuses it under the DPoP scheme.
    app.child("acme", "boss", None, "admin");
    let (admin, _) = app.admin_token("boss").await;
    let api = |scheme: &str| {
        let mut req = http_client()
            .get(format!("{}/api/v1/clients", app.address))
            .header("Authorization", format!("{scheme} {admin}"));
        if scheme == "DPoP" {
            req = req.header("DPoP", key.proof(&app, "GET", "/api/v1/clients", Some(&admin)));
        }
        req.send()
    };
    assert_eq!(api("Bearer").await.unwrap().status().as_u16(), 200);
    assert_eq!(api("DPoP").await.unwrap().status().as_u16(), 401);

    let (one, two) = (key.proof(&app, "POST", "/token", None), key.proof(&app, "POST", "/token", None));
    let (status, body) = token(&app, &rp, &form, &[&one, &two]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_dpop_proof")), "two proofs: {body}");
}
