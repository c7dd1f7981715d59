//! What the admin pages at `/admin` share (the pages are `admin_users`, `admin_acts`,
//! `admin_settings` and `admin_clients`): a parent user manages the users below it. They need a session
//! signed in with a TOTP code (`otp` in its `amr`); any other session is sent through
//! the TOTP step first (step-up), without asking for the password again. A refused form
//! goes back to its page with the reason (post/redirect/get, [`crate::http::notes`]).
//! They speak the language of the account page (`locales/*/admin.ftl`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fluent_templates::fluent_bundle::FluentValue;

use crate::auth::errors::LoginError;
use crate::auth::flow::{Amr, LoginState};
use crate::auth::login::Flow;
use crate::http::cookies::{self, SignedIn};
use crate::http::i18n::{self, Lang};
use crate::http::notes::{self, Note};
use crate::http::state::AppState;
use crate::http::{errors, flows, origin, pages};
use crate::store::audit::Origin;
use crate::store::{StoreError, tenants, totp};
use crate::tenancy::Permission;
use crate::tenancy::admin::{self, Admin, AdminError};
use crate::tenancy::permissions::{Action, Denied};

/// What a refusal says on the admin pages, in their language.
pub(crate) fn refusal(lang: Lang, err: &AdminError) -> String {
    match err {
        AdminError::Denied(denied) => lang.t(match denied {
            Denied::Itself => "admin-denied-itself",
            Denied::OutsideSubtree => "admin-denied-outside",
            Denied::Permission => "admin-denied-permission",
            Denied::NotRoot => "admin-denied-not-root",
        }),
        AdminError::NotFound => lang.t("admin-no-such-user-text"),
        AdminError::Duplicate(name) => {
            lang.t_with("admin-duplicate", &[("user", FluentValue::from(name.clone()))])
        }
        AdminError::Invalid(refusal) => refusal.in_lang(lang),
        other => other.to_string(),
    }
}

fn admin_error(req: &HttpRequest, lang: Lang, err: &AdminError) -> HttpResponse {
    let back = lang.t("admin-back-to-users");
    let page = |status, title: &str| {
        pages::message_in(lang, status, &lang.t(title), &refusal(lang, err), Some(("/admin", &back)))
    };
    match err {
        AdminError::Denied(_) => page(StatusCode::FORBIDDEN, "admin-not-allowed"),
        AdminError::NotFound | AdminError::Store(StoreError::Gone) => {
            page(StatusCode::NOT_FOUND, "admin-no-such-user")
        }
        AdminError::Invalid(_) | AdminError::Duplicate(_) => {
            page(StatusCode::BAD_REQUEST, "admin-check-input")
        }
        // Down, or still contended after the retry: 503, never 500.
        AdminError::Store(StoreError::Unavailable(m)) => {
            errors::login_error_for(req, lang, &LoginError::Unavailable(m.clone()))
        }
        AdminError::Store(StoreError::Busy(m)) => {
            errors::login_error_for(req, lang, &LoginError::Busy(m.clone()))
        }
        AdminError::Store(other) => {
            errors::login_error_for(req, lang, &LoginError::Internal(other.to_string()))
        }
    }
}

#[derive(serde::Deserialize)]
struct TenantQuery {
    tenant: Option<String>,
}

/// The administrator of this request, or where to send the browser instead.
async fn admin_session(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Result<(SignedIn, Admin), HttpResponse>, LoginError> {
    let now = state.clock.now();
    let Some(me) = cookies::signed_in(state, req).await? else {
        // Not signed in: an ordinary sign-in, then back here — where a user who is no
        // administrator is told so before anything is asked of it (no step-up, no
        // enrolment it does not need), and an administrator steps up if need be. The
        // tenant is `?tenant=` (as on the account page), else `default`.
        let slug = web::Query::<TenantQuery>::from_query(req.query_string())
            .ok()
            .and_then(|q| q.into_inner().tenant)
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .unwrap_or_else(|| "default".to_owned());
        let tenant = state.db.run(move |conn| tenants::find_by_slug(conn, &slug)).await?;
        let Some(tenant) = tenant else {
            let lang = i18n::negotiate(req, None, None);
            let (title, text) = (lang.t("unknown-organisation"), lang.t("unknown-organisation-text"));
            return Ok(Err(pages::message_in(lang, StatusCode::NOT_FOUND, &title, &text, None)));
        };
        let mut flow = Flow::new(tenant.id, None, None, now);
        flow.return_to = Some("/admin".into());
        return Ok(Err(flows::start_and_go(state, req, flow, "/login").await));
    };
    let user = me.user.clone();
    let admin = state.db.run(move |conn| Admin::load(conn, user)).await.map_err(|e| match e {
        AdminError::Store(s) => LoginError::from(s),
        other => LoginError::Internal(other.to_string()),
    })?;
    if admin.permission() < Permission::Read {
        let lang = me.lang;
        let (title, text, link) =
            (lang.t("admin-not-admin"), lang.t("admin-not-admin-text"), lang.t("admin-nav-account"));
        return Ok(Err(pages::message_in(
            lang,
            StatusCode::FORBIDDEN,
            &title,
            &text,
            Some(("/account", &link)),
        )));
    }
    let with_otp = Amr::from_stored(&me.session.amr) == Some(Amr::PwdOtp);
    if !with_otp {
        // Step-up: a user with an authenticator gives a code (the session proves the
        // password). A user without one signs in again — password first — and enrols
        // inside that sign-in: a password-only session never adds a factor itself.
        let user_id = me.user.id.clone();
        let active = state
            .db
            .run(move |conn| {
                totp::for_user(conn, &user_id).map(|c| c.iter().any(|c| c.status == totp::ACTIVE))
            })
            .await?;
        let mut flow = Flow::new(me.user.tenant_id.clone(), None, Some(me.user.username.clone()), now);
        if active {
            flow.state =
                LoginState::AwaitingTotp { user_id: me.user.id.clone(), failures: 0, then_choose: false };
        }
        flow.return_to = Some("/admin".into());
        flow.step_up = true;
        return Ok(Err(flows::start_and_go(state, req, flow, "/login").await));
    }
    Ok(Ok((me, admin)))
}

/// Runs `f` for the administrator; POSTs must carry the session's CSRF token.
pub(crate) async fn with_admin<F>(
    state: &AppState,
    req: &HttpRequest,
    csrf: Option<Option<&str>>,
    f: F,
) -> HttpResponse
where
    F: AsyncFnOnce(SignedIn, Admin) -> Result<HttpResponse, AdminError>,
{
    let (me, admin) = match admin_session(state, req).await {
        Ok(Ok(found)) => found,
        Ok(Err(response)) => return response,
        Err(err) => return errors::login_error(req, &err),
    };
    let lang = me.lang;
    let Some(submitted) = csrf else {
        // A page: with the note a form sent it (post/redirect/get).
        let mut response = match me.with_note(state, req).await {
            Ok(me) => f(me, admin).await.unwrap_or_else(|e| admin_error(req, lang, &e)),
            Err(err) => errors::login_error(req, &err),
        };
        // The switcher's choice is remembered for the pages that follow.
        if let Some(chosen) = i18n::chosen(req) {
            let _ = response.add_cookie(&i18n::remember(chosen, state.issuer.is_https()));
        }
        return response;
    };
    if !cookies::csrf_matches(&me.csrf, submitted) {
        return errors::csrf_refused(req);
    }
    let session_id = me.session.id.clone();
    match f(me, admin).await {
        Ok(response) => response,
        // A refused form: back to its page, saying why.
        Err(
            err @ (AdminError::Denied(_)
            | AdminError::NotFound
            | AdminError::Invalid(_)
            | AdminError::Duplicate(_)),
        ) => {
            let back =
                if matches!(err, AdminError::NotFound) { "/admin".to_owned() } else { back_of(req.path()) };
            notes::redirect(state, &session_id, &back, Note::error(refusal(lang, &err)), &[])
                .await
                .unwrap_or_else(|e| errors::login_error(req, &e))
        }
        Err(err) => admin_error(req, lang, &err),
    }
}

/// Redirects to `to`, which says `note` (and shows `secrets`).
pub(crate) async fn noted(
    state: &AppState,
    me: &SignedIn,
    to: &str,
    note: Note,
    secrets: &[String],
) -> Result<HttpResponse, AdminError> {
    notes::redirect(state, &me.session.id, to, note, secrets)
        .await
        .map_err(|e| AdminError::Store(StoreError::Unavailable(e.to_string())))
}

/// The page a form under `path` belongs to: a user's page for the acts on that user,
/// else the form's own page.
fn back_of(path: &str) -> String {
    for under in ["/admin/users/", "/admin/clients/"] {
        match path.strip_prefix(under).and_then(|rest| rest.split('/').next()) {
            Some(id) if id != "new" && path.len() > under.len() + id.len() => {
                return format!("{under}{id}");
            }
            _ => {}
        }
    }
    path.to_owned()
}

/// Runs a domain function on the blocking pool with the administrator.
pub(crate) async fn run<T: Send + 'static>(
    state: &AppState,
    admin: Admin,
    f: impl FnOnce(&mut crate::store::DbConn, &Admin) -> Result<T, AdminError> + Send + 'static,
) -> Result<(T, Admin), AdminError> {
    state.db.run(move |conn| f(conn, &admin).map(|t| (t, admin))).await
}

/// A POSTed act on one user; then back to that user's page, saying `done` (a message key).
pub(crate) async fn act_and_show<F>(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    csrf: Option<String>,
    done: &str,
    act: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::store::DbConn, &Admin, &str, &Origin, i64) -> Result<(), AdminError>
        + Send
        + 'static,
{
    let (origin, now) = (origin(req, None), state.clock.now());
    with_admin(state, req, Some(csrf.as_deref()), async |me, admin| {
        let target = id.clone();
        run(state, admin, move |c, a| act(c, a, &target, &origin, now)).await?;
        noted(state, &me, &format!("/admin/users/{id}"), Note::success(me.lang.t(done)), &[]).await
    })
    .await
}

/// A disruptive act asked first: the same form again, confirmed, or Cancel. Shown only
/// to an administrator allowed the act. The texts are message keys; the message gets
/// the user's name as `$user`.
pub(crate) struct Confirmation<'a> {
    /// The act's path under `/admin/users/{id}/`.
    pub path: &'a str,
    pub title: &'a str,
    pub message: &'a str,
    pub button: &'a str,
    pub fields: Vec<(&'a str, &'a str)>,
}

pub(crate) async fn confirm_first(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    csrf: Option<String>,
    action: Action,
    asked: Confirmation<'_>,
) -> HttpResponse {
    with_admin(state, req, Some(csrf.as_deref()), async |me, admin| {
        admin.may(action, Some(&id))?;
        let target = id.clone();
        let (user, _) = run(state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
        let lang = me.lang;
        let mut ctx = me.context();
        ctx.insert("title", &lang.t(asked.title));
        ctx.insert("message", &lang.t_with(asked.message, &[("user", FluentValue::from(user.username))]));
        ctx.insert("button", &lang.t(asked.button));
        ctx.insert("fields", &asked.fields);
        ctx.insert("action", &format!("/admin/users/{id}/{}", asked.path));
        ctx.insert("back", &format!("/admin/users/{id}"));
        Ok(pages::render(StatusCode::OK, "admin_confirm.html", &ctx))
    })
    .await
}
