//! Turning domain errors into pages. Internal details are logged, never shown.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};

use crate::auth::errors::LoginError;
use crate::http::i18n::Lang;
use crate::http::pages;

/// A failed login or account operation, as the browser sees it.
pub fn login_error(err: &LoginError) -> HttpResponse {
    match err {
        // Fail closed: no decision was made, nothing is lost; try again shortly.
        LoginError::Unavailable(detail) | LoginError::Busy(detail) => {
            tracing::warn!(%detail, "a dependency is unavailable");
            retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "Sign-in is temporarily unavailable. Please try again in a moment.",
                5,
            )
        }
        LoginError::Throttled { retry_after } => {
            let wait = Lang::EN.wait(*retry_after);
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &format!("Too many attempts. Please wait {wait} before trying again."),
                *retry_after,
            )
        }
        LoginError::Overloaded { retry_after } => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            "Busy",
            "Sign-in is very busy right now. Please try again in a few seconds.",
            *retry_after,
        ),
        LoginError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            pages::message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "Please try again later.",
                None,
            )
        }
    }
}

/// A readable page that tells the client when to come back (`Retry-After`, at least 1 s).
pub fn retry_later(status: StatusCode, title: &str, message: &str, seconds: i64) -> HttpResponse {
    let mut response = pages::message(status, title, message, None);
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A form that did not carry this flow's or session's CSRF token.
pub fn csrf_refused() -> HttpResponse {
    csrf_refused_in(Lang::EN)
}

pub fn csrf_refused_in(lang: Lang) -> HttpResponse {
    let (title, text) = (lang.t("form-expired-title"), lang.t("form-expired-text"));
    pages::message_in(lang, StatusCode::FORBIDDEN, &title, &text, None)
}

/// No login flow (or an expired one) behind the request.
pub fn flow_missing() -> HttpResponse {
    flow_missing_in(Lang::EN)
}

pub fn flow_missing_in(lang: Lang) -> HttpResponse {
    let (title, text) = (lang.t("expired-title"), lang.t("expired-text"));
    pages::message_in(lang, StatusCode::BAD_REQUEST, &title, &text, None)
}

/// The readable page for a form body that could not be parsed.
pub fn bad_form() -> HttpResponse {
    pages::message(
        StatusCode::BAD_REQUEST,
        "Something is wrong with that form",
        "The form could not be read. Go back, reload the page and try again.",
        None,
    )
}
