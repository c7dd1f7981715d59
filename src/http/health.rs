//! `/healthz` (the process answers) and `/readyz` (its dependencies answer).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::startup::AppState;

pub async fn get_healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// 200 when the database and the ephemeral store answer, else 503 naming which failed.
pub async fn get_readyz(state: web::Data<AppState>) -> HttpResponse {
    let (db, ephemeral) = tokio::join!(state.db.ping(), state.ephemeral.ping());
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
