//! A demo relying party: signs in through Watchword with the openidconnect crate (code
//! flow with PKCE) and shows the verified ID token claims — `amr` included.
//!
//! ```sh
//! watchword client create --tenant default --name Demo --redirect-uri http://127.0.0.1:9000/callback --trusted --json
//! cargo run --example demo_rp -- --client-id ID --client-secret SECRET
//! # then open http://127.0.0.1:9000/
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::http::header::{self, ContentType};
use actix_web::{App, HttpResponse, HttpServer, web};
use clap::Parser;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};

#[derive(Debug, Parser)]
struct Args {
    /// Watchword's issuer URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    issuer: String,
    #[arg(long)]
    client_id: String,
    #[arg(long)]
    client_secret: Option<String>,
    /// Where this demo listens; its redirect URI is this plus `/callback`.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
}

struct Demo {
    args: Args,
    http: reqwest::Client,
    /// Pending logins by `state`: the nonce and PKCE verifier to check the answer with.
    pending: Mutex<HashMap<String, (Nonce, PkceCodeVerifier)>>,
}

impl Demo {
    async fn client(
        &self,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        String,
    > {
        let issuer = IssuerUrl::new(self.args.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata =
            CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| e.to_string())?;
        let redirect =
            RedirectUrl::new(format!("http://{}/callback", self.args.listen)).map_err(|e| e.to_string())?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.args.client_id.clone()),
            self.args.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }
}

fn page(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::html()).body(format!(
        "<!doctype html><meta charset=utf-8><title>Watchword demo RP</title><body style=\"font-family:sans-serif;max-width:48rem;margin:2rem auto\">{body}</body>"
    ))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn index() -> HttpResponse {
    page(
        "<h1>Watchword demo relying party</h1><p><a href=\"/login\">Sign in with Watchword</a></p>\
          <p><a href=\"/login?mfa=1\">Sign in with Watchword, requiring TOTP</a></p>"
            .into(),
    )
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    mfa: Option<String>,
}

async fn login(demo: web::Data<Demo>, q: web::Query<LoginQuery>) -> HttpResponse {
    let client = match demo.client().await {
        Ok(c) => c,
        Err(e) => return page(format!("<p>Discovery failed: {}</p>", escape(&e))),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge);
    if q.mfa.is_some() {
        request = request.add_extra_param("acr_values", "urn:watchword:acr:multi-factor");
    }
    let (url, state, nonce) = request.url();
    demo.pending
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(state.secret().clone(), (nonce, verifier));
    HttpResponse::Found().insert_header((header::LOCATION, url.to_string())).finish()
}

#[derive(serde::Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(demo: web::Data<Demo>, q: web::Query<Callback>) -> HttpResponse {
    if let Some(error) = &q.error {
        return page(format!(
            "<p>Watchword said: {} ({})</p>",
            escape(error),
            escape(q.error_description.as_deref().unwrap_or(""))
        ));
    }
    let pending = q
        .state
        .as_ref()
        .and_then(|s| demo.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(s));
    let (Some(code), Some((nonce, verifier))) = (q.code.clone(), pending) else {
        return page("<p>Unknown or missing state: start again at <a href=\"/\">/</a>.</p>".into());
    };
    let result = async {
        let client = demo.client().await?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(verifier)
            .request_async(&demo.http)
            .await
            .map_err(|e| e.to_string())?;
        let id_token = tokens.id_token().ok_or("no ID token")?;
        let verifier = client.id_token_verifier().set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::EdDsa,
        ]);
        let claims = id_token.claims(&verifier, &nonce).map_err(|e| e.to_string())?;
        let amr: Vec<String> =
            claims.auth_method_refs().into_iter().flatten().map(|a| a.as_str().to_owned()).collect();
        let json = serde_json::to_string_pretty(claims).map_err(|e| e.to_string())?;
        Ok::<_, String>(format!(
            "<h1>Signed in</h1><p>Signature, issuer, audience, expiry and nonce verified.</p>\
             <p><strong>amr</strong>: {}</p><p><strong>acr</strong>: {}</p><pre>{}</pre><p><a href=\"/\">Again</a></p>",
            escape(&format!("{amr:?}")),
            escape(claims.auth_context_ref().map(|a| a.as_str()).unwrap_or("-")),
            escape(&json)
        ))
    };
    match result.await {
        Ok(body) => page(body),
        Err(e) => page(format!("<p>Sign-in failed: {}</p>", escape(&e))),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listen = args.listen.clone();
    watchword::install_tls_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let demo = web::Data::new(Demo { args, http, pending: Mutex::new(HashMap::new()) });
    println!("Demo relying party on http://{listen}/ (redirect URI http://{listen}/callback)");
    HttpServer::new(move || {
        App::new()
            .app_data(demo.clone())
            .route("/", web::get().to(index))
            .route("/login", web::get().to(login))
            .route("/callback", web::get().to(callback))
    })
    .bind(listen)?
    .run()
    .await
}
