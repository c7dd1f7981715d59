//! The sign-in forms: each checks the flow's CSRF token, verifies its input, and hands
//! it to [`super::steps::advance`].

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::steps::{View, advance, end, over_budget, spent};
use super::{INVALID_CODE, INVALID_PASSWORD, REUSED_CODE, simple, with_flow};
use crate::auth::credentials::{self, CodeCheck};
use crate::auth::devices;
use crate::auth::enrolment::{self, Confirmation};
use crate::auth::errors::LoginError;
use crate::auth::flow::{LoginInput, LoginState, PasswordCheck};
use crate::auth::login::{self, Notice};
use crate::auth::passwords::{self, NewPassword, Refused};
use crate::http::state::AppState;
use crate::http::{CsrfForm, cookies, errors, origin, see_other};
use crate::metrics::{Check, Factor};
use crate::tenancy::Username;

/// Counts a factor check in the metrics and passes its result on: one its limiter
/// refused before it was made as `refused` (`throttled` for a password budget, `locked`
/// for a user's code step), one made as `outcome` says of it.
fn counted<T>(
    state: &AppState,
    factor: Factor,
    refused: Check,
    result: Result<T, LoginError>,
    outcome: impl FnOnce(&T) -> Check,
) -> Result<T, LoginError> {
    match &result {
        Ok(checked) => state.metrics.factor(factor, outcome(checked)),
        Err(LoginError::Throttled { .. }) => state.metrics.factor(factor, refused),
        Err(_) => {}
    }
    result
}

fn ok_or_wrong(right: bool) -> Check {
    if right { Check::Ok } else { Check::Wrong }
}

// No Debug: it holds a secret that must never reach a log.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn post_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    let form = form.into_inner();
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        if !matches!(cur.flow.state, LoginState::AwaitingPassword { .. }) {
            return Ok(see_other(&cur.at.url("/login")));
        }
        let now = state.clock.now();
        let username = form.username.trim().to_owned();
        let key = Username::key_of(&username);
        let tenant_id = cur.flow.tenant_id.clone();
        let device = cookies::device_value(&state, &req)
            .and_then(|value| devices::recognise(&state.keyring, &value, &tenant_id, &key));
        let device_id = device.as_ref().map(|d| d.id.clone());
        let attempt = login::Attempt {
            username: username.clone(),
            password: form.password,
            origin: origin(&req, None),
            device,
            remembered: cookies::value(&req, cookies::remembered_name(&state)),
        };
        // The sign-in's own budget of password checks, counted with the attempt's.
        let (flow_checks, rule) = login::flow_check_budget(&cur.at.key, "password");
        let checked = match login::check_password(
            state.guard(),
            &cur.flow,
            (&flow_checks, rule),
            attempt,
            state.totp_enabled,
            now,
        )
        .await
        {
            Ok(None) => return spent(&state, cur, Factor::Password).await,
            Ok(Some(checked)) => Ok(checked),
            Err(err) => Err(err),
        };
        let checked = counted(&state, Factor::Password, Check::Throttled, checked, |c| {
            ok_or_wrong(matches!(c.check, PasswordCheck::Right { .. }))
        })?;
        let right = matches!(checked.check, PasswordCheck::Right { .. });
        let mut cur = cur;
        cur.flow.password_stamp = checked.stamp;
        let view = View { error: Some(INVALID_PASSWORD), username: Some(username), ..View::default() };
        let mut response = advance(&state, &req, cur, LoginInput::Password(checked.check), view).await?;
        if right {
            // This browser now knows the password: its failures get a budget of their own.
            let value = devices::issue(&state.keyring, &tenant_id, &key, device_id.as_deref());
            let _ = response.add_cookie(&cookies::device(&state, value));
        }
        Ok(response)
    })
    .await
}

// No Debug: it holds a secret that must never reach a log.
#[derive(Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
    /// "Don't ask for a code on this device" (the code page only).
    #[serde(default)]
    remember_device: Option<String>,
}

pub async fn post_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        let LoginState::AwaitingTotp { user_id, .. } = &cur.flow.state else {
            return Ok(see_other(&cur.at.url("/login")));
        };
        let now = state.clock.now();
        // The sign-in's own budget of code checks, counted with the user's.
        let (flow_checks, rule) = login::flow_check_budget(&cur.at.key, "code");
        let check = match credentials::verify_active_in(
            state.guard(),
            user_id,
            &form.code,
            &origin(&req, None),
            (&flow_checks, rule),
            now,
        )
        .await
        {
            Ok(None) => return spent(&state, cur, Factor::Totp).await,
            Ok(Some(check)) => Ok(check),
            Err(err) => Err(err),
        };
        let check = counted(&state, Factor::Totp, Check::Locked, check, |check| match check {
            CodeCheck::Valid => Check::Ok,
            CodeCheck::Replayed => Check::Replay,
            CodeCheck::Invalid => Check::Wrong,
        })?;
        let remember =
            form.remember_device.as_deref() == Some("on") && !cur.flow.step_up && !cur.flow.devices.refused;
        let error = if check == CodeCheck::Replayed { REUSED_CODE } else { INVALID_CODE };
        let view = View { error: Some(error), remember, ..View::default() };
        advance(&state, &req, cur, LoginInput::Totp { valid: check == CodeCheck::Valid }, view).await
    })
    .await
}

pub async fn post_recovery(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        let LoginState::AwaitingTotp { user_id, .. } = &cur.flow.state else {
            return Ok(see_other(&cur.at.url("/login")));
        };
        if cur.flow.step_up {
            // Not offered on a step-up (see render_state): refused before any code is spent.
            return Ok(see_other(&cur.at.url("/login")));
        }
        if let Some(refused) = over_budget(&state, &cur, "code").await? {
            return Ok(refused);
        }
        let now = state.clock.now();
        let valid = counted(
            &state,
            Factor::Recovery,
            Check::Locked,
            credentials::use_recovery_code(state.guard(), user_id, &form.code, &origin(&req, None), now)
                .await,
            |valid| ok_or_wrong(*valid),
        )?;
        let view = View { error: Some(INVALID_CODE), recovery: true, ..View::default() };
        advance(&state, &req, cur, LoginInput::RecoveryCode { valid }, view).await
    })
    .await
}

pub async fn post_enrol(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        let LoginState::Enrolling { user_id, .. } = &cur.flow.state else {
            return Ok(see_other(&cur.at.url("/login")));
        };
        if let Some(refused) = over_budget(&state, &cur, "enrolment").await? {
            return Ok(refused);
        }
        let now = state.clock.now();
        let confirmation = counted(
            &state,
            Factor::Enrolment,
            Check::Locked,
            enrolment::confirm_pending(state.guard(), user_id, &form.code, &origin(&req, None), now).await,
            |c| ok_or_wrong(matches!(c, Confirmation::Activated { .. })),
        )?;
        let (input, codes) = match confirmation {
            Confirmation::Invalid => (LoginInput::EnrolmentCode { valid: false, codes_issued: false }, None),
            Confirmation::Activated { recovery_codes } => (
                LoginInput::EnrolmentCode { valid: true, codes_issued: recovery_codes.is_some() },
                recovery_codes,
            ),
        };
        let view = View { error: Some(INVALID_CODE), codes, ..View::default() };
        advance(&state, &req, cur, input, view).await
    })
    .await
}

// No Debug: it holds secrets that must never reach a log.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    csrf: Option<String>,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

/// Replaces a temporary password; the rules' refusals show on the same page (they are
/// not failed attempts), a password changed meanwhile ends this sign-in.
pub async fn post_new_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewPasswordForm>,
) -> HttpResponse {
    let form = form.into_inner();
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        let LoginState::ChoosingPassword { user_id, .. } = &cur.flow.state else {
            return Ok(see_other(&cur.at.url("/login")));
        };
        let now = state.clock.now();
        let stamp = cur.flow.password_stamp.clone().unwrap_or_default();
        let origin = origin(&req, Some(user_id));
        let typed = NewPassword { new: form.new_password, confirm: form.confirm };
        match passwords::choose(state.guard(), user_id, &stamp, typed, &origin, now).await? {
            Ok(stamp) => {
                // The password this sign-in now stands on is the one just chosen.
                let mut cur = cur;
                cur.flow.password_stamp = Some(stamp);
                advance(&state, &req, cur, LoginInput::PasswordChosen, View::default()).await
            }
            Err(Refused::Stale) => {
                let title = cur.lang.t("sign-in-again");
                end(&state, cur, &title, Refused::Stale.to_string()).await
            }
            Err(refused) => {
                // The same page again, saying why (a refusal is not a failed attempt).
                let mut cur = cur;
                cur.flow.notice = Some(Notice::error(refused.to_string()));
                login::save_flow(&state.ephemeral, &cur.at.key, &mut cur.flow, now).await?;
                Ok(see_other(&cur.at.url("/login")))
            }
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ChoiceForm {
    csrf: Option<String>,
    #[serde(default)]
    choice: String,
}

pub async fn post_offer(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ChoiceForm>,
) -> HttpResponse {
    let input = match form.choice.as_str() {
        "now" => LoginInput::SetUpNow,
        "later" => LoginInput::Later,
        _ => return errors::bad_form(&req),
    };
    simple(&state, &req, form.csrf.as_deref(), input).await
}

pub async fn post_later(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    simple(&state, &req, form.csrf.as_deref(), LoginInput::Later).await
}

pub async fn post_codes_saved(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    simple(&state, &req, form.csrf.as_deref(), LoginInput::CodesSaved).await
}

/// "Not you?" on the code page: back to the password step (a step-up's user is its
/// session's, so it has no such way back).
pub async fn post_not_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_flow(&state, &req, form.csrf.as_deref(), async |cur| {
        if cur.flow.step_up {
            return Ok(see_other(&cur.at.url("/login")));
        }
        advance(&state, &req, cur, LoginInput::NotMe, View::default()).await
    })
    .await
}
