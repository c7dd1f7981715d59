//! Which sign-in a request is about. A browser may have several open, in tabs: each
//! flow has its own handle, carried in the URL (`?flow=…`, on every page and form of
//! the flow), and is bound to the browser by the `ww_flow` cookie — one per browser,
//! shared by all its flows, never removed when one of them ends. The store key is a
//! hash of both, so a handle that leaks (history, a screenshot) finds nothing without
//! the cookie, and the cookie alone names no flow.

use actix_web::cookie::Cookie;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::errors::LoginError;
use crate::auth::login::{self, Flow};
use crate::http::state::AppState;
use crate::http::{cookies, errors, see_other};
use crate::random::{secret_hash, token};

/// Longest handle or binding accepted (ours are 22 and 43 characters).
const MAX_LEN: usize = 64;

/// A flow as the request names it.
#[derive(Debug, Clone)]
pub struct FlowRef {
    /// The key of the flow in the ephemeral store (hash of binding and handle).
    pub key: String,
    /// The handle in the URL.
    pub handle: String,
}

impl FlowRef {
    /// `path` of this flow (`/login` → `/login?flow=…`).
    pub fn url(&self, path: &str) -> String {
        format!("{path}?flow={}", self.handle)
    }
}

#[derive(Deserialize)]
struct Handle {
    flow: Option<String>,
}

fn key_of(binding: &str, handle: &str) -> String {
    secret_hash(&format!("flow:{binding}:{handle}"))
}

fn plausible(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_LEN
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The flow the request names: its URL's handle under this browser's binding cookie.
pub fn named(state: &AppState, req: &HttpRequest) -> Option<FlowRef> {
    let handle = web::Query::<Handle>::from_query(req.query_string()).ok()?.into_inner().flow?;
    let binding = cookies::value(req, cookies::flow_name(state))?;
    (plausible(&handle) && plausible(&binding)).then(|| FlowRef { key: key_of(&binding, &handle), handle })
}

/// A new flow for this browser: its reference, and the binding cookie to set when the
/// browser had none (an existing binding is kept, so its other flows go on).
pub fn begin(state: &AppState, req: &HttpRequest) -> (FlowRef, Option<Cookie<'static>>) {
    let existing = cookies::value(req, cookies::flow_name(state)).filter(|b| plausible(b));
    let (binding, cookie) = match existing {
        Some(binding) => (binding, None),
        None => {
            let binding = token(32);
            (binding.clone(), Some(cookies::make(state, cookies::flow_name(state), binding)))
        }
    };
    let handle = token(16);
    (FlowRef { key: key_of(&binding, &handle), handle }, cookie)
}

/// Stores `flow` as a new sign-in of this browser, within its address's budget of new
/// flows: its reference, and the binding cookie to set on the answer (see [`begin`]).
pub async fn start(
    state: &AppState,
    req: &HttpRequest,
    flow: &Flow,
) -> Result<(FlowRef, Option<Cookie<'static>>), LoginError> {
    let (at, binding) = begin(state, req);
    let ip = crate::http::origin(req, None).ip;
    login::create_flow(state.guard(), &at.key, flow, ip.as_deref(), state.clock.now()).await?;
    state.metrics.flow_started();
    Ok((at, binding))
}

/// Starts `flow` ([`start`]) and sends the browser to its page `next` (`/login`,
/// `/authorize/resume`); a refused start is its page.
pub async fn start_and_go(state: &AppState, req: &HttpRequest, flow: Flow, next: &str) -> HttpResponse {
    match start(state, req, &flow).await {
        Ok((at, binding)) => {
            let mut response = see_other(&at.url(next));
            if let Some(cookie) = binding {
                let _ = response.add_cookie(&cookie);
            }
            response
        }
        Err(err) => errors::login_error(req, &err),
    }
}
