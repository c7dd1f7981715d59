//! The tenant's users, branding, policy and audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::{admin_error, as_admin, authorize};
use crate::http::origin;
use crate::http::queries::{AuditQuery, ListQuery};
use crate::http::state::AppState;
use crate::store::audit::Origin;
use crate::tenancy::admin::{self, Admin, AdminError};
use crate::tenancy::branding::{self, BrandingChange};
use crate::tenancy::creation::{self, NewChild};
use crate::tenancy::profile::Profile;
use crate::tenancy::tenant_policy::{self, PolicyView};
use crate::text::Refusal;

pub async fn get_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let ListQuery { q, page } = query.into_inner();
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        admin::list_users(conn, admin, q.as_deref(), page.unwrap_or(1))
    })
    .await
}

/// The user, with its TOTP requirement explained (`totp_policy`).
pub async fn get_user(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let (id, globally) = (path.into_inner(), state.totp_enabled);
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        let mut user = serde_json::to_value(admin::get_user(conn, admin, &id)?)
            .map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
        let explained = crate::tenancy::explain::explain_user(conn, admin, &id, globally)?;
        user["totp_policy"] =
            serde_json::to_value(explained).map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
        Ok(user)
    })
    .await
}

pub async fn post_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewChild>,
) -> HttpResponse {
    let new = body.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    let admin = match authorize(&state, &req).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    // Hashed only for an authorized caller: a stranger cannot spend the hashing pool here.
    let created = creation::create_child(&state.db, &state.hasher, admin, new, origin, now).await.map(
        |(user, password)| json!({ "user": admin::new_user_view(&user), "one_time_password": password }),
    );
    match created {
        Ok(body) => HttpResponse::Created().json(body),
        Err(err) => admin_error(&err),
    }
}

/// An act on one user with a JSON body; answers with the user as it is afterwards.
async fn act_on_user<B, F>(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    body: web::Json<B>,
    act: F,
) -> HttpResponse
where
    B: Send + 'static,
    F: FnOnce(&mut crate::store::DbConn, &Admin, &str, B, &Origin, i64) -> Result<(), AdminError>
        + Send
        + 'static,
{
    let body = body.into_inner();
    let (origin, now) = (origin(req, None), state.clock.now());
    as_admin(state, req, StatusCode::OK, move |conn, admin| {
        act(conn, admin, &id, body, &origin, now)?;
        admin::get_user(conn, admin, &id)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct RevokeBody {
    reason: String,
}

pub async fn post_revoke_totp(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<RevokeBody>,
) -> HttpResponse {
    act_on_user(&state, &req, path.into_inner(), body, |conn, admin, id, body: RevokeBody, origin, now| {
        admin::revoke_totp(conn, admin, id, &body.reason, origin, now)
    })
    .await
}

/// `GET /api/v1/users/{id}/devices`: the user's remembered devices.
pub async fn get_devices(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (id, now) = (path.into_inner(), state.clock.now());
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        Ok(json!({ "devices": crate::tenancy::devices::list(conn, admin, &id, now)? }))
    })
    .await
}

/// `DELETE /api/v1/users/{id}/devices`: forgets every device of the user.
pub async fn delete_devices(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (id, origin, now) = (path.into_inner(), origin(&req, None), state.clock.now());
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        Ok(json!({ "forgotten": crate::tenancy::devices::forget(conn, admin, &id, None, &origin, now)? }))
    })
    .await
}

/// `DELETE /api/v1/users/{id}/devices/{device}`: forgets one device of the user.
pub async fn delete_device(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let ((id, device), origin, now) = (path.into_inner(), origin(&req, None), state.clock.now());
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        let forgotten = crate::tenancy::devices::forget(conn, admin, &id, Some(&device), &origin, now)?;
        Ok(json!({ "forgotten": forgotten }))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct EnforcementBody {
    enforced: bool,
}

pub async fn put_enforcement(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<EnforcementBody>,
) -> HttpResponse {
    act_on_user(
        &state,
        &req,
        path.into_inner(),
        body,
        |conn, admin, id, body: EnforcementBody, origin, now| {
            admin::set_enforcement(conn, admin, id, body.enforced, origin, now)
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct DisabledBody {
    disabled: bool,
}

pub async fn put_disabled(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DisabledBody>,
) -> HttpResponse {
    act_on_user(&state, &req, path.into_inner(), body, |conn, admin, id, body: DisabledBody, origin, now| {
        admin::set_disabled(conn, admin, id, body.disabled, origin, now)
    })
    .await
}

/// Replaces the user's name, e-mail address and profile claims (absent fields empty).
pub async fn put_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Profile>,
) -> HttpResponse {
    act_on_user(&state, &req, path.into_inner(), body, |conn, admin, id, profile: Profile, origin, now| {
        admin::update_child_profile(conn, admin, id, profile, origin, now).map(drop)
    })
    .await
}

/// A new temporary password for a user below the caller, returned once; the user's
/// TOTP stays (the code is still needed at the next sign-in).
pub async fn post_reset_password(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (id, origin, now) = (path.into_inner(), origin(&req, None), state.clock.now());
    let admin = match authorize(&state, &req).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    // Allowed before hashing: a refused caller does not spend the hashing pool.
    if let Err(denied) = admin.may(crate::tenancy::permissions::Action::ResetPassword, Some(&id)) {
        return admin_error(&denied.into());
    }
    let one_time = match admin::new_one_time_password(&state.hasher).await {
        Ok(one_time) => one_time,
        Err(err) => return admin_error(&err),
    };
    let reset = state
        .db
        .run(move |conn| {
            let password =
                crate::tenancy::passwords::reset_password(conn, &admin, &id, one_time, &origin, now)?;
            Ok::<_, AdminError>(
                json!({ "user": admin::get_user(conn, &admin, &id)?, "one_time_password": password }),
            )
        })
        .await;
    match reset {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(err) => admin_error(&err),
    }
}

pub async fn get_branding(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    as_admin(&state, &req, StatusCode::OK, branding::get_for).await
}

/// Changes the tenant's display name, logo, colour and default language; fields left
/// out stay, `""` clears.
pub async fn put_branding(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<BrandingChange>,
) -> HttpResponse {
    let change = body.into_inner();
    let (origin, now, brands) = (origin(&req, None), state.clock.now(), state.brands.clone());
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        let saved = branding::update_for(conn, admin, &change, "api", &origin, now)?;
        brands.forget(&admin.user.tenant_id);
        Ok(saved)
    })
    .await
}

pub async fn get_policy(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    as_admin(&state, &req, StatusCode::OK, tenant_policy::get_policy).await
}

pub async fn put_policy(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<PolicyView>,
) -> HttpResponse {
    let policy = body.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        tenant_policy::update_policy(conn, admin, &policy, &origin, now)
    })
    .await
}

pub async fn get_audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    as_admin(&state, &req, StatusCode::OK, move |conn, admin| {
        let span = query.span()?;
        let AuditQuery { user, event, page, .. } = query;
        let events = tenant_policy::audit_log(
            conn,
            admin,
            user.as_deref(),
            event.as_deref(),
            span,
            page.unwrap_or(1),
        )?;
        Ok(events
            .into_iter()
            .map(|e| {
                json!({ "id": e.id, "event": e.event, "actor": e.actor_user_id, "target": e.target_user_id,
                        "detail": serde_json::from_str::<serde_json::Value>(&e.detail).unwrap_or_default(),
                        "ip": e.ip, "at": e.created_at })
            })
            .collect::<Vec<_>>())
    })
    .await
}
