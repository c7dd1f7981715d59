//! Answers that send the browser back to the client: the authorization's code or its
//! error, with `state` and the issuer (RFC 9207).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use url::Url;

use crate::auth::login::AuthRequest;
use crate::http::state::AppState;
use crate::http::{i18n, pages};
use crate::oidc::authorize::RedirectError;

/// Sends the browser back to the client with `params` (plus `state` and `iss`).
pub fn back_to_client(
    state: &AppState,
    redirect_uri: &str,
    oauth_state: Option<&str>,
    params: &[(&str, &str)],
) -> HttpResponse {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        let lang = i18n::Lang::EN;
        let (title, text) = (lang.t("link-invalid-title"), lang.t("link-bad-redirect"));
        return pages::message_in(lang, StatusCode::BAD_REQUEST, &title, &text, None);
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(s) = oauth_state {
            query.append_pair("state", s);
        }
        // RFC 9207: name the issuer, against mix-up attacks.
        query.append_pair("iss", state.issuer_str());
    }
    HttpResponse::Found().insert_header((LOCATION, url.to_string())).finish()
}

/// The authorization's error, sent back to the client.
pub fn redirect_error(state: &AppState, request: &AuthRequest, err: RedirectError) -> HttpResponse {
    back_to_client(
        state,
        &request.redirect_uri,
        request.state.as_deref(),
        &[("error", err.error), ("error_description", err.description)],
    )
}
