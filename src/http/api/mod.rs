//! The JSON admin API under `/api/v1/`, authorized by a Watchword access token with
//! scope `watchword:admin` from a TOTP sign-in, acting as the token's user under the same
//! permission rules as the admin pages. Errors: `{"error": {"code", "message"}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::http::oidc::check_access_token;
use crate::http::state::AppState;
use crate::oidc::has_scope;
use crate::store::StoreError;
use crate::tenancy::admin::{Admin, AdminError};

pub mod clients;
pub mod tenant;

pub const ADMIN_SCOPE: &str = "watchword:admin";

pub(super) fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    let mut response =
        HttpResponse::build(status).json(json!({ "error": { "code": code, "message": message } }));
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"watchword\""));
    }
    response
}

pub(super) fn admin_error(err: &AdminError) -> HttpResponse {
    match err {
        AdminError::Denied(denied) => error(StatusCode::FORBIDDEN, "forbidden", &denied.to_string()),
        AdminError::NotFound => error(StatusCode::NOT_FOUND, "not_found", "no such user"),
        // A write that referred to something deleted meanwhile.
        AdminError::Store(StoreError::Gone) => {
            error(StatusCode::NOT_FOUND, "not_found", "what this refers to was deleted meanwhile")
        }
        AdminError::Invalid(refusal) => {
            error(StatusCode::BAD_REQUEST, "invalid_request", &refusal.to_string())
        }
        AdminError::Duplicate(_) => error(StatusCode::CONFLICT, "conflict", &err.to_string()),
        // Down, or still contended after the retry: fail closed, come back shortly.
        AdminError::Store(StoreError::Unavailable(detail) | StoreError::Busy(detail)) => {
            tracing::warn!(%detail, "admin API: database unavailable or busy");
            let mut response = error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again shortly");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        AdminError::Store(other) => {
            tracing::error!(error = %other, "admin API: internal error");
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
        }
    }
}

/// The administrator behind the request's bearer token, or the error response.
pub(super) async fn authorize(state: &AppState, req: &HttpRequest) -> Result<Admin, HttpResponse> {
    let (scheme, token) = crate::http::dpop::authorization(req).ok_or_else(|| {
        error(StatusCode::UNAUTHORIZED, "unauthorized", "a bearer (or DPoP) access token is required")
    })?;
    let checked = check_access_token(state, &token)
        .await
        .map_err(|_| error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again shortly"))?;
    let Some((claims, Some(user))) = checked else {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the access token is invalid, expired or revoked",
        ));
    };
    match crate::http::dpop::binding_holds(state, req, scheme, &token, &claims).await {
        Ok(Ok(())) => {}
        Ok(Err(reason)) => return Err(error(StatusCode::UNAUTHORIZED, "unauthorized", reason)),
        Err(_) => return Err(error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again shortly")),
    }
    if !has_scope(&claims.scope, ADMIN_SCOPE) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the token lacks the watchword:admin scope",
        ));
    }
    if !claims.amr.as_ref().is_some_and(|amr| amr.iter().any(|a| a == "otp")) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "administration needs a sign-in with a TOTP code",
        ));
    }
    state.db.run(move |conn| Admin::load(conn, user)).await.map_err(|e| admin_error(&e))
}

/// Runs `f` as the authorized administrator, on the blocking pool.
pub(super) async fn as_admin<T, F>(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    f: F,
) -> HttpResponse
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&mut crate::store::DbConn, &Admin) -> Result<T, AdminError> + Send + 'static,
{
    let admin = match authorize(state, req).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match state.db.run(move |conn| f(conn, &admin)).await {
        Ok(body) => HttpResponse::build(status).json(body),
        Err(err) => admin_error(&err),
    }
}

/// A JSON body that could not be read (see the `JsonConfig` in [`crate::http::configure`]).
pub(super) fn bad_body(err: &actix_web::error::JsonPayloadError) -> HttpResponse {
    error(StatusCode::BAD_REQUEST, "invalid_request", &format!("the JSON body could not be read: {err}"))
}

pub async fn get_openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(include_str!("../openapi.json"))
}
