//! `/api/v1/clients`: the tenant's relying parties, for its administrators (a root user
//! with `admin` permission, as for the tenant policy). Secrets are returned once, when
//! made; a change takes effect at once on this instance and within 30 s on the others
//! (their client caches).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{admin_error, authorize, error};
use crate::http::origin;
use crate::http::state::AppState;
use crate::oidc::client_settings::{self, ClientChanges, Registration};
use crate::oidc::clients::{self, SECRET_GRACE};
use crate::store::DbConn;
use crate::store::audit::Origin;
use crate::store::tenants;
use crate::tenancy::Slug;
use crate::tenancy::admin::{Admin, AdminError};
use crate::tenancy::permissions::Action;
use crate::tenancy::service::TenancyError;

/// What went wrong, as the API answers it.
enum Failure {
    Admin(AdminError),
    Tenancy(TenancyError),
}

impl From<AdminError> for Failure {
    fn from(err: AdminError) -> Self {
        Self::Admin(err)
    }
}

impl From<TenancyError> for Failure {
    fn from(err: TenancyError) -> Self {
        Self::Tenancy(err)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(err: crate::store::StoreError) -> Self {
        Self::Admin(AdminError::Store(err))
    }
}

fn answer(failure: Failure) -> HttpResponse {
    match failure {
        Failure::Admin(err) => admin_error(&err),
        Failure::Tenancy(TenancyError::UnknownClient(_)) => {
            error(StatusCode::NOT_FOUND, "not_found", "no such client")
        }
        Failure::Tenancy(TenancyError::Store(err)) => admin_error(&AdminError::Store(err)),
        Failure::Tenancy(err) => error(StatusCode::BAD_REQUEST, "invalid_request", &err.to_string()),
    }
}

/// Runs `act` for a tenant administrator on the blocking pool, with the tenant's slug
/// and the request's origin; forgets the client `changed` in this instance's cache.
async fn as_tenant_admin<T, F>(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    changed: Option<String>,
    act: F,
) -> HttpResponse
where
    T: serde::Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, &Admin, &str, &Origin) -> Result<T, Failure> + Send + 'static,
{
    let admin = match authorize(state, req).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let origin = origin(req, Some(&admin.user.id));
    let done = state
        .db
        .run(move |conn| -> Result<T, Failure> {
            admin.may(Action::EditPolicy, None).map_err(AdminError::from)?;
            let tenant = tenants::find(conn, &admin.user.tenant_id)?.ok_or(AdminError::NotFound)?;
            act(conn, &admin, &tenant.slug, &origin)
        })
        .await;
    if let Some(id) = changed {
        state.clients.forget(&id);
    }
    match done {
        Ok(_) if status == StatusCode::NO_CONTENT => HttpResponse::NoContent().finish(),
        Ok(body) => HttpResponse::build(status).json(body),
        Err(failure) => answer(failure),
    }
}

/// `GET /api/v1/clients`
pub async fn get_clients(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    as_tenant_admin(&state, &req, StatusCode::OK, None, |conn, admin, slug, _| {
        let list = crate::store::clients::list_by_tenant(conn, &admin.user.tenant_id)?;
        Ok(list.iter().map(|c| client_settings::view(c, slug)).collect::<Vec<Value>>())
    })
    .await
}

/// `GET /api/v1/clients/{id}`
pub async fn get_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    as_tenant_admin(&state, &req, StatusCode::OK, None, move |conn, admin, slug, _| {
        let client = client_settings::client_in(conn, &admin.user.tenant_id, &id)?;
        Ok(client_settings::view(&client, slug))
    })
    .await
}

/// `POST /api/v1/clients`: 201 with the client and, for a confidential one, its secret
/// (`client_secret`, shown this once).
pub async fn post_clients(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<Registration>,
) -> HttpResponse {
    let body = body.into_inner();
    let now = state.clock.now();
    as_tenant_admin(&state, &req, StatusCode::CREATED, None, move |conn, _, slug, origin| {
        let tenant = Slug::parse(slug).map_err(|e| TenancyError::Invalid(e.to_string()))?;
        let new = body.into_new(tenant)?;
        let created = clients::create_client(conn, &new, origin, now)?;
        let mut out = client_settings::view(&created.client, slug);
        out["client_secret"] = json!(created.secret);
        Ok(out)
    })
    .await
}

/// `PATCH /api/v1/clients/{id}`: the fields given change, the others stay.
pub async fn patch_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ClientChanges>,
) -> HttpResponse {
    let changes = body.into_inner();
    let (id, now) = (path.into_inner(), state.clock.now());
    as_tenant_admin(&state, &req, StatusCode::OK, Some(id.clone()), move |conn, admin, slug, origin| {
        let client = client_settings::update_client(conn, &admin.user.tenant_id, &id, &changes, origin, now)?;
        Ok(client_settings::view(&client, slug))
    })
    .await
}

/// The body of `POST /api/v1/clients/{id}/rotate-secret`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// Seconds the old secret stays valid (default one hour; 0 to 30 days).
    grace: Option<i64>,
}

/// `POST /api/v1/clients/{id}/rotate-secret`: a new secret, shown once; the old one
/// stays valid for the grace period.
pub async fn post_rotate_secret(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    // The body is optional: none (or `{}`) means the default grace.
    let asked = if body.iter().all(u8::is_ascii_whitespace) {
        RotateBody::default()
    } else {
        match serde_json::from_slice::<RotateBody>(&body) {
            Ok(asked) => asked,
            Err(err) => {
                let message = format!("the JSON body could not be read: {err}");
                return error(StatusCode::BAD_REQUEST, "invalid_request", &message);
            }
        }
    };
    let grace = asked.grace.unwrap_or(SECRET_GRACE);
    let (id, now) = (path.into_inner(), state.clock.now());
    as_tenant_admin(&state, &req, StatusCode::OK, Some(id.clone()), move |conn, admin, _, origin| {
        let (secret, until) = clients::rotate_secret(conn, &admin.user.tenant_id, &id, grace, origin, now)?;
        Ok(json!({ "client_id": id, "client_secret": secret, "previous_valid_until": until }))
    })
    .await
}

/// The body of `PUT /api/v1/clients/{id}/disabled`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisabledBody {
    disabled: bool,
}

/// `PUT /api/v1/clients/{id}/disabled`: `{"disabled": true}` refuses the client
/// everywhere and revokes its refresh tokens; `false` enables it again.
pub async fn put_disabled(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<DisabledBody>,
) -> HttpResponse {
    let disabled = body.into_inner().disabled;
    let (id, now) = (path.into_inner(), state.clock.now());
    as_tenant_admin(&state, &req, StatusCode::OK, Some(id.clone()), move |conn, admin, slug, origin| {
        let client = client_settings::set_disabled(conn, &admin.user.tenant_id, &id, disabled, origin, now)?;
        Ok(client_settings::view(&client, slug))
    })
    .await
}

/// `DELETE /api/v1/clients/{id}`: 204; its codes, refresh tokens and consents go with it.
pub async fn delete_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (id, now) = (path.into_inner(), state.clock.now());
    as_tenant_admin(&state, &req, StatusCode::NO_CONTENT, Some(id.clone()), move |conn, admin, _, origin| {
        client_settings::delete_client(conn, &admin.user.tenant_id, &id, origin, now)?;
        Ok(())
    })
    .await
}
