//! The self-service account page: TOTP status, set up, replace the secret (after a
//! current code), new recovery codes, sign out. Signing in to it starts a login flow
//! without a client, in the tenant named by `?tenant=` (default `default`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::credentials::{self, CodeCheck};
use crate::auth::enrolment::{self, Confirmation};
use crate::auth::errors::LoginError;
use crate::auth::flow::Amr;
use crate::auth::login::Flow;
use crate::auth::passwords::{self, NewPassword};
use crate::http::cookies::{self, SignedIn, with_session};
use crate::http::i18n;
use crate::http::notes::{self, Found, Note};
use crate::http::state::AppState;
use crate::http::{CsrfForm, errors, flows, origin, pages, see_other};
use crate::store::audit::Origin;
use crate::store::{remembered, sessions, tenants, users};

const INVALID_CODE: &str = "invalid-code";

/// A code entered this long ago still counts as fresh for a password change.
const FRESH_CODE_SECONDS: i64 = 300;

/// Whether the session was signed in with a second factor within [`FRESH_CODE_SECONDS`].
fn code_is_fresh(me: &SignedIn, now: i64) -> bool {
    Amr::from_stored(&me.session.amr).is_some_and(Amr::is_multi_factor)
        && now - me.session.auth_time <= FRESH_CODE_SECONDS
}

#[derive(Debug, Deserialize)]
pub struct AccountQuery {
    tenant: Option<String>,
}

// No Debug: it holds a secret that must never reach a log.
#[derive(Deserialize)]
pub struct CodeForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// A current code of the session's user, checked (and counted) as at sign-in: `None`
/// when it is valid, else the account page saying it was not.
async fn code_refused(
    state: &AppState,
    me: &SignedIn,
    code: &str,
    origin: &Origin,
    now: i64,
) -> Result<Option<HttpResponse>, LoginError> {
    match credentials::verify_active(state.guard(), &me.user.id, code, origin, now).await? {
        CodeCheck::Valid => Ok(None),
        _ => me.refused_on_account(state, INVALID_CODE).await.map(Some),
    }
}

async fn account_page(state: &AppState, me: &SignedIn) -> Result<HttpResponse, LoginError> {
    let status = credentials::status(&state.db, &me.user.id).await?;
    let mut ctx = me.context();
    ctx.insert("username", &me.user.username);
    ctx.insert("display_name", &me.user.display_name);
    ctx.insert("email", &me.user.email);
    if let Some(at) = status.activated_at {
        let (iso, text) = pages::format_time_in(me.lang, at);
        ctx.insert("activated_iso", &iso);
        ctx.insert("activated_text", &text);
    }
    ctx.insert("totp", &status);
    let now = state.clock.now();
    ctx.insert("code_for_password", &(status.status == "active" && !code_is_fresh(me, now)));
    let user_id = me.user.id.clone();
    let (tenant, devices, signed_in) = state
        .db
        .run(move |conn| -> Result<_, LoginError> {
            let tenant = users::find_with_tenant(conn, &user_id)?;
            let devices = remembered::list_for_user(conn, &user_id, now)?;
            Ok((tenant, devices, sessions::live_for_user(conn, &user_id, now)?))
        })
        .await?;
    ctx.insert("sessions", &pages::sessions_view(&signed_in, &me.session.id, me.lang));
    let min_length =
        tenant.map_or(crate::auth::password_rules::DEFAULT_MIN_LENGTH, |(_, t)| t.password_min_length);
    ctx.insert("min_length", &min_length);
    ctx.insert("devices", &pages::listed(&devices, me.lang));
    ctx.insert("forget_base", "/account/devices");
    Ok(pages::render(StatusCode::OK, "account.html", &ctx))
}

pub async fn get_account(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AccountQuery>,
) -> HttpResponse {
    let result = async {
        if let Some(me) = cookies::signed_in(&state, &req).await? {
            let mut response = account_page(&state, &me.with_note(&state, &req).await?).await?;
            // The switcher's choice is remembered for the pages that follow.
            if let Some(lang) = i18n::chosen(&req) {
                let _ = response.add_cookie(&i18n::remember(lang, state.issuer.is_https()));
            }
            return Ok(response);
        }
        let slug = query.into_inner().tenant.unwrap_or_else(|| "default".to_owned());
        let tenant = state.db.run(move |conn| tenants::find_by_slug(conn, &slug)).await?;
        let Some(tenant) = tenant else {
            let lang = i18n::negotiate(&req, None, None);
            let (title, text) = (lang.t("unknown-organisation"), lang.t("unknown-organisation-text"));
            return Ok(pages::message_in(lang, StatusCode::NOT_FOUND, &title, &text, None));
        };
        Ok(flows::start_and_go(&state, &req, Flow::new(tenant.id, None, None, state.clock.now()), "/login")
            .await)
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

/// Setting up an authenticator signs in again: the password is asked for afresh and
/// the enrolment happens inside that sign-in, never from an existing session (a
/// password-only session cookie, if stolen, must not be able to add a factor).
pub async fn post_setup(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let status = credentials::status(&state.db, &me.user.id).await?;
        if status.status == "active" {
            return Ok(see_other("/account"));
        }
        let mut flow =
            Flow::new(me.user.tenant_id.clone(), None, Some(me.user.username.clone()), state.clock.now());
        flow.step_up = true;
        flow.return_to = Some("/account".into());
        Ok(flows::start_and_go(&state, &req, flow, "/login").await)
    })
    .await
}

/// Replacing the secret requires a current code; the new secret stays pending (the
/// old one keeps working) until its own first code confirms it.
pub async fn post_replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    let code = form.code.clone();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        let (now, origin) = (state.clock.now(), origin(&req, Some(&me.user.id)));
        if let Some(refused) = code_refused(&state, &me, &code, &origin, now).await? {
            return Ok(refused);
        }
        enrolment::start_replacement(&state.db, &state.keyring, &me.user.id, &origin, now).await?;
        Ok(see_other("/account/totp"))
    })
    .await
}

/// The enrolment page of the pending credential, from the account page.
pub async fn get_totp(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let Some(me) = cookies::signed_in(&state, &req).await? else { return Ok(see_other("/account")) };
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        enrol_page(&state, &req, &me.with_note(&state, &req).await?).await
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

async fn enrol_page(state: &AppState, req: &HttpRequest, me: &SignedIn) -> Result<HttpResponse, LoginError> {
    let status = credentials::status(&state.db, &me.user.id).await?;
    if !status.has_pending {
        return Ok(see_other("/account"));
    }
    let now = state.clock.now();
    let enrolment = enrolment::pending_enrolment(
        &state.db,
        &state.keyring,
        &me.user.id,
        &origin(req, Some(&me.user.id)),
        now,
    )
    .await?;
    let mut ctx = me.context();
    ctx.insert("can_postpone", &false);
    pages::enrol_context(&mut ctx, &enrolment, "/account/totp/confirm");
    Ok(pages::render(StatusCode::OK, "enrol.html", &ctx))
}

pub async fn post_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    let code = form.code.clone();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        let now = state.clock.now();
        let origin = origin(&req, Some(&me.user.id));
        match enrolment::confirm_pending(state.guard(), &me.user.id, &code, &origin, now).await? {
            Confirmation::Invalid => {
                let note = Note::error(me.lang.t(INVALID_CODE));
                notes::redirect(&state, &me.session.id, "/account/totp", note, &[]).await
            }
            Confirmation::Activated { recovery_codes: Some(codes) } => {
                show_codes(&state, &me, "done-authenticator-codes", &codes).await
            }
            Confirmation::Activated { recovery_codes: None } => {
                me.done_on_account(&state, "done-authenticator").await
            }
        }
    })
    .await
}

/// Sends the browser to the page of the recovery codes just issued.
async fn show_codes(
    state: &AppState,
    me: &SignedIn,
    key: &str,
    codes: &[String],
) -> Result<HttpResponse, LoginError> {
    let note = Note::success(me.lang.t(key));
    let show = async |found: Found| Ok(codes_page(me, &found));
    notes::redirect_or_show(state, &me.session.id, "/account/codes", note, codes, show).await
}

fn codes_page(me: &SignedIn, found: &Found) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("success", &found.note.text);
    ctx.insert("codes", &found.secrets);
    ctx.insert("download", &pages::codes_download(&found.secrets));
    ctx.insert("action", &format!("/account/codes-saved?note={}", found.id));
    pages::render(StatusCode::OK, "codes.html", &ctx)
}

/// `GET /account/codes?note=…`: the recovery codes just issued, until saved.
pub async fn get_codes(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let Some(me) = cookies::signed_in(&state, &req).await? else { return Ok(see_other("/account")) };
        match notes::read(&state, &me.session.id, &req, true).await?.filter(|f| !f.secrets.is_empty()) {
            Some(found) => Ok(codes_page(&me, &found)),
            None => Ok(see_other("/account")),
        }
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

/// New recovery codes need a current code, from a session signed in with a second factor.
pub async fn post_recovery_codes(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CodeForm>,
) -> HttpResponse {
    let code = form.code.clone();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        let (now, origin) = (state.clock.now(), origin(&req, Some(&me.user.id)));
        if let Some(refused) = code_refused(&state, &me, &code, &origin, now).await? {
            return Ok(refused);
        }
        match credentials::regenerate_recovery_codes(&state.db, &me.user.id, &origin, now).await? {
            Some(codes) => show_codes(&state, &me, "done-new-codes", &codes).await,
            None => Ok(see_other("/account")),
        }
    })
    .await
}

// No Debug: it holds secrets that must never reach a log.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: Option<String>,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm: String,
}

/// Changes the password: the current one, and — when the user has an authenticator and
/// the session's code is older than five minutes — a current code. Every other session
/// of the user ends, with its refresh tokens.
pub async fn post_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<PasswordForm>,
) -> HttpResponse {
    let form = form.into_inner();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let now = state.clock.now();
        let origin = origin(&req, Some(&me.user.id));
        let status = credentials::status(&state.db, &me.user.id).await?;
        if status.status == "active"
            && !code_is_fresh(&me, now)
            && let Some(refused) = code_refused(&state, &me, &form.code, &origin, now).await?
        {
            return Ok(refused);
        }
        let typed = NewPassword { new: form.new_password, confirm: form.confirm };
        let changed = passwords::change(
            state.guard(),
            &me.user.id,
            &me.session.id,
            form.current_password,
            typed,
            &origin,
            now,
        )
        .await?;
        match changed {
            Ok(()) => me.done_on_account(&state, "done-password").await,
            Err(why) => me.refused_on_account(&state, &why.to_string()).await,
        }
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    note: String,
}

/// "I have saved these codes": they are not shown again.
pub async fn post_codes_saved(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<SavedQuery>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        notes::forget(&state, &me.session.id, &query.note).await?;
        me.done_on_account(&state, "done-codes-saved").await
    })
    .await
}

pub async fn post_logout(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let (id, now) = (me.session.id.clone(), state.clock.now());
        state.db.run(move |conn| -> Result<(), LoginError> { Ok(sessions::end(conn, &id, now)?) }).await?;
        let mut response = see_other("/account/signed-out");
        let _ = response.add_cookie(&cookies::removal(&state, cookies::session_name(&state)));
        Ok(response)
    })
    .await
}

/// Where signing out from the account page lands.
pub async fn get_signed_out(req: HttpRequest) -> HttpResponse {
    let lang = i18n::negotiate(&req, None, None);
    let (title, text, again) =
        (lang.t("signed-out-title"), lang.t("signed-out-text"), lang.t("sign-in-again"));
    pages::message_in(lang, StatusCode::OK, &title, &text, Some(("/account", &again)))
}
