//! OAuth error responses and client authentication for the back-channel endpoints
//! (token, revocation, introspection).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::http::state::AppState;
use crate::oidc::clients;
use crate::oidc::grants::TokenError;
use crate::store::clients::Client;

/// RFC 6749 §5.2 error body with the right status; 401 for a client that failed to
/// authenticate, with a `WWW-Authenticate` challenge.
pub fn token_error(err: &TokenError) -> HttpResponse {
    let (status, code, description) = match err {
        TokenError::InvalidRequest(d) => (StatusCode::BAD_REQUEST, "invalid_request", (*d).to_owned()),
        TokenError::InvalidClient => {
            (StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed".to_owned())
        }
        TokenError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", (*d).to_owned()),
        TokenError::UnauthorizedClient(d) => {
            (StatusCode::BAD_REQUEST, "unauthorized_client", (*d).to_owned())
        }
        TokenError::UnsupportedGrantType => (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "supported: authorization_code, refresh_token, client_credentials".to_owned(),
        ),
        TokenError::InvalidScope(d) => (StatusCode::BAD_REQUEST, "invalid_scope", (*d).to_owned()),
        TokenError::InvalidDpopProof(d) => (StatusCode::BAD_REQUEST, "invalid_dpop_proof", (*d).to_owned()),
        TokenError::Unavailable(detail) | TokenError::Busy(detail) => {
            tracing::warn!(%detail, "token endpoint: dependency unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again shortly".to_owned())
        }
        TokenError::Internal(detail) => {
            tracing::error!(%detail, "token endpoint: internal error");
            (StatusCode::INTERNAL_SERVER_ERROR, "server_error", "internal error".to_owned())
        }
    };
    let mut response = HttpResponse::build(status)
        .insert_header((header::PRAGMA, "no-cache"))
        .json(json!({ "error": code, "error_description": description }));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"watchword\""));
    }
    response
}

/// An error of a protected resource (RFC 6750 §3, RFC 9449 §7.1): the JSON body and the
/// `WWW-Authenticate` challenge `challenge` (with the error, when there is one).
pub fn resource_error(
    status: StatusCode,
    challenge: &str,
    error: Option<&str>,
    description: &str,
) -> HttpResponse {
    let challenge = match error {
        Some(e) => format!("{challenge}, error=\"{e}\", error_description=\"{description}\""),
        None => challenge.to_owned(),
    };
    let mut response = HttpResponse::build(status)
        .json(json!({ "error": error.unwrap_or("invalid_request"), "error_description": description }));
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The client credentials a request presents (RFC 6749 §2.3.1).
#[derive(Debug, Default)]
pub struct Presented {
    pub client_id: Option<String>,
    pub secret: Option<String>,
}

fn form_decode(raw: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={raw}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

/// Credentials from `Authorization: Basic` or the form body — one method only.
pub fn presented(
    req: &HttpRequest,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Presented, TokenError> {
    let basic = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, value) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| value.trim().to_owned())
    });
    match basic {
        Some(encoded) => {
            if form_secret.is_some() {
                return Err(TokenError::InvalidRequest("use one client authentication method"));
            }
            let decoded = STANDARD.decode(encoded).map_err(|_| TokenError::InvalidClient)?;
            let decoded = String::from_utf8(decoded).map_err(|_| TokenError::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(TokenError::InvalidClient)?;
            let (id, secret) = (
                form_decode(id).ok_or(TokenError::InvalidClient)?,
                form_decode(secret).ok_or(TokenError::InvalidClient)?,
            );
            if form_id.is_some_and(|f| f != id) {
                return Err(TokenError::InvalidRequest("client_id does not match the authenticated client"));
            }
            Ok(Presented { client_id: Some(id), secret: Some(secret) })
        }
        None => {
            Ok(Presented { client_id: form_id.map(str::to_owned), secret: form_secret.map(str::to_owned) })
        }
    }
}

/// The client the request authenticates as; confidential clients need their secret,
/// public ones present only their id.
pub async fn authenticate(state: &AppState, presented: &Presented) -> Result<Client, TokenError> {
    let id = presented
        .client_id
        .as_deref()
        .filter(|i| !i.is_empty() && i.len() <= 128)
        .ok_or(TokenError::InvalidClient)?;
    let now = state.clock.now();
    let client = state.client(id).await?.ok_or(TokenError::InvalidClient)?;
    if clients::secret_matches(&client, presented.secret.as_deref(), now) {
        return Ok(client);
    }
    // A secret rotated since the client was cached (by the CLI, another instance) works
    // at once: a refusal is checked once more against the stored client.
    let client = state.client_uncached(id).await?.ok_or(TokenError::InvalidClient)?;
    if clients::secret_matches(&client, presented.secret.as_deref(), now) {
        Ok(client)
    } else {
        Err(TokenError::InvalidClient)
    }
}
