//! actix handlers only: parse the request, call one domain function, map the result.

mod health;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

/// Request bodies above these sizes are refused with 413 before they are read whole.
const FORM_LIMIT: usize = 16 * 1024;
const JSON_LIMIT: usize = 64 * 1024;

/// Registers every route and the body-size limits.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(FORM_LIMIT))
        .app_data(web::JsonConfig::default().limit(JSON_LIMIT))
        .app_data(web::PayloadConfig::new(JSON_LIMIT))
        .route("/healthz", web::get().to(health::get_healthz))
        .route("/readyz", web::get().to(health::get_readyz));
}

/// Headers on every response: no framing, no sniffing, no referrer leaks, and a CSP
/// that allows only our own styles and inline images (QR codes).
pub fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}
