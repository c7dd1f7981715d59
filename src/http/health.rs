//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use std::sync::atomic::Ordering;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;

use crate::http::state::AppState;

pub async fn get_healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// While `serve` waits for the database (unreachable at start), every request but the
/// health checks gets a 503 page with `Retry-After`: nothing may query a schema that
/// has not been migrated yet.
pub async fn until_ready(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let ready =
        req.app_data::<web::Data<AppState>>().is_none_or(|state| state.schema_ready.load(Ordering::Acquire));
    if ready || matches!(req.path(), "/healthz" | "/readyz") {
        return next.call(req).await.map(ServiceResponse::map_into_left_body);
    }
    let lang = crate::http::i18n::negotiate(req.request(), None, None);
    let text = lang.t("starting-text");
    let response = crate::http::errors::retry_later(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable-title",
        &text,
        5,
    );
    Ok(req.into_response(response).map_into_right_body())
}

/// 200 when the database and the ephemeral store answer, else 503 naming which failed.
pub async fn get_readyz(state: web::Data<AppState>) -> HttpResponse {
    let (db, ephemeral) = tokio::join!(state.db.ping(), state.ephemeral.ping());
    let db = db.and_then(|()| {
        if state.schema_ready.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(crate::store::StoreError::Unavailable("not migrated yet".into()))
        }
    });
    if let Err(err) = &db {
        tracing::warn!(error = %err, "readiness: database unreachable");
    }
    if let Err(err) = &ephemeral {
        tracing::warn!(error = %err, "readiness: ephemeral store unreachable");
    }
    let body = json!({
        "database": if db.is_ok() { "ok" } else { "unavailable" },
        "ephemeral": if ephemeral.is_ok() { "ok" } else { "unavailable" },
    });
    if db.is_ok() && ephemeral.is_ok() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
