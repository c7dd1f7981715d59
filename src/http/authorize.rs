//! `GET /authorize` (OpenID Connect Core §3.1.2.1), the minimal form: validate the
//! client and the exact redirect URI first (errors there are pages, never redirects),
//! then the rest (errors redirected to the client), then start a login flow.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use url::Url;

use crate::auth::login::{self, AuthRequest, Flow};
use crate::http::{cookies, errors, pages};
use crate::oidc::clients;
use crate::startup::AppState;
use crate::store::StoreError;

#[derive(Debug, Deserialize)]
pub struct AuthorizeQuery {
    client_id: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
}

fn bad_request(message: &str) -> HttpResponse {
    pages::message(StatusCode::BAD_REQUEST, "This sign-in link is not valid", message, None)
}

/// An error sent back to the client (RFC 6749 §4.1.2.1, with `iss` per RFC 9207).
fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    oauth_state: Option<&str>,
    error: &str,
    description: &str,
) -> HttpResponse {
    let Ok(mut url) = Url::parse(redirect_uri) else { return bad_request("The redirect URI is not valid.") };
    {
        let mut query = url.query_pairs_mut();
        query.append_pair("error", error).append_pair("error_description", description);
        if let Some(s) = oauth_state {
            query.append_pair("state", s);
        }
        query.append_pair("iss", state.issuer.as_str().trim_end_matches('/'));
    }
    HttpResponse::Found().insert_header((LOCATION, url.to_string())).finish()
}

pub async fn get_authorize(state: web::Data<AppState>, query: web::Query<AuthorizeQuery>) -> HttpResponse {
    let q = query.into_inner();
    let Some(client_id) = q.client_id.filter(|c| !c.is_empty() && c.len() <= 128) else {
        return bad_request("The request names no client (client_id is missing).");
    };
    let lookup = client_id.clone();
    let client = match state.db.run(move |conn| crate::store::clients::find(conn, &lookup)).await {
        Ok(Some(client)) => client,
        Ok(None) => return bad_request("The application that sent you here is not known to Watchword."),
        Err(StoreError::Unavailable(m)) => return errors::login_error(&login::LoginError::Unavailable(m)),
        Err(other) => return errors::login_error(&login::LoginError::Internal(other.to_string())),
    };
    // Exact string match against the registered URIs (RFC 6749 §3.1.2.3; OIDC Core §3.1.2.1).
    let Some(redirect_uri) =
        q.redirect_uri.filter(|r| clients::redirect_uris(&client).iter().any(|u| u == r))
    else {
        return bad_request("The application sent you here with a return address it has not registered.");
    };
    let oauth_state = q.state.as_deref();
    if q.response_type.as_deref() != Some("code") {
        return redirect_error(
            &state,
            &redirect_uri,
            oauth_state,
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    let scope = q.scope.unwrap_or_default();
    if !scope.split(' ').any(|s| s == "openid") {
        return redirect_error(
            &state,
            &redirect_uri,
            oauth_state,
            "invalid_scope",
            "the openid scope is required",
        );
    }
    match (q.code_challenge.as_deref(), q.code_challenge_method.as_deref()) {
        (None, _) if client.secret_hash.is_none() => {
            return redirect_error(
                &state,
                &redirect_uri,
                oauth_state,
                "invalid_request",
                "public clients must use PKCE (S256)",
            );
        }
        (Some(_), Some(method)) if method != "S256" => {
            return redirect_error(
                &state,
                &redirect_uri,
                oauth_state,
                "invalid_request",
                "only the S256 code challenge method is supported",
            );
        }
        (Some(_), None) => {
            return redirect_error(
                &state,
                &redirect_uri,
                oauth_state,
                "invalid_request",
                "code_challenge_method=S256 is required",
            );
        }
        (Some(challenge), _) if !(43..=128).contains(&challenge.len()) => {
            return redirect_error(
                &state,
                &redirect_uri,
                oauth_state,
                "invalid_request",
                "the code challenge is malformed",
            );
        }
        _ => {}
    }
    let now = state.clock.now();
    let request = AuthRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scope,
        state: q.state,
        nonce: q.nonce,
        code_challenge_method: q.code_challenge.as_ref().map(|_| "S256".to_owned()),
        code_challenge: q.code_challenge,
        require_mfa: client.require_mfa,
    };
    let login_hint = q.login_hint.filter(|h| h.len() <= 256);
    start_flow(&state, Flow::new(client.tenant_id, Some(request), login_hint, now)).await
}

/// Stores a new flow, sets its cookie and sends the browser to the sign-in page.
pub async fn start_flow(state: &AppState, flow: Flow) -> HttpResponse {
    let id = crate::auth::random::token(32);
    if let Err(err) = login::save_flow(&state.ephemeral, &id, &flow, state.clock.now()).await {
        return errors::login_error(&err);
    }
    HttpResponse::SeeOther()
        .cookie(cookies::make(state, cookies::flow_name(state), id))
        .insert_header((LOCATION, "/login"))
        .finish()
}
