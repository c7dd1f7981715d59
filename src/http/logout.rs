//! RP-Initiated Logout 1.0: `/end_session` ends the SSO session (and its session-bound
//! refresh-token families), then returns to a registered `post_logout_redirect_uri`.
//! Without a valid `id_token_hint` the user is asked to confirm, so that a third-party
//! page cannot sign them out.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use url::Url;

use crate::auth::errors::LoginError;
use crate::http::cookies::SignedIn;
use crate::http::state::AppState;
use crate::http::{cookies, errors, i18n, pages};
use crate::oidc::clients;
use crate::oidc::tokens::IdClaims;
use crate::store::sessions;

// No Debug: it holds a secret that must never reach a log.
#[derive(Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
    csrf: Option<String>,
}

/// A sign-out link that cannot be followed; `message` is a message key.
fn bad_request(req: &HttpRequest, message: &str) -> HttpResponse {
    let lang = i18n::negotiate(req, None, None);
    pages::message_in(lang, StatusCode::BAD_REQUEST, &lang.t("signout-invalid-title"), &lang.t(message), None)
}

/// What a checked request says: whose session, and where to go afterwards.
struct Checked {
    hinted_sid: Option<String>,
    valid_hint: bool,
    /// The client asking: `client_id`, else the hint's audience.
    client_id: Option<String>,
    redirect: Option<String>,
}

async fn check(
    state: &AppState,
    req: &HttpRequest,
    p: &LogoutParams,
) -> Result<Result<Checked, HttpResponse>, LoginError> {
    let mut client_id = p.client_id.clone().filter(|c| !c.is_empty());
    let mut hinted_sid = None;
    let mut valid_hint = false;
    if let Some(hint) = p.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        let keys = state.keys().await.map_err(|e| LoginError::Internal(e.to_string()))?;
        // An expired ID token is still a fine hint of who is signing out.
        let Some(claims) = keys.verify::<IdClaims>(hint, "JWT", true) else {
            return Ok(Err(bad_request(req, "signout-foreign-token")));
        };
        if claims.issuer().as_str() != state.issuer_str() {
            return Ok(Err(bad_request(req, "signout-other-issuer")));
        }
        let audience = claims.audiences().first().map(|a| a.as_str().to_owned());
        if client_id.is_some() && client_id != audience {
            return Ok(Err(bad_request(req, "signout-client-mismatch")));
        }
        client_id = audience;
        hinted_sid = claims.additional_claims().sid.clone();
        valid_hint = true;
    }
    let redirect = match p.post_logout_redirect_uri.as_deref().filter(|r| !r.is_empty()) {
        None => None,
        Some(uri) => {
            let Some(id) = &client_id else {
                return Ok(Err(bad_request(req, "signout-needs-hint")));
            };
            let client = state.client(id).await?;
            let registered = client
                .as_ref()
                .is_some_and(|c| clients::post_logout_redirect_uris(c).iter().any(|u| u == uri));
            if !registered {
                return Ok(Err(bad_request(req, "signout-unregistered")));
            }
            let mut url = Url::parse(uri).map_err(|e| LoginError::Internal(e.to_string()))?;
            if let Some(s) = &p.state {
                url.query_pairs_mut().append_pair("state", s);
            }
            Some(url.to_string())
        }
    };
    Ok(Ok(Checked { hinted_sid, valid_hint, client_id, redirect }))
}

/// Ends this browser's session (`me`, as the caller looked it up) and the hinted one.
async fn sign_out(
    state: &AppState,
    req: &HttpRequest,
    me: Option<SignedIn>,
    checked: Checked,
) -> Result<HttpResponse, LoginError> {
    let now = state.clock.now();
    // The page after: in the language of the signed-in user's pages (tenant default too).
    let lang = me.as_ref().map_or_else(|| i18n::negotiate(req, None, None), |me| me.lang);
    let current = me.map(|me| me.session.id);
    let ids: Vec<String> = current.into_iter().chain(checked.hinted_sid).collect();
    state
        .db
        .run(move |conn| -> Result<(), LoginError> {
            for id in &ids {
                sessions::end(conn, id, now)?;
            }
            Ok(())
        })
        .await?;
    let removal = cookies::removal(state, cookies::session_name(state));
    Ok(match checked.redirect {
        Some(to) => HttpResponse::Found().cookie(removal).insert_header((LOCATION, to)).finish(),
        None => {
            let (title, text) = (lang.t("signed-out-title"), lang.t("signed-out-text"));
            let mut response = pages::message_in(lang, StatusCode::OK, &title, &text, None);
            let _ = response.add_cookie(&removal);
            response
        }
    })
}

async fn end_session(state: &AppState, req: &HttpRequest, p: LogoutParams) -> HttpResponse {
    let result = async {
        let checked = match check(state, req, &p).await? {
            Ok(checked) => checked,
            Err(page) => return Ok(page),
        };
        // Nothing to ask without a session: the hinted session (if any) ends.
        let Some(me) = cookies::signed_in(state, req).await? else {
            return sign_out(state, req, None, checked).await;
        };
        // Silently only when the client proves it is this browser's session: a valid
        // hint whose `sid` is this session. A hint of another session (say, another
        // user's ID token in a link) or no hint at all: ask the user first.
        if checked.valid_hint && checked.hinted_sid.as_deref() == Some(me.session.id.as_str()) {
            return sign_out(state, req, Some(me), checked).await;
        }
        let mut ctx = me.context();
        ctx.insert("post_logout_redirect_uri", &p.post_logout_redirect_uri.unwrap_or_default());
        ctx.insert("state", &p.state.unwrap_or_default());
        ctx.insert("client_id", &checked.client_id.unwrap_or_default());
        Ok(pages::render(StatusCode::OK, "logout.html", &ctx))
    };
    result.await.unwrap_or_else(|e| errors::login_error(req, &e))
}

pub async fn get_end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LogoutParams>,
) -> HttpResponse {
    end_session(&state, &req, query.into_inner()).await
}

pub async fn post_end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LogoutParams>,
) -> HttpResponse {
    end_session(&state, &req, form.into_inner()).await
}

/// The confirmation form of a sign-out without an ID token hint.
pub async fn post_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LogoutParams>,
) -> HttpResponse {
    let p = form.into_inner();
    let result = async {
        let me = cookies::signed_in(&state, &req).await?;
        if me.as_ref().is_some_and(|me| !cookies::csrf_matches(&me.csrf, p.csrf.as_deref())) {
            return Ok(errors::csrf_refused(&req));
        }
        let p = LogoutParams { id_token_hint: None, ..p };
        match check(&state, &req, &p).await? {
            Ok(checked) => sign_out(&state, &req, me, checked).await,
            Err(page) => Ok(page),
        }
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}
