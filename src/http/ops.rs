//! What operators reach on the management listener (`WATCHWORD_MANAGEMENT_LISTEN`,
//! never the public port): `/metrics` in Prometheus' text format and the health checks
//! orchestrators expect; and the middleware that times every public request by route.

use std::sync::atomic::Ordering;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, web};
use serde_json::json;

use crate::http::health;
use crate::http::state::AppState;

/// The management listener's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(get_metrics))
        .route("/health/live", web::get().to(get_live))
        .route("/health/ready", web::get().to(health::get_readyz))
        .route("/health/started", web::get().to(get_started));
}

/// The process answers: nothing else is asked (a restart would not mend a database).
async fn get_live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "live" }))
}

/// The schema is migrated and the server serves (while `serve` waits for a database it
/// could not reach at start, 503).
async fn get_started(state: web::Data<AppState>) -> HttpResponse {
    if state.schema_ready.load(Ordering::Acquire) {
        HttpResponse::Ok().json(json!({ "status": "started" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "starting" }))
    }
}

async fn get_metrics(state: web::Data<AppState>) -> HttpResponse {
    let readings = crate::metrics::Readings {
        hash_queued: state.hasher.queued(),
        hash_refused: state.hasher.refused(),
        limiter_refusals: state.ephemeral.refusals().snapshot(),
        // Redis down: the gauge keeps its last value (the errors show elsewhere).
        active_flows: state.ephemeral.live_new(state.clock.now()).await.ok(),
    };
    let text = state.metrics.render(&readings);
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}

/// Times each request under its route's pattern (`/admin/users/{id}`, never the id;
/// unknown paths are `other`).
pub async fn measure(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().clone();
    let response = next.call(req).await?;
    if let Some(state) = state {
        let route = response.request().match_pattern().unwrap_or_else(|| "other".to_owned());
        state.metrics.request(&route, method.as_str(), response.status().as_u16(), started.elapsed());
    }
    Ok(response)
}
