//! Turning domain errors into pages. Internal details are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use fluent_templates::fluent_bundle::FluentValue;

use crate::auth::errors::LoginError;
use crate::http::i18n::{self, Lang};
use crate::http::pages;

/// A failed login or account operation, as the browser sees it, in the language of
/// the request (its switcher cookie or `Accept-Language`).
pub fn login_error(req: &HttpRequest, err: &LoginError) -> HttpResponse {
    login_error_for(req, i18n::negotiate(req, None, None), err)
}

/// [`login_error`] in `lang` (a page whose language is known already), counted in the
/// metrics like every other.
pub fn login_error_for(req: &HttpRequest, lang: Lang, err: &LoginError) -> HttpResponse {
    if let Some(state) = req.app_data::<actix_web::web::Data<crate::http::state::AppState>>() {
        match err {
            LoginError::Unavailable(_) => state.metrics.dependency_error("unavailable"),
            LoginError::Busy(_) => state.metrics.dependency_error("busy"),
            LoginError::Overloaded { .. } => state.metrics.dependency_error("hashing_full"),
            _ => {}
        }
    }
    login_error_in(lang, err)
}

fn login_error_in(lang: Lang, err: &LoginError) -> HttpResponse {
    match err {
        // Fail closed: no decision was made, nothing is lost; try again shortly.
        LoginError::Unavailable(detail) | LoginError::Busy(detail) => {
            tracing::warn!(%detail, "a dependency is unavailable");
            retry_later(
                lang,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable-title",
                &lang.t("unavailable-text"),
                5,
            )
        }
        LoginError::Throttled { retry_after } => {
            let text = lang.t_with("throttled-text", &[("wait", FluentValue::from(lang.wait(*retry_after)))]);
            retry_later(lang, StatusCode::TOO_MANY_REQUESTS, "too-many-attempts", &text, *retry_after)
        }
        LoginError::Overloaded { retry_after } => retry_later(
            lang,
            StatusCode::SERVICE_UNAVAILABLE,
            "busy-title",
            &lang.t("busy-text"),
            *retry_after,
        ),
        LoginError::Gone(_) => page(lang, StatusCode::CONFLICT, "cannot-finish", "sign-in-gone"),
        LoginError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            page(lang, StatusCode::INTERNAL_SERVER_ERROR, "internal-title", "internal-text")
        }
    }
}

/// A message page whose title and text are the messages `title` and `text`.
fn page(lang: Lang, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    pages::message_in(lang, status, &lang.t(title), &lang.t(text), None)
}

/// A readable page that tells the client when to come back (`Retry-After`, at least 1 s);
/// `title` is a message key.
pub fn retry_later(lang: Lang, status: StatusCode, title: &str, message: &str, seconds: i64) -> HttpResponse {
    let mut response = pages::message_in(lang, status, &lang.t(title), message, None);
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A form that did not carry this flow's or session's CSRF token.
pub fn csrf_refused(req: &HttpRequest) -> HttpResponse {
    csrf_refused_in(i18n::negotiate(req, None, None))
}

pub fn csrf_refused_in(lang: Lang) -> HttpResponse {
    let (title, text) = (lang.t("form-expired-title"), lang.t("form-expired-text"));
    pages::message_in(lang, StatusCode::FORBIDDEN, &title, &text, None)
}

/// No login flow (or an expired one) behind the request.
pub fn flow_missing(req: &HttpRequest) -> HttpResponse {
    flow_missing_in(i18n::negotiate(req, None, None))
}

pub fn flow_missing_in(lang: Lang) -> HttpResponse {
    let (title, text) = (lang.t("expired-title"), lang.t("expired-text"));
    pages::message_in(lang, StatusCode::BAD_REQUEST, &title, &text, None)
}

/// The readable page for a form body (or query string) that could not be parsed.
pub fn bad_form(req: &HttpRequest) -> HttpResponse {
    json_refusal(
        req,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "the query string or form could not be read",
    )
    .unwrap_or_else(|| {
        page(i18n::negotiate(req, None, None), StatusCode::BAD_REQUEST, "bad-form-title", "bad-form-text")
    })
}

/// A form body over the size limit.
pub fn too_large(req: &HttpRequest) -> HttpResponse {
    json_refusal(req, StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the request body is too large")
        .unwrap_or_else(|| {
            let lang = i18n::negotiate(req, None, None);
            page(lang, StatusCode::PAYLOAD_TOO_LARGE, "too-large-title", "too-large-text")
        })
}

/// A request carrying a character nothing may hold (NUL).
pub fn bad_character(req: &HttpRequest) -> HttpResponse {
    json_refusal(req, StatusCode::BAD_REQUEST, "invalid_request", "the request contains a NUL character")
        .unwrap_or_else(|| {
            let lang = i18n::negotiate(req, None, None);
            page(lang, StatusCode::BAD_REQUEST, "bad-character-title", "bad-character-text")
        })
}

/// Any unknown path or method.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    json_refusal(req, StatusCode::NOT_FOUND, "not_found", "there is nothing at this address").unwrap_or_else(
        || page(i18n::negotiate(req, None, None), StatusCode::NOT_FOUND, "not-found-title", "not-found-text"),
    )
}

/// The endpoints programs call answer in JSON, never with a page: the admin API in its
/// own shape (`{"error": {"code", "message"}}`, as its OpenAPI document says), the OAuth
/// endpoints in RFC 6749's (`{"error", "error_description"}`). `None`: a browser's page.
fn json_refusal(
    req: &HttpRequest,
    status: StatusCode,
    code: &str,
    description: &str,
) -> Option<HttpResponse> {
    let path = req.path();
    if path.starts_with("/api/") {
        return Some(HttpResponse::build(status).json(serde_json::json!({
            "error": { "code": code, "message": description },
        })));
    }
    let oauth = ["/token", "/revoke", "/introspect", "/userinfo", "/jwks"].contains(&path);
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    (oauth || json_body).then(|| {
        HttpResponse::build(status)
            .json(serde_json::json!({ "error": code, "error_description": description }))
    })
}
