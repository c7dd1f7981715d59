//! The admin acts on one user: revoke its TOTP, require TOTP, disable or enable it,
//! reset its password — the disruptive ones asked first.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::http::admin::{Confirmation, act_and_show, confirm_first, run, with_admin};
use crate::http::cookies::SignedIn;
use crate::http::notes::{self, Found, Note};
use crate::http::state::AppState;
use crate::http::{origin, pages, see_other};
use crate::tenancy::admin::{self, Admin, AdminError};
use crate::tenancy::permissions::Action;

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
        "admin-done-revoked",
        move |c, a, id, origin, now| admin::revoke_totp(c, a, id, &form.reason, origin, now),
    )
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
    let done = if on { "admin-done-enforced-on" } else { "admin-done-enforced-off" };
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
        let asked = if disabled {
            Confirmation {
                path: "disabled",
                title: "admin-confirm-disable-title",
                message: "admin-confirm-disable",
                button: "admin-disable-user",
                fields: vec![("disabled", "true")],
            }
        } else {
            Confirmation {
                path: "disabled",
                title: "admin-confirm-enable-title",
                message: "admin-confirm-enable",
                button: "admin-enable-user",
                fields: vec![("disabled", "false")],
            }
        };
        return confirm_first(&state, &req, path.into_inner(), form.csrf, action, asked).await;
    }
    let done = if disabled { "admin-done-disabled" } else { "admin-done-enabled" };
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
        let asked = Confirmation {
            path: "password",
            title: "admin-confirm-reset-title",
            message: "admin-confirm-reset",
            button: "admin-reset-password",
            fields: vec![],
        };
        return confirm_first(&state, &req, id, form.csrf, Action::ResetPassword, asked).await;
    }
    with_admin(&state, &req, Some(form.csrf.as_deref()), async |me, admin| {
        // Allowed before hashing: a refused caller does not spend the hashing pool.
        admin.may(crate::tenancy::permissions::Action::ResetPassword, Some(&id))?;
        let one_time = admin::new_one_time_password(&state.hasher).await?;
        let target = id.clone();
        let (password, admin) = run(&state, admin, move |c, a| {
            crate::tenancy::passwords::reset_password(c, a, &target, one_time, &origin, now)
        })
        .await?;
        let note = Note::success(me.lang.t("admin-done-reset"));
        let to = format!("/admin/users/{id}/password");
        let show = async |found: Found| reset_page(&state, &me, admin, &id, &found).await;
        notes::redirect_or_show(&state, &me.session.id, &to, note, &[password], show).await
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
        match me.note.clone().filter(|f| !f.secrets.is_empty()) {
            Some(found) => reset_page(&state, &me, admin, &id, &found).await,
            None => Ok(see_other(&format!("/admin/users/{id}"))),
        }
    })
    .await
}

/// The temporary password just set for the user `id`.
async fn reset_page(
    state: &AppState,
    me: &SignedIn,
    admin: Admin,
    id: &str,
    found: &Found,
) -> Result<HttpResponse, AdminError> {
    let target = id.to_owned();
    let (user, _) = run(state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
    let mut ctx = me.context();
    ctx.insert("u", &user);
    ctx.insert("password", &found.secrets.first());
    Ok(pages::render(StatusCode::OK, "admin_password.html", &ctx))
}
