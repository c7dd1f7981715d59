//! The whole OpenID Connect flow driven by the openidconnect crate as the relying
//! party: discovery, PKCE, code exchange, ID-token signature, nonce, `amr` and
//! `at_hash` checks, userinfo, refresh, logout — for RS256, ES256 and EdDSA clients.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use watchword::oidc::clients::{self, CreatedClient, NewClient, RedirectUri};
use watchword::oidc::keys::SigningAlg;
use watchword::tenancy::Slug;

use crate::browser::{Browser, REDIRECT, oathtool, query};
use crate::helpers::{T0, TestApp, spawn_app};

fn rp_http() -> reqwest::Client {
    watchword::install_tls_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

impl TestApp {
    pub fn oidc_client(&self, alg: SigningAlg, public: bool, trusted: bool) -> CreatedClient {
        self.tenant("acme");
        let new = NewClient {
            tenant: Slug::parse("acme").unwrap(),
            name: format!("RP {}", alg.as_str()),
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
            post_logout_redirect_uris: vec![RedirectUri::parse("https://rp.example/bye").unwrap()],
            public,
            require_mfa: false,
            trusted,
            allow_remembered_devices: true,
            remembered_device_mfa: false,
            id_token_alg: alg,
            access_token_alg: alg,
            client_scopes: vec!["reports:read".into()],
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        };
        self.store.run_blocking(|c| clients::create_client(c, &new, &Default::default(), T0)).unwrap()
    }
}

fn openid_alg(alg: SigningAlg) -> CoreJwsSigningAlgorithm {
    match alg {
        SigningAlg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        SigningAlg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        SigningAlg::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
    }
}

/// Signs `username` in through a real relying party and checks everything it can.
async fn full_flow(
    app: &TestApp,
    alg: SigningAlg,
    username: &str,
    password: &str,
    otpauth: Option<&str>,
) -> (Vec<String>, String, String) {
    let http = rp_http();
    let created = app.oidc_client(alg, false, true);
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(app.issuer.clone()).unwrap(), &http)
        .await
        .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(created.client.id.clone()),
        Some(ClientSecret::new(created.secret.clone().unwrap())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.to_owned()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new(app);
    let start = browser.get(url.as_str()).await;
    assert!(start.is_sign_in_page(), "{}", start.body);
    let mut page = browser.password(&start, username, password).await;
    if let Some(otpauth) = otpauth {
        page = browser.code(&page, "/login/totp", &oathtool(otpauth, crate::login_now(app))).await;
    }
    let back = query(page.location.as_deref().unwrap_or_else(|| panic!("{}", page.body)));
    assert_eq!(&back["state"], csrf.secret());
    assert_eq!(back["iss"], app.issuer, "RFC 9207: the issuer, exactly");

    let tokens = client
        .exchange_code(AuthorizationCode::new(back["code"].clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = client.id_token_verifier().set_allowed_algs(vec![openid_alg(alg)]);
    let claims = id_token.claims(&id_verifier, &nonce).unwrap();
    assert_eq!(*id_token.signing_alg().unwrap(), openid_alg(alg));
    let expected_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected_hash));
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.authorized_party().map(|p| p.as_str()), Some(created.client.id.as_str()));
    assert_eq!(claims.preferred_username().map(|u| u.as_str()), Some(username));
    let amr: Vec<String> = claims.auth_method_refs().unwrap().iter().map(|a| a.as_str().to_owned()).collect();
    let acr = claims.auth_context_ref().unwrap().as_str().to_owned();

    // Userinfo with the access token.
    let info: CoreUserInfoClaims =
        client.user_info(tokens.access_token().clone(), None).unwrap().request_async(&http).await.unwrap();
    assert_eq!(info.subject(), claims.subject());
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some(username));

    // Refresh: a new pair; the old refresh token is spent.
    let refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client.exchange_refresh_token(&refresh).unwrap().request_async(&http).await.unwrap();
    let again = refreshed.id_token().expect("an ID token on refresh");
    let refreshed_claims = again.claims(&id_verifier, |_: Option<&Nonce>| Ok(())).unwrap();
    assert_eq!(refreshed_claims.subject(), claims.subject());
    assert_ne!(refreshed.refresh_token().unwrap().secret(), refresh.secret());
    let reused = client.exchange_refresh_token(&refresh).unwrap().request_async(&http).await;
    assert!(reused.is_err(), "a rotated refresh token cannot be used again");
    // ...and its reuse revoked the family: the newest one is dead too.
    let newest = RefreshToken::new(refreshed.refresh_token().unwrap().secret().clone());
    assert!(client.exchange_refresh_token(&newest).unwrap().request_async(&http).await.is_err());

    // Logout with the ID token as hint returns to the registered URI with state.
    let bye = browser
        .get(&format!(
            "/end_session?id_token_hint={}&post_logout_redirect_uri={}&state=bye1",
            id_token,
            crate::browser::urlencode("https://rp.example/bye")
        ))
        .await;
    assert_eq!(bye.location.as_deref(), Some("https://rp.example/bye?state=bye1"), "{}", bye.body);
    let account = browser.get("/account?tenant=acme").await;
    assert_eq!(account.location.as_deref(), Some("/login"), "the SSO session has ended");
    (amr, acr, claims.subject().to_string())
}

#[tokio::test]
async fn rs256_es256_and_eddsa_relying_parties_sign_in_with_password_only() {
    let app = spawn_app().await;
    app.policy("acme", |t| t.prompt_new_users = false);
    app.user("acme", "olive", "pw-olive", false);
    for alg in SigningAlg::ALL {
        let (amr, acr, _) = full_flow(&app, alg, "olive", "pw-olive", None).await;
        assert_eq!(amr, ["pwd"], "{alg:?}");
        assert_eq!(acr, watchword::auth::login::ACR_SINGLE_FACTOR);
    }
}

#[tokio::test]
async fn an_issuer_is_published_exactly_as_configured_with_or_without_a_trailing_slash() {
    for slash in ["/", ""] {
        // The issuer names the port, so the port is chosen first.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let configured = format!("http://127.0.0.1:{port}{slash}");
        let issuer = watchword::config::Issuer::parse(&configured).unwrap();
        let app = crate::helpers::spawn_app_with(|s| {
            s.listen = format!("127.0.0.1:{port}").parse().unwrap();
            s.issuer = Some(issuer);
        })
        .await;
        assert_eq!(app.issuer, configured);
        let discovery =
            crate::helpers::get_json(&format!("{}/.well-known/openid-configuration", app.address)).await;
        assert_eq!(discovery["issuer"], configured.as_str(), "character for character");
        assert_eq!(discovery["token_endpoint"], format!("http://127.0.0.1:{port}/token"), "no doubled slash");
        app.policy("acme", |t| t.prompt_new_users = false);
        app.user("acme", "ida", "pw-ida", false);
        // The openidconnect crate compares the issuer of discovery and of the ID token
        // with the one it was given: both round trips must pass.
        let (amr, _, _) = full_flow(&app, SigningAlg::Rs256, "ida", "pw-ida", None).await;
        assert_eq!(amr, ["pwd"]);
    }
}

#[tokio::test]
async fn a_totp_login_carries_pwd_otp_mfa() {
    let app = spawn_app().await;
    let client = app.client("acme", false, false);
    app.user("acme", "pete", "pw-pete", true);
    let (otpauth, _) = crate::login::enrol_for(&app, &client.client.id, "pete", "pw-pete").await;
    app.clock.advance(30);
    let (amr, acr, _) = full_flow(&app, SigningAlg::Es256, "pete", "pw-pete", Some(&otpauth)).await;
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
    assert_eq!(acr, watchword::auth::login::ACR_MULTI_FACTOR);
}
