//! The sign-in pages: `GET /login` shows the page of the flow's current state; each
//! `POST /login/…` verifies one input, advances the state machine, and either shows
//! the next page (POST-redirect-GET), shows the same page with the generic error, or
//! finishes the login.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;
use tera::Context;

use crate::auth::credentials::{self, CodeCheck};
use crate::auth::devices;
use crate::auth::enrolment::{self, Confirmation};
use crate::auth::errors::LoginError;
use crate::auth::flow::{self, LoginInput, LoginState, Outcome, PasswordCheck};
use crate::auth::login::{self, Flow, Notice};
use crate::auth::passwords::{self, NewPassword, Refused};
use crate::auth::totp;
use crate::http::flows::{self, FlowRef};
use crate::http::i18n::{self, Lang};
use crate::http::state::AppState;
use crate::http::{CsrfForm, cookies, errors, origin, pages, redirects, see_other};
use crate::metrics::{Check, Factor};
use crate::oidc::authorize;
use crate::tenancy::branding::Brand;

// Message keys (locales/*/signin.ftl).
const INVALID_PASSWORD: &str = "invalid-password";
const INVALID_CODE: &str = "invalid-code";
/// A right code whose time step was already used (here, or by someone who saw it).
const REUSED_CODE: &str = "reused-code";

/// The flow the request names (see [`flows`]), its tenant's branding (the user's
/// tenant, once known), and the language of its pages.
#[derive(Clone)]
struct Current {
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
    let brand = state.brand(&flow.tenant_id).await?;
    let tenant_default = brand.as_ref().and_then(|b| b.default_language.as_deref());
    let lang = i18n::negotiate(req, flow.ui_locales.as_deref(), tenant_default);
    Ok(Some(Current { at, flow, brand, lang }))
}

/// The page for a request that names no live flow, in the browser's language.
fn missing(req: &HttpRequest) -> HttpResponse {
    errors::flow_missing_in(i18n::negotiate(req, None, None))
}

/// How a POST that did not finish the sign-in wants the page shown next.
#[derive(Debug, Clone, Default)]
struct View {
    /// The key of the message to show.
    error: Option<&'static str>,
    /// Back to the recovery-code page rather than the code page.
    recovery: bool,
    username: Option<String>,
    /// Recovery codes to show (right after activation) until the user has saved them.
    codes: Option<Vec<String>>,
    /// A refusal to show as it is (password rules).
    message: Option<String>,
    /// The code form asked to remember this browser.
    remember: bool,
}

/// The page of the flow's current state, saying `notice` when there is one.
async fn render_state(
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
    let here = req.uri().path_and_query().map_or("/login", |p| p.as_str());
    ctx.insert("switch_url", &i18n::switch_url(lang, here));
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
            enrol_context(&mut ctx, &enrolment, &cur.at.url("/login/enrol"));
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

/// The enrolment page's variables: QR, grouped key, `otpauth://` link and parameters.
pub fn enrol_context(ctx: &mut Context, enrolment: &enrolment::Enrolment, action: &str) {
    let uri = enrolment.otpauth_uri();
    let label =
        format!("QR code to add {} at {} to an authenticator app", enrolment.account, enrolment.issuer);
    ctx.insert("qr_svg", &totp::qr_svg(&uri, &label).unwrap_or_default());
    ctx.insert("secret_grouped", &enrolment.secret.grouped());
    ctx.insert("otpauth_uri", &uri);
    ctx.insert("issuer", &enrolment.issuer);
    ctx.insert("account", &enrolment.account);
    ctx.insert("algorithm", enrolment.params.algorithm.as_str());
    ctx.insert("digits", &enrolment.params.digits);
    ctx.insert("period", &enrolment.params.period);
    ctx.insert("action", action);
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
        let mut response = render_state(&state, &req, &cur, notice, query.recovery.is_some()).await?;
        // The switcher's choice is remembered for the pages that follow.
        if let Some(lang) = i18n::chosen(&req) {
            let _ = response.add_cookie(&i18n::remember(lang, state.issuer.is_https()));
        }
        Ok(response)
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

/// Applies `input` and answers with a redirect: to the next page, to the same page
/// with its notice (post/redirect/get: a reload never sends the form again), or to the
/// end of the sign-in. When another request in the same sign-in saved the flow first
/// (a double click, or parallel guesses), this step is not written: the page shows the
/// flow as that request left it — a sign-in that was stopped stays stopped.
async fn advance(
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

/// What the code pages say while the code step is locked.
fn locked_text(lang: Lang, until: i64, now: i64) -> String {
    lang.t_with(
        "locked",
        &[
            ("wait", FluentValue::from(lang.wait(until - now))),
            ("until", FluentValue::from(lang.date_time(until))),
        ],
    )
}

/// Ends the flow after too many wrong attempts — saying so, and how long the code step
/// stays locked when it does.
async fn denied(state: &AppState, cur: Current) -> Result<HttpResponse, LoginError> {
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

const STOPPED: &str = "stopped";

/// Ends the sign-in: it stays, stopped, until it expires, so that its page (reached by
/// a redirect, like every answer to a form) says why on every reload. The stop lands
/// whatever parallel requests in the sign-in saved meanwhile, unless it had already
/// ended (stopped, or finished with a session).
async fn end(
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
async fn over_budget(
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
        state.metrics.factor(factor, Check::Throttled);
        denied(state, cur.clone()).await.map(Some)
    }
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
        if let Some(refused) = over_budget(&state, &cur, "password").await? {
            return Ok(refused);
        }
        let now = state.clock.now();
        let username = form.username.trim().to_owned();
        let key = username.to_lowercase();
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
        let checked =
            login::check_password(state.guard(), &cur.flow, attempt, state.totp_enabled, now).await?;
        let right = matches!(checked.check, PasswordCheck::Right { .. });
        state.metrics.factor(Factor::Password, if right { Check::Ok } else { Check::Wrong });
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
        if let Some(refused) = over_budget(&state, &cur, "code").await? {
            return Ok(refused);
        }
        let now = state.clock.now();
        let check =
            credentials::verify_active(state.guard(), user_id, &form.code, &origin(&req, None), now).await?;
        let remember =
            form.remember_device.as_deref() == Some("on") && !cur.flow.step_up && !cur.flow.devices.refused;
        let error = if check == CodeCheck::Replayed { REUSED_CODE } else { INVALID_CODE };
        state.metrics.factor(
            Factor::Totp,
            match check {
                CodeCheck::Valid => Check::Ok,
                CodeCheck::Replayed => Check::Replay,
                CodeCheck::Invalid => Check::Wrong,
            },
        );
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
        let valid =
            credentials::use_recovery_code(state.guard(), user_id, &form.code, &origin(&req, None), now)
                .await?;
        state.metrics.factor(Factor::Recovery, if valid { Check::Ok } else { Check::Wrong });
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
        let confirmation =
            enrolment::confirm_pending(state.guard(), user_id, &form.code, &origin(&req, None), now).await?;
        let (input, codes) = match confirmation {
            Confirmation::Invalid => (LoginInput::EnrolmentCode { valid: false, codes_issued: false }, None),
            Confirmation::Activated { recovery_codes } => (
                LoginInput::EnrolmentCode { valid: true, codes_issued: recovery_codes.is_some() },
                recovery_codes,
            ),
        };
        let valid = matches!(input, LoginInput::EnrolmentCode { valid: true, .. });
        state.metrics.factor(Factor::Enrolment, if valid { Check::Ok } else { Check::Wrong });
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

/// An input that needs no verification of its own.
async fn simple(state: &AppState, req: &HttpRequest, csrf: Option<&str>, input: LoginInput) -> HttpResponse {
    with_flow(state, req, csrf, async |cur| advance(state, req, cur, input, View::default()).await).await
}
