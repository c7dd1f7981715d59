//! The sign-in pages: [`begin`] starts a sign-in and shows its first page (for
//! `/authorize`); `GET /login` shows the page of the flow's current state; each
//! `POST /login/…` verifies one input, advances the state machine, and either shows
//! the next page (POST-redirect-GET), shows the same page with the generic error, or
//! finishes the login.

mod forms;
mod render;
mod steps;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::errors::LoginError;
use crate::auth::flow::{LoginInput, LoginState};
use crate::auth::login::{self, Flow};
use crate::http::flows::{self, FlowRef};
use crate::http::i18n::{self, Lang};
use crate::http::state::AppState;
use crate::http::{cookies, errors};
use crate::tenancy::branding::Brand;

pub use forms::{
    post_codes_saved, post_enrol, post_later, post_new_password, post_not_me, post_offer, post_password,
    post_recovery, post_totp,
};

// Message keys (locales/*/signin.ftl).
const INVALID_PASSWORD: &str = "invalid-password";
const INVALID_CODE: &str = "invalid-code";
/// A right code whose time step was already used (here, or by someone who saw it).
const REUSED_CODE: &str = "reused-code";

/// What an ended sign-in says when it has nothing more particular to say.
const STOPPED: &str = "stopped";

/// The flow the request names (see [`flows`]), its tenant's branding (the user's
/// tenant, once known), and the language of its pages.
#[derive(Clone)]
pub(super) struct Current {
    at: FlowRef,
    flow: Flow,
    brand: Option<Brand>,
    lang: Lang,
}

async fn current(state: &AppState, req: &HttpRequest) -> Result<Option<Current>, LoginError> {
    let Some(at) = flows::named(state, req) else { return Ok(None) };
    let Some(flow) = login::load_flow(&state.ephemeral, &at.key, state.clock.now()).await? else {
        return Ok(None);
    };
    Ok(Some(Current::of(state, req, at, flow).await?))
}

impl Current {
    /// `flow`, known as `at`, with its branding and its pages' language.
    async fn of(state: &AppState, req: &HttpRequest, at: FlowRef, flow: Flow) -> Result<Self, LoginError> {
        let brand = state.brand(&flow.tenant_id).await?;
        let tenant_default = brand.as_ref().and_then(|b| b.default_language.as_deref());
        let lang = i18n::negotiate(req, flow.ui_locales.as_deref(), tenant_default);
        Ok(Self { at, flow, brand, lang })
    }
}

/// Starts a sign-in and answers with its first page at once: the flow stored (within
/// the client address's budget of new flows), its binding cookie set, the sign-in page
/// shown — no redirect to `/login` first, as Keycloak does: one round trip less for the
/// browser, one request less for the server. The page's form and language link name
/// the flow (`/login…?flow=…`); a reload of the authorization URL starts another.
pub async fn begin(state: &AppState, req: &HttpRequest, flow: Flow) -> HttpResponse {
    let result = async {
        let (at, binding) = flows::start(state, req, &flow).await?;
        let cur = Current::of(state, req, at, flow).await?;
        let mut response = render::render_state(state, req, &cur, None, false).await?;
        if let Some(cookie) = binding {
            let _ = response.add_cookie(&cookie);
        }
        Ok(response)
    };
    result.await.unwrap_or_else(|e: LoginError| errors::login_error(req, &e))
}

/// The page for a request that names no live flow, in the browser's language.
fn missing(req: &HttpRequest) -> HttpResponse {
    errors::flow_missing_in(i18n::negotiate(req, None, None))
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    recovery: Option<String>,
}

pub async fn get_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<LoginQuery>,
) -> HttpResponse {
    let result = async {
        let Some(mut cur) = current(&state, &req).await? else { return Ok(missing(&req)) };
        // A notice is said once (a reload shows the page afresh) — but an ended sign-in
        // says why on every reload.
        let notice = if cur.flow.state == LoginState::Denied {
            cur.flow.notice.clone()
        } else {
            let notice = cur.flow.notice.take();
            if notice.is_some() {
                // Lost to another request's save: that one's page is the next to show.
                login::save_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, state.clock.now()).await?;
            }
            notice
        };
        let mut response = render::render_state(&state, &req, &cur, notice, query.recovery.is_some()).await?;
        // The switcher's choice is remembered for the pages that follow.
        if let Some(lang) = i18n::chosen(&req) {
            let _ = response.add_cookie(&i18n::remember(lang, state.issuer.is_https()));
        }
        Ok(response)
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

/// Runs `f` with this browser's flow once the form's CSRF token matches it; the
/// missing flow, the refusal and any error become their pages.
async fn with_flow<F>(state: &AppState, req: &HttpRequest, csrf: Option<&str>, f: F) -> HttpResponse
where
    F: AsyncFnOnce(Current) -> Result<HttpResponse, LoginError>,
{
    let result = async {
        match guarded(state, req, csrf).await? {
            Ok(cur) => f(cur).await,
            Err(refusal) => Ok(refusal),
        }
    };
    result.await.unwrap_or_else(|e| errors::login_error(req, &e))
}

/// Loads the flow and checks the form's CSRF token, or answers with the refusal.
async fn guarded(
    state: &AppState,
    req: &HttpRequest,
    csrf: Option<&str>,
) -> Result<Result<Current, HttpResponse>, LoginError> {
    let Some(cur) = current(state, req).await? else { return Ok(Err(missing(req))) };
    if !cookies::csrf_matches(&cur.flow.csrf, csrf) {
        return Ok(Err(errors::csrf_refused_in(cur.lang)));
    }
    Ok(Ok(cur))
}

/// An input that needs no verification of its own.
async fn simple(state: &AppState, req: &HttpRequest, csrf: Option<&str>, input: LoginInput) -> HttpResponse {
    with_flow(state, req, csrf, async |cur| {
        steps::advance(state, req, cur, input, steps::View::default()).await
    })
    .await
}
