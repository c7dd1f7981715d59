//! `POST /par`: Pushed Authorization Requests (RFC 9126; the storage is
//! [`crate::oidc::par`]). A client sends its authorization request
//! straight to `POST /par` (authenticated as at the token endpoint; a public client with
//! its `client_id`), where it is checked as `/authorize` checks it, and gets a
//! `request_uri` that stands for it for 60 seconds, once; the browser then carries only
//! `client_id` and `request_uri` to `/authorize`. Nothing of the request passes through
//! the browser, so it can be neither read nor changed there.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::ephemeral::limiter::Decision;
use crate::http::oauth::{self, authenticate, presented};
use crate::http::state::AppState;
use crate::oidc::authorize::{self, AuthorizeParams};
use crate::oidc::grants::TokenError;
use crate::oidc::{clients, par};

/// The body of `POST /par`: the authorization request, and the client's credentials when
/// it sends them in the body.
#[derive(Deserialize)]
pub struct PushedForm {
    client_secret: Option<String>,
    #[serde(flatten)]
    params: AuthorizeParams,
}

/// An RFC 6749 §5.2 error with an authorization-request error code.
fn refused(error: &str, description: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}

pub async fn post_par(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<PushedForm>, actix_web::Error>,
) -> HttpResponse {
    let Ok(form) = form else {
        return oauth::token_error(&TokenError::InvalidRequest("the request body is not a valid form"));
    };
    let PushedForm { client_secret, params } = form.into_inner();
    let client = match async {
        let presented = presented(&req, params.client_id.as_deref(), client_secret.as_deref())?;
        authenticate(&state, &presented).await
    }
    .await
    {
        Ok(client) => client,
        Err(err) => return oauth::token_error(&err),
    };
    if params.request_uri.is_some() {
        return refused("invalid_request", "request_uri cannot be pushed");
    }
    let Some(redirect_uri) = params.redirect_uri.clone().filter(|r| !r.is_empty()) else {
        return refused("invalid_request", "redirect_uri is missing");
    };
    if !clients::redirect_uris(&client).contains(&redirect_uri) {
        return refused("invalid_request", "redirect_uri is not registered for this client");
    }
    // Checked now as /authorize will check it then: a bad request is refused here, to
    // the client, rather than later in the user's browser.
    let mut pushed = params.clone();
    pushed.client_id = Some(client.id.clone());
    if let Err(err) =
        authorize::check(params, &client.id, &redirect_uri, client.secret_hash.is_none(), client.require_mfa)
    {
        return refused(err.error, err.description);
    }
    let now = state.clock.now();
    // Ok(Err(retry_after)): this address pushed too many; Ok(Ok(id)): stored under id.
    let stored = async {
        // Public clients push without a secret: a budget per address, as for new sign-ins.
        if let Some(ip) = crate::http::origin(&req, None).ip
            && let Decision::Refused { retry_after } =
                state.ephemeral.hit(&format!("attempts:par:{ip}"), &state.limits.flow_starts, now).await?
        {
            return Ok(Err(retry_after));
        }
        Ok::<_, crate::ephemeral::EphemeralError>(Ok(par::push(&state.ephemeral, &pushed, now).await?))
    };
    match stored.await {
        Ok(Ok(id)) => HttpResponse::Created()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({ "request_uri": format!("{}{id}", par::REQUEST_URI_PREFIX), "expires_in": par::PUSHED_TTL })),
        Ok(Err(retry_after)) => HttpResponse::TooManyRequests()
            .insert_header((header::RETRY_AFTER, retry_after.max(1).to_string()))
            .json(json!({ "error": "slow_down", "error_description": "too many pushed requests from this address" })),
        Err(err) => oauth::token_error(&TokenError::Unavailable(err.to_string())),
    }
}
