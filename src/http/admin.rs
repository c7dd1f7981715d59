//! The admin pages at `/admin`: a parent user manages the users below it. They need a
//! session signed in with a TOTP code (`otp` in its `amr`); any other session is sent
//! through the TOTP step first (step-up), without asking for the password again.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::errors::LoginError;
use crate::auth::flow::{Amr, LoginState};
use crate::auth::login::Flow;
use crate::http::api::{AuditQuery, ListQuery};
use crate::http::cookies::{self, SignedIn};
use crate::http::notes::{self, Note};
use crate::http::state::AppState;
use crate::http::{authorize, errors, origin, pages, see_other};
use crate::store::audit::Origin;
use crate::store::{StoreError, tenants, totp};
use crate::tenancy::Permission;
use crate::tenancy::admin::{self, Admin, AdminError, NewChild, UserView};
use crate::tenancy::permissions::Action;
use crate::tenancy::tenant_policy::{self, PolicyView};

fn admin_error(err: &AdminError) -> HttpResponse {
    match err {
        AdminError::Denied(denied) => pages::message(
            StatusCode::FORBIDDEN,
            "Not allowed",
            &denied.to_string(),
            Some(("/admin", "Back to users")),
        ),
        AdminError::NotFound => pages::message(
            StatusCode::NOT_FOUND,
            "No such user",
            "That user does not exist.",
            Some(("/admin", "Back to users")),
        ),
        AdminError::Invalid(_) | AdminError::Duplicate(_) => pages::message(
            StatusCode::BAD_REQUEST,
            "Please check your input",
            &err.to_string(),
            Some(("/admin", "Back to users")),
        ),
        AdminError::Throttled { retry_after } => {
            errors::login_error(&LoginError::Throttled { retry_after: *retry_after })
        }
        AdminError::Store(StoreError::Unavailable(m)) => {
            errors::login_error(&LoginError::Unavailable(m.clone()))
        }
        AdminError::Store(other) => errors::login_error(&LoginError::Internal(other.to_string())),
    }
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
        // enrolment it does not need), and an administrator steps up if need be.
        let tenant = state.db.run(|conn| tenants::find_by_slug(conn, "default")).await?;
        let Some(tenant) = tenant else { return Ok(Err(see_other("/account"))) };
        let mut flow = Flow::new(tenant.id, None, None, now);
        flow.return_to = Some("/admin".into());
        return Ok(Err(authorize::start_flow(state, req, flow).await));
    };
    let user = me.user.clone();
    let admin = state.db.run(move |conn| Admin::load(conn, user)).await.map_err(|e| match e {
        AdminError::Store(s) => LoginError::from(s),
        other => LoginError::Internal(other.to_string()),
    })?;
    if admin.permission() < Permission::Read {
        return Ok(Err(pages::message(
            StatusCode::FORBIDDEN,
            "Not an administrator",
            "Your account does not manage other users.",
            Some(("/account", "Your account")),
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
        return Ok(Err(authorize::start_flow(state, req, flow).await));
    }
    Ok(Ok((me, admin)))
}

/// Runs `f` for the administrator; POSTs must carry the session's CSRF token.
async fn with_admin<F>(state: &AppState, req: &HttpRequest, csrf: Option<Option<&str>>, f: F) -> HttpResponse
where
    F: AsyncFnOnce(SignedIn, Admin) -> Result<HttpResponse, AdminError>,
{
    let (me, admin) = match admin_session(state, req).await {
        Ok(Ok(found)) => found,
        Ok(Err(response)) => return response,
        Err(err) => return errors::login_error(&err),
    };
    let Some(submitted) = csrf else {
        // A page: with the note a form sent it (post/redirect/get).
        return match me.with_note(state, req).await {
            Ok(me) => f(me, admin).await.unwrap_or_else(|e| admin_error(&e)),
            Err(err) => errors::login_error(&err),
        };
    };
    if !cookies::csrf_matches(&me.csrf, submitted) {
        return errors::csrf_refused();
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
            notes::redirect(state, &session_id, &back, Note::error(err.to_string()), &[])
                .await
                .unwrap_or_else(|e| errors::login_error(&e))
        }
        Err(err) => admin_error(&err),
    }
}

/// Redirects to `to`, which says `note` (and shows `secrets`).
async fn noted(
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
    match path.strip_prefix("/admin/users/").and_then(|rest| rest.split('/').next()) {
        Some(id) if id != "new" && path.len() > "/admin/users/".len() + id.len() => {
            format!("/admin/users/{id}")
        }
        _ => path.to_owned(),
    }
}

/// Runs a domain function on the blocking pool with the administrator.
async fn run<T: Send + 'static>(
    state: &AppState,
    admin: Admin,
    f: impl FnOnce(&mut crate::store::DbConn, &Admin) -> Result<T, AdminError> + Send + 'static,
) -> Result<(T, Admin), AdminError> {
    state.db.run(move |conn| f(conn, &admin).map(|t| (t, admin))).await
}

pub async fn get_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let ListQuery { q, page } = query.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let search = q.clone();
        let (list, admin) =
            run(&state, admin, move |c, a| admin::list_users(c, a, search.as_deref(), page.unwrap_or(1)))
                .await?;
        let mut ctx = me.context();
        ctx.insert("q", &q.unwrap_or_default());
        ctx.insert("users", &list.users);
        ctx.insert("total", &list.total);
        ctx.insert("page", &list.page);
        ctx.insert("has_next", &(list.page * list.per_page < list.total));
        ctx.insert("can_create", &(admin.permission() >= Permission::Create));
        ctx.insert("is_root_admin", &(admin.is_root() && admin.permission() == Permission::Admin));
        Ok(pages::render(StatusCode::OK, "admin_users.html", &ctx))
    })
    .await
}

pub async fn get_user(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let (id, now, globally) = (path.into_inner(), state.clock.now(), state.totp_enabled);
    with_admin(&state, &req, None, async |me, admin| {
        let ((user, devices, explained), _) = run(&state, admin, move |c, a| {
            Ok((
                admin::get_user(c, a, &id)?,
                crate::tenancy::devices::list(c, a, &id, now)?,
                crate::tenancy::explain::explain_user(c, a, &id, globally)?,
            ))
        })
        .await?;
        let mut ctx = me.context();
        ctx.insert("policy", &explained);
        ctx.insert(
            "activated",
            &user.totp_activated_at.map(|t| format!("since {}", pages::format_time(t).1)).unwrap_or_default(),
        );
        ctx.insert("u", &user);
        ctx.insert("devices", &pages::listed(&devices));
        ctx.insert("forget_base", &format!("/admin/users/{}/devices", user.id));
        Ok(pages::render(StatusCode::OK, "admin_user.html", &ctx))
    })
    .await
}

pub async fn get_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let target = id.clone();
        let (user, admin) = run(&state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
        // Show the confirmation only to someone allowed to confirm it.
        admin.may(crate::tenancy::permissions::Action::RevokeTotp, Some(&id))?;
        let mut ctx = me.context();
        ctx.insert("id", &user.id);
        ctx.insert("username", &user.username);
        Ok(pages::render(StatusCode::OK, "admin_revoke.html", &ctx))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

pub async fn post_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<RevokeForm>,
) -> HttpResponse {
    let form = form.into_inner();
    act_and_show(
        &state,
        &req,
        path.into_inner(),
        form.csrf,
        "TOTP revoked: a new authenticator will be set up at the next sign-in.",
        move |c, a, id, origin, now| admin::revoke_totp(c, a, id, &form.reason, origin, now),
    )
    .await
}

/// A POSTed act on one user; then back to that user's page.
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
        noted(state, &me, &format!("/admin/users/{id}"), Note::success(done), &[]).await
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct EnforcementForm {
    csrf: Option<String>,
    enforced: Option<String>,
}

pub async fn post_enforcement(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<EnforcementForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let on = form.enforced.as_deref() == Some("on");
    let done = if on {
        "TOTP is now required for this user."
    } else {
        "TOTP follows the organisation's policy for this user."
    };
    act_and_show(&state, &req, path.into_inner(), form.csrf, done, move |c, a, id, origin, now| {
        admin::set_enforcement(c, a, id, on, origin, now)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct DisabledForm {
    csrf: Option<String>,
    #[serde(default)]
    disabled: String,
    #[serde(default)]
    confirm: String,
}

/// A disruptive act asked first: the same form again, confirmed, or Cancel. Shown only
/// to an administrator allowed the act.
struct Confirmation<'a> {
    /// The act's path under `/admin/users/{id}/`.
    path: &'a str,
    title: &'a str,
    message: String,
    button: &'a str,
    fields: Vec<(&'a str, &'a str)>,
}

async fn confirm_first(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    csrf: Option<String>,
    action: Action,
    ask: impl FnOnce(&UserView) -> Confirmation<'_>,
) -> HttpResponse {
    with_admin(state, req, Some(csrf.as_deref()), async |me, admin| {
        admin.may(action, Some(&id))?;
        let target = id.clone();
        let (user, _) = run(state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
        let asked = ask(&user);
        let mut ctx = me.context();
        ctx.insert("title", asked.title);
        ctx.insert("message", &asked.message);
        ctx.insert("button", asked.button);
        ctx.insert("fields", &asked.fields);
        ctx.insert("action", &format!("/admin/users/{id}/{}", asked.path));
        ctx.insert("back", &format!("/admin/users/{id}"));
        Ok(pages::render(StatusCode::OK, "admin_confirm.html", &ctx))
    })
    .await
}

pub async fn post_disabled(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DisabledForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let disabled = form.disabled == "true";
    if form.confirm != "yes" {
        let action = if disabled { Action::Disable } else { Action::Enable };
        return confirm_first(&state, &req, path.into_inner(), form.csrf, action, |u| Confirmation {
            path: "disabled",
            title: if disabled { "Disable this user?" } else { "Enable this user?" },
            message: if disabled {
                format!(
                    "{} will be signed out everywhere and cannot sign in until enabled again.",
                    u.username
                )
            } else {
                format!("{} will be able to sign in again.", u.username)
            },
            button: if disabled { "Disable user" } else { "Enable user" },
            fields: vec![("disabled", if disabled { "true" } else { "false" })],
        })
        .await;
    }
    let done = if disabled { "User disabled and signed out everywhere." } else { "User enabled." };
    act_and_show(&state, &req, path.into_inner(), form.csrf, done, move |c, a, id, origin, now| {
        admin::set_disabled(c, a, id, disabled, origin, now)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    csrf: Option<String>,
    #[serde(default)]
    confirm: String,
}

/// A new temporary password for a user below, shown once; the user's authenticator
/// is untouched (the code is still needed at the next sign-in).
pub async fn post_reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ResetForm>,
) -> HttpResponse {
    let (id, (origin, now)) = (path.into_inner(), (origin(&req, None), state.clock.now()));
    let form = form.into_inner();
    if form.confirm != "yes" {
        return confirm_first(&state, &req, id, form.csrf, Action::ResetPassword, |u| Confirmation {
            path: "password",
            title: "Reset this user's password?",
            message: format!(
                "{} will be signed out everywhere and must sign in with a new temporary password, shown to you once. Their authenticator app stays.",
                u.username
            ),
            button: "Reset password",
            fields: vec![],
        })
        .await;
    }
    with_admin(&state, &req, Some(form.csrf.as_deref()), async |me, admin| {
        // Allowed before hashing: a refused caller does not spend the hashing pool.
        admin.may(crate::tenancy::permissions::Action::ResetPassword, Some(&id))?;
        let one_time = admin::new_one_time_password(&state.hasher).await?;
        let target = id.clone();
        let (password, _) = run(&state, admin, move |c, a| {
            crate::tenancy::passwords::reset_password(c, a, &target, one_time, &origin, now)
        })
        .await?;
        let note = Note::success("Password reset.");
        noted(&state, &me, &format!("/admin/users/{id}/password"), note, &[password]).await
    })
    .await
}

/// `GET /admin/users/{id}/password?note=…`: the temporary password just set, shown once.
pub async fn get_reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let Some(password) = me.note.as_ref().and_then(|f| f.secrets.first().cloned()) else {
            return Ok(see_other(&format!("/admin/users/{id}")));
        };
        let target = id.clone();
        let (user, _) = run(&state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
        let mut ctx = me.context();
        ctx.insert("u", &user);
        ctx.insert("password", &password);
        Ok(pages::render(StatusCode::OK, "admin_password.html", &ctx))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    parent: Option<String>,
}

/// The create-a-user page; after a refusal, with its message and what was typed.
fn new_user_page(me: &SignedIn, parent: &str) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("parent", parent);
    ctx.insert("typed", &me.note.as_ref().map(|f| &f.note.typed));
    pages::render(StatusCode::OK, "admin_new.html", &ctx)
}

/// `GET /admin/users/created?note=…`: the user just created and its one-time password,
/// shown once.
pub async fn get_created(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    with_admin(&state, &req, None, async |me, _| {
        let Some(found) = me.note.as_ref().filter(|f| !f.secrets.is_empty()) else {
            return Ok(see_other("/admin"));
        };
        let mut ctx = me.context();
        ctx.insert("created", &found.note.typed.get("username"));
        ctx.insert("password", &found.secrets[0]);
        Ok(pages::render(StatusCode::OK, "admin_new.html", &ctx))
    })
    .await
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn get_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NewQuery>,
) -> HttpResponse {
    let parent = query.into_inner().parent;
    with_admin(&state, &req, None, async |me, admin| {
        let parent = parent.filter(|p| !p.is_empty()).unwrap_or_else(|| admin.user.id.clone());
        admin.may(crate::tenancy::permissions::Action::CreateChild, Some(&parent))?;
        Ok(new_user_page(&me, &parent))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewForm {
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    parent_id: Option<String>,
    #[serde(default)]
    kind: String,
    email: Option<String>,
    #[serde(default)]
    permission: String,
    totp_required: Option<String>,
}

pub async fn post_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(form.csrf.as_deref()), async |me, admin| {
        let new = NewChild {
            username: form.username,
            parent_id: form.parent_id.filter(|p| !p.is_empty()),
            kind: if form.kind.is_empty() { "internal".into() } else { form.kind },
            email: form.email,
            display_name: None,
            totp_required: form.totp_required.as_deref() == Some("on"),
            permission: if form.permission.is_empty() { "none".into() } else { form.permission },
        };
        let parent = new.parent_id.clone().unwrap_or_default();
        let typed = new.clone();
        let created = crate::tenancy::creation::create_child(
            &state.db,
            &state.ephemeral,
            &state.hasher,
            admin,
            new,
            origin,
            now,
        )
        .await;
        match created {
            Ok((user, password)) => {
                let note =
                    Note::success(format!("Created {}.", user.username)).typed("username", &user.username);
                noted(&state, &me, "/admin/users/created", note, &[password]).await
            }
            // The form again, with what was typed and what to change.
            Err(err @ (AdminError::Invalid(_) | AdminError::Duplicate(_))) => {
                let mut note = Note::error(err.to_string())
                    .typed("username", &typed.username)
                    .typed("kind", &typed.kind)
                    .typed("permission", &typed.permission)
                    .typed("email", typed.email.as_deref().unwrap_or_default());
                if typed.totp_required {
                    note = note.typed("totp_required", "on");
                }
                let to = format!("/admin/users/new?parent={}", urlencoding(&parent));
                noted(&state, &me, &to, note, &[]).await
            }
            Err(other) => Err(other),
        }
    })
    .await
}

fn policy_page(me: &SignedIn, policy: &PolicyView) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("p", policy);
    let checkboxes = vec![
        ("enabled", "TOTP enabled in this organisation", policy.enabled),
        ("enforce_internal", "Enforce for internal users", policy.enforce_internal),
        ("enforce_external", "Enforce for external users", policy.enforce_external),
        ("prompt_new_users", "Prompt new users to set up TOTP", policy.prompt_new_users),
        ("recovery_codes_allowed", "Allow recovery codes", policy.recovery_codes_allowed),
    ];
    ctx.insert("checkboxes", &checkboxes);
    pages::render(StatusCode::OK, "admin_policy.html", &ctx)
}

pub async fn get_policy(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    with_admin(&state, &req, None, async |me, admin| {
        admin.may(crate::tenancy::permissions::Action::EditPolicy, None)?;
        let (policy, _) = run(&state, admin, tenant_policy::get_policy).await?;
        Ok(policy_page(&me, &policy))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    csrf: Option<String>,
    enabled: Option<String>,
    enforce_internal: Option<String>,
    enforce_external: Option<String>,
    prompt_new_users: Option<String>,
    recovery_codes_allowed: Option<String>,
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    digits: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    skew: String,
    #[serde(default)]
    password_min_length: String,
    #[serde(default)]
    remember_device_days: String,
}

pub async fn post_policy(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<PolicyForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(f.csrf.as_deref()), async |me, admin| {
        let number = |raw: &str, name: &str| {
            raw.trim().parse::<i32>().map_err(|_| AdminError::Invalid(format!("{name} must be a number")))
        };
        let on = |v: &Option<String>| v.as_deref() == Some("on");
        let policy = PolicyView {
            enabled: on(&f.enabled),
            enforce_internal: on(&f.enforce_internal),
            enforce_external: on(&f.enforce_external),
            prompt_new_users: on(&f.prompt_new_users),
            recovery_codes_allowed: on(&f.recovery_codes_allowed),
            algorithm: f.algorithm.clone(),
            digits: number(&f.digits, "digits")?,
            period: number(&f.period, "period")?,
            skew: number(&f.skew, "skew")?,
            password_min_length: match f.password_min_length.trim() {
                "" => None,
                raw => Some(number(raw, "the minimum password length")?),
            },
            remember_device_days: match f.remember_device_days.trim() {
                "" => None,
                raw => Some(number(raw, "the days a device is remembered")?),
            },
        };
        run(&state, admin, move |c, a| tenant_policy::update_policy(c, a, &policy, &origin, now)).await?;
        noted(&state, &me, "/admin/policy", Note::success("Policy saved."), &[]).await
    })
    .await
}

pub async fn get_audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let span = query.span()?;
        let AuditQuery { user, event, page, from, to } = query;
        let page = page.unwrap_or(1).max(1);
        let (u, e) = (user.clone().filter(|u| !u.is_empty()), event.clone().filter(|e| !e.is_empty()));
        let ((events, names, kinds), _) = run(&state, admin, move |c, a| {
            let events = tenant_policy::audit_log(c, a, u.as_deref(), e.as_deref(), span, page)?;
            // Usernames for the ids, from one query of the tenant's users.
            let names: std::collections::HashMap<String, String> =
                crate::store::users::list_by_tenant(c, &a.user.tenant_id)?.into_iter().map(|u| (u.id, u.username)).collect();
            Ok((events, names, crate::store::audit::event_names(c, &a.user.tenant_id)?))
        })
        .await?;
        let name = |id: &Option<String>, none: &str| match id {
            Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
            None => none.to_owned(),
        };
        let rows: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                let (at, _) = pages::format_time(e.created_at);
                serde_json::json!({ "at": at, "event": e.event, "actor": name(&e.actor_user_id, "system"),
                                    "target": name(&e.target_user_id, ""), "detail": pages::readable_detail(&e.detail), "ip": e.ip.clone().unwrap_or_default() })
            })
            .collect();
        let mut ctx = me.context();
        ctx.insert("events", &rows);
        ctx.insert("kinds", &kinds);
        ctx.insert("has_next", &(events.len() >= crate::tenancy::admin::PER_PAGE));
        ctx.insert("page", &page);
        let (user, event) = (user.unwrap_or_default(), event.unwrap_or_default());
        let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
        // The filters again, for the previous and next pages' links.
        let filters: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("user", &user)
            .append_pair("event", &event)
            .append_pair("from", &from)
            .append_pair("to", &to)
            .finish();
        ctx.insert("filters", &filters);
        ctx.insert("user", &user);
        ctx.insert("event", &event);
        ctx.insert("from", &from);
        ctx.insert("to", &to);
        Ok(pages::render(StatusCode::OK, "admin_audit.html", &ctx))
    })
    .await
}
