//! Browsers on the account and admin pages: signed-in sessions ("Sign out" per
//! browser, "Sign out everywhere else") and remembered devices ("Forget" per device and
//! "Forget all", [`crate::auth::remembered`]). Any signed-in session may forget its
//! own devices — it only ever takes a shortcut away; a parent forgets a child's with
//! the rights of revoking its TOTP ([`crate::tenancy::devices`]).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::errors::LoginError;
use crate::auth::remembered;
use crate::http::admin::act_and_show;
use crate::http::cookies::with_session;
use crate::http::state::AppState;
use crate::http::{CsrfForm, cookies, origin};
use crate::store::audit;
use crate::tenancy::devices;

/// `POST /account/devices/{id}/forget`
pub async fn post_forget(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let device_id = path.into_inner();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        let (tenant_id, user_id) = (me.user.tenant_id.clone(), me.user.id.clone());
        state
            .db
            .run(move |conn| -> Result<bool, LoginError> {
                Ok(remembered::forget(conn, &tenant_id, &user_id, &device_id, &origin, now)?)
            })
            .await?;
        me.done_on_account(&state, "done-device-forgotten").await
    })
    .await
}

/// `POST /account/devices/forget`: every device, and this browser's cookie.
pub async fn post_forget_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        let (tenant_id, user_id) = (me.user.tenant_id.clone(), me.user.id.clone());
        state
            .db
            .run(move |conn| -> Result<usize, LoginError> {
                Ok(conn
                    .write(|conn| remembered::forget_all(conn, &tenant_id, &user_id, &origin, "user", now))?)
            })
            .await?;
        let mut response = me.done_on_account(&state, "done-devices-forgotten").await?;
        let _ = response.add_cookie(&cookies::removal(&state, cookies::remembered_name(&state)));
        Ok(response)
    })
    .await
}

/// `POST /admin/users/{id}/devices/forget`: every device of a user below.
pub async fn post_admin_forget_all(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let done = "admin-done-devices-forgotten";
    act_and_show(&state, &req, path.into_inner(), form.into_inner().csrf, done, |c, a, id, origin, now| {
        devices::forget(c, a, id, None, origin, now).map(|_| ())
    })
    .await
}

/// `POST /admin/users/{id}/devices/{device}/forget`: one device of a user below.
pub async fn post_admin_forget(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let (id, device) = path.into_inner();
    let done = "admin-done-device-forgotten";
    act_and_show(&state, &req, id, form.into_inner().csrf, done, move |c, a, id, origin, now| {
        devices::forget(c, a, id, Some(&device), origin, now).map(|_| ())
    })
    .await
}

/// `POST /account/sessions/{id}/end`: signs one of the user's browsers out (this one too,
/// if it is the one named), with the refresh tokens issued in that session.
pub async fn post_end_session(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    let session_id = path.into_inner();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        let (tenant_id, user_id, id) = (me.user.tenant_id.clone(), me.user.id.clone(), session_id.clone());
        state
            .db
            .run(move |conn| -> Result<(), LoginError> {
                conn.write(|conn| {
                    if crate::store::sessions::revoke_for_user(conn, &user_id, &id, now)? {
                        crate::store::tokens::revoke_by_session(conn, &id, now)?;
                        let detail = serde_json::json!({ "session": id.get(..12).unwrap_or(&id) });
                        audit::record(
                            conn,
                            &tenant_id,
                            &origin,
                            Some(&user_id),
                            "session.ended",
                            detail,
                            now,
                        )?;
                    }
                    Ok(())
                })
            })
            .await?;
        me.done_on_account(&state, "done-browser-signed-out").await
    })
    .await
}

/// `POST /account/sessions/end-others`: signs out every browser but this one.
pub async fn post_end_other_sessions(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        let (tenant_id, user_id, keep) =
            (me.user.tenant_id.clone(), me.user.id.clone(), me.session.id.clone());
        state
            .db
            .run(move |conn| -> Result<(), LoginError> {
                conn.write(|conn| {
                    let ended = crate::store::sessions::revoke_others_for_user(conn, &user_id, &keep, now)?;
                    let families =
                        crate::store::tokens::revoke_by_user_except_session(conn, &user_id, &keep, now)?;
                    let detail =
                        serde_json::json!({ "sessions_ended": ended, "refresh_tokens_revoked": families });
                    audit::record(
                        conn,
                        &tenant_id,
                        &origin,
                        Some(&user_id),
                        "session.ended_others",
                        detail,
                        now,
                    )?;
                    Ok(())
                })
            })
            .await?;
        me.done_on_account(&state, "done-others-signed-out").await
    })
    .await
}
