//! Advancing a sign-in: each verified input through the state machine, then the next
//! page, the end of the sign-in, or its stop.

use actix_web::{HttpRequest, HttpResponse};
use fluent_templates::fluent_bundle::FluentValue;

use super::Current;
use super::render::locked_text;
use crate::auth::credentials;
use crate::auth::errors::LoginError;
use crate::auth::flow::{self, LoginInput, LoginState, Outcome};
use crate::auth::login::{self, Notice};
use crate::http::state::AppState;
use crate::http::{cookies, origin, redirects, see_other};
use crate::metrics::{Check, Factor};
use crate::oidc::authorize;

/// How a POST that did not finish the sign-in wants the page shown next.
#[derive(Debug, Clone, Default)]
pub(super) struct View {
    /// The key of the message to show.
    pub(super) error: Option<&'static str>,
    /// Back to the recovery-code page rather than the code page.
    pub(super) recovery: bool,
    pub(super) username: Option<String>,
    /// Recovery codes to show (right after activation) until the user has saved them.
    pub(super) codes: Option<Vec<String>>,
    /// A refusal to show as it is (password rules).
    pub(super) message: Option<String>,
    /// The code form asked to remember this browser.
    pub(super) remember: bool,
}

/// Applies `input` and answers with a redirect: to the next page, to the same page
/// with its notice (post/redirect/get: a reload never sends the form again), or to the
/// end of the sign-in. When another request in the same sign-in saved the flow first
/// (a double click, or parallel guesses), this step is not written: the page shows the
/// flow as that request left it — a sign-in that was stopped stays stopped.
pub(super) async fn advance(
    state: &AppState,
    req: &HttpRequest,
    mut cur: Current,
    input: LoginInput,
    view: View,
) -> Result<HttpResponse, LoginError> {
    let now = state.clock.now();
    let (next, outcome) = flow::step(cur.flow.state.clone(), input, now);
    match outcome {
        Outcome::Illegal => Ok(see_other(&cur.at.url("/login"))),
        Outcome::Continue => {
            cur.flow.state = next;
            match &view.codes {
                Some(codes) => cur.flow.hold_codes(&state.keyring, &cur.at.key, codes),
                None => cur.flow.drop_codes(),
            }
            login::save_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, now).await?;
            Ok(see_other(&cur.at.url("/login")))
        }
        Outcome::Retry => {
            cur.flow.state = next;
            let text = view.message.or_else(|| view.error.map(|key| cur.lang.t(key))).unwrap_or_default();
            cur.flow.notice = Some(Notice { title: None, text, username: view.username });
            login::save_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, now).await?;
            let page = cur.at.url("/login");
            Ok(see_other(&if view.recovery { format!("{page}&recovery=1") } else { page }))
        }
        Outcome::Denied => {
            state.metrics.login(&cur.flow.tenant_id, "denied");
            denied(state, cur).await
        }
        Outcome::Done => finish(state, req, cur, next, view.remember, now).await,
    }
}

/// Ends a sign-in whose last factor was just proved: the SSO session, and in the same
/// transaction the authorization's code when nothing is left to ask — the browser goes
/// straight back to the client. Otherwise on to the consent page (`/authorize/resume`),
/// or, for a sign-in without a client, to the page that asked for it.
async fn finish(
    state: &AppState,
    req: &HttpRequest,
    mut cur: Current,
    next: LoginState,
    remember: bool,
    now: i64,
) -> Result<HttpResponse, LoginError> {
    let LoginState::Authenticated { user_id, amr, auth_time } = &next else {
        return Err(LoginError::Internal("a finished flow is not authenticated".into()));
    };
    let finishing = login::Finishing {
        user_id: user_id.clone(),
        amr: *amr,
        auth_time: *auth_time,
        demand: cur.flow.demand(),
        password_stamp: cur.flow.password_stamp.clone(),
        browser: login::Browser {
            label: crate::auth::remembered::label_of(
                req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()),
            ),
            origin: origin(req, None),
        },
        remember,
    };
    // The client's terms (cached): a trusted one is never asked for consent.
    let answer = match &cur.flow.request {
        Some(request) => state
            .client(&request.client_id)
            .await?
            .map(|client| (request.clone(), client.trusted, cur.flow.consent_asked)),
        None => None,
    };
    let completed =
        login::complete(&state.db, finishing, state.totp_enabled, now, move |conn, user, session| {
            match &answer {
                Some((request, trusted, asked)) => {
                    authorize::code_unless_consent(conn, request, *trusted, *asked, user, session, now)
                }
                None => Ok(None),
            }
        })
        .await?;
    state.metrics.login(&cur.flow.tenant_id, if completed.is_some() { "success" } else { "refused" });
    let Some(done) = completed else {
        // Disabled, locked or the password changed while this sign-in went on.
        let (title, text) = (cur.lang.t("cannot-finish"), cur.lang.t("account-changed"));
        return end(state, cur, &title, text).await;
    };
    let mut response = match (&cur.flow.request, &done.code) {
        (Some(request), Some(code)) => {
            login::delete_flow(&state.ephemeral, &cur.at.key).await?;
            redirects::back_to_client(
                state,
                &request.redirect_uri,
                request.state.as_deref(),
                &[("code", code)],
            )
        }
        (None, _) => {
            login::delete_flow(&state.ephemeral, &cur.at.key).await?;
            // Only local paths: the flow was made by us, but never redirect off-site.
            let to = cur.flow.return_to.clone().filter(|p| p.starts_with('/') && !p.starts_with("//"));
            see_other(&to.unwrap_or_else(|| "/account".to_owned()))
        }
        (Some(_), None) => {
            // Consent first, with the new session. The session exists, so the flow says
            // so whatever a parallel request wrote.
            let session_id = done.session_id.clone();
            login::settle_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, now, |flow| {
                flow.state = next.clone();
                flow.session_id = Some(session_id.clone());
                true
            })
            .await?;
            see_other(&cur.at.url("/authorize/resume"))
        }
    };
    let _ = response.add_cookie(&cookies::make(state, cookies::session_name(state), done.session_token));
    if let Some((token, days)) = done.remembered {
        let _ = response.add_cookie(&cookies::remembered(state, token, days));
    }
    Ok(response)
}

/// Ends the flow after too many wrong attempts — saying so, and how long the code step
/// stays locked when it does.
pub(super) async fn denied(state: &AppState, cur: Current) -> Result<HttpResponse, LoginError> {
    let now = state.clock.now();
    let locked = match &cur.flow.state {
        LoginState::AwaitingTotp { user_id, .. } => {
            credentials::code_prompt(&state.db, user_id, now).await?.locked_until
        }
        _ => None,
    };
    let lang = cur.lang;
    let text = match locked {
        Some(until) => {
            lang.t_with("stopped-locked", &[("locked", FluentValue::from(locked_text(lang, until, now)))])
        }
        None => lang.t("stopped-plain"),
    };
    end(state, cur, &lang.t("too-many-attempts"), text).await
}

/// Ends the sign-in: it stays, stopped, until it expires, so that its page (reached by
/// a redirect, like every answer to a form) says why on every reload. The stop lands
/// whatever parallel requests in the sign-in saved meanwhile, unless it had already
/// ended (stopped, or finished with a session).
pub(super) async fn end(
    state: &AppState,
    mut cur: Current,
    title: &str,
    text: String,
) -> Result<HttpResponse, LoginError> {
    let notice = Notice { title: Some(title.to_owned()), text, username: None };
    login::settle_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, state.clock.now(), |flow| {
        if matches!(flow.state, LoginState::Denied | LoginState::Authenticated { .. }) {
            return false;
        }
        flow.state = LoginState::Denied;
        flow.drop_codes();
        flow.notice = Some(notice.clone());
        true
    })
    .await?;
    Ok(see_other(&cur.at.url("/login")))
}

/// Counts a check in this flow's step before it is made; `Some(page)` when the step's
/// checks are spent.
pub(super) async fn over_budget(
    state: &AppState,
    cur: &Current,
    step: &str,
) -> Result<Option<HttpResponse>, LoginError> {
    if login::spend_flow_check(&state.ephemeral, &cur.at.key, step, state.clock.now()).await? {
        Ok(None)
    } else {
        let factor = match step {
            "password" => Factor::Password,
            "enrolment" => Factor::Enrolment,
            _ => Factor::Totp,
        };
        spent(state, cur.clone(), factor).await.map(Some)
    }
}

/// The page of a sign-in whose checks of a step are spent (counted as throttled): it ends.
pub(super) async fn spent(
    state: &AppState,
    cur: Current,
    factor: Factor,
) -> Result<HttpResponse, LoginError> {
    state.metrics.factor(factor, Check::Throttled);
    denied(state, cur).await
}
