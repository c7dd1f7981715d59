//! The page of each state of a sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use fluent_templates::fluent_bundle::FluentValue;
use tera::Context;

use super::{Current, STOPPED, missing};
use crate::auth::credentials;
use crate::auth::enrolment;
use crate::auth::errors::LoginError;
use crate::auth::flow::LoginState;
use crate::auth::login::Notice;
use crate::http::i18n::{self, Lang};
use crate::http::state::AppState;
use crate::http::{origin, pages, see_other};

/// The page of the flow's current state, saying `notice` when there is one.
pub(super) async fn render_state(
    state: &AppState,
    req: &HttpRequest,
    cur: &Current,
    notice: Option<Notice>,
    recovery: bool,
) -> Result<HttpResponse, LoginError> {
    let (flow, lang) = (&cur.flow, cur.lang);
    if flow.state == LoginState::Denied {
        let notice = notice.unwrap_or_else(|| Notice::error(lang.t(STOPPED)));
        let title = notice.title.unwrap_or_else(|| lang.t("too-many-attempts"));
        return Ok(pages::message_in(lang, StatusCode::FORBIDDEN, &title, &notice.text, None));
    }
    let mut ctx = Context::new();
    ctx.insert("csrf", &flow.csrf);
    ctx.insert("flow", &cur.at.handle);
    ctx.insert("lang", lang.code());
    // The language link stays in this flow (a page shown by `/authorize` links to `/login`).
    let here = match req.uri().path_and_query() {
        Some(here) if here.path().starts_with("/login") => here.as_str().to_owned(),
        _ => cur.at.url("/login"),
    };
    ctx.insert("switch_url", &i18n::switch_url(lang, &here));
    if let Some(brand) = &cur.brand {
        pages::brand(&mut ctx, &flow.tenant_id, brand);
    }
    // "Sign in to Grafana": the application the sign-in came from (cached; none for the
    // account and admin pages' own sign-ins).
    let app_name = match &flow.request {
        Some(request) => state.client(&request.client_id).await?.map(|c| c.name),
        None => None,
    };
    ctx.insert("app_name", &app_name);
    ctx.insert("error", &notice.as_ref().map(|n| n.text.as_str()));
    let page = match &flow.state {
        LoginState::AwaitingPassword { .. } => {
            let typed = notice.and_then(|n| n.username);
            ctx.insert("username", &typed.or_else(|| flow.login_hint.clone()).unwrap_or_default());
            "login.html"
        }
        LoginState::AwaitingTotp { user_id, .. } => {
            let now = state.clock.now();
            let prompt = credentials::code_prompt(&state.db, user_id, now).await?;
            ctx.insert("locked_text", &prompt.locked_until.map(|until| locked_text(lang, until, now)));
            // "Signed in as …, not you?" — not on a step-up, whose session fixes who it is.
            ctx.insert("account", &(!flow.step_up).then_some(&prompt.account));
            ctx.insert("issuer", &prompt.issuer);
            ctx.insert("digits", &prompt.digits);
            // A step-up (administration) needs the authenticator itself: a recovery code
            // regains one's own account, it does not administer others.
            let recovery_allowed = prompt.recovery_allowed && !flow.step_up;
            ctx.insert("recovery_allowed", &recovery_allowed);
            // Not for a step-up (it must prove a code now) or a client that refuses devices.
            let offer = !flow.step_up && !flow.devices.refused;
            ctx.insert("remember_days", &prompt.remember_days.filter(|_| offer));
            if recovery && recovery_allowed { "recovery.html" } else { "totp.html" }
        }
        LoginState::Enrolling { user_id, required, .. } => {
            let now = state.clock.now();
            let enrolment =
                enrolment::pending_enrolment(&state.db, &state.keyring, user_id, &origin(req, None), now)
                    .await?;
            pages::enrol_context(&mut ctx, &enrolment, &cur.at.url("/login/enrol"));
            ctx.insert("can_postpone", &!required);
            "enrol.html"
        }
        LoginState::OfferingEnrolment { .. } => "offer.html",
        LoginState::ChoosingPassword { .. } => {
            let tenant_id = flow.tenant_id.clone();
            let tenant = state.db.run(move |conn| crate::store::tenants::find(conn, &tenant_id)).await?;
            let min_length = tenant.as_ref().map(|t| t.password_min_length);
            ctx.insert("min_length", &min_length.unwrap_or(crate::auth::password_rules::DEFAULT_MIN_LENGTH));
            "choose_password.html"
        }
        LoginState::ShowingRecoveryCodes { .. } => {
            let codes = flow.held_codes(&state.keyring, &cur.at.key);
            ctx.insert("download", &pages::codes_download(&codes));
            ctx.insert("codes", &codes);
            ctx.insert("action", &cur.at.url("/login/codes"));
            "codes.html"
        }
        LoginState::Authenticated { .. } => match &flow.request {
            // Signed in, the authorization not yet answered (a reload on the way back).
            Some(_) => return Ok(see_other(&cur.at.url("/authorize/resume"))),
            None => return Ok(missing(req)),
        },
        LoginState::Denied => return Ok(missing(req)),
    };
    Ok(pages::render(StatusCode::OK, page, &ctx))
}

/// What the code pages say while the code step is locked.
pub(super) fn locked_text(lang: Lang, until: i64, now: i64) -> String {
    lang.t_with(
        "locked",
        &[
            ("wait", FluentValue::from(lang.wait(until - now))),
            ("until", FluentValue::from(lang.date_time(until))),
        ],
    )
}
