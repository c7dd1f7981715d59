//! actix handlers only: parse the request, call one domain function, map the result.

pub(crate) mod account;
mod admin;
mod admin_acts;
mod admin_clients;
mod admin_settings;
mod admin_users;
mod api;
pub(crate) mod authenticators;
mod authorize;
pub mod cookies;
pub(crate) mod devices;
mod dpop;
pub(crate) mod errors;
pub(crate) mod flows;
pub(crate) mod health;
pub(crate) mod i18n;
pub mod input;
pub mod logging;
pub(crate) mod login;
mod logout;
pub(crate) mod notes;
mod oauth;
pub(crate) mod oidc;
pub(crate) mod ops;
pub mod pages;
mod par;
mod profile;
mod queries;
mod redirects;
pub mod state;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, web};

use crate::http::state::AppState;
use crate::store::audit::Origin;

/// Request bodies above these sizes are refused with 413 before they are read whole.
const FORM_LIMIT: usize = 16 * 1024;
const JSON_LIMIT: usize = 64 * 1024;

/// Registers every route and the body-size limits.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let form = web::FormConfig::default().limit(FORM_LIMIT).error_handler(|err, req| {
        // An unreadable or oversized form gets a readable page, not a bare 400/413.
        let response = match &err {
            actix_web::error::UrlencodedError::Overflow { .. } => errors::too_large(req),
            _ => errors::bad_form(req),
        };
        actix_web::error::InternalError::from_response(err, response).into()
    });
    // An unreadable query string (say, page=abc) gets a readable page too.
    let query = web::QueryConfig::default().error_handler(|err, req| {
        actix_web::error::InternalError::from_response(err, errors::bad_form(req)).into()
    });
    // A JSON body (the admin API's) that cannot be read is refused in the API's shape.
    let json = web::JsonConfig::default().limit(JSON_LIMIT).error_handler(|err, req| {
        let response = match &err {
            actix_web::error::JsonPayloadError::Overflow { .. }
            | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => errors::too_large(req),
            _ => api::bad_body(&err),
        };
        actix_web::error::InternalError::from_response(err, response).into()
    });
    cfg.app_data(form)
        .app_data(query)
        .app_data(json)
        .app_data(web::PayloadConfig::new(JSON_LIMIT))
        .route("/healthz", web::get().to(health::get_healthz))
        .route("/readyz", web::get().to(health::get_readyz))
        .route("/static/style.css", web::get().to(pages::get_style))
        .route("/brand/{tenant}", web::get().to(pages::get_brand_css))
        .route("/.well-known/openid-configuration", web::get().to(oidc::get_discovery))
        // RFC 8414: OAuth clients look here; the OpenID document is a superset of it.
        .route("/.well-known/oauth-authorization-server", web::get().to(oidc::get_discovery))
        .route("/jwks", web::get().to(oidc::get_jwks))
        .route("/authorize", web::get().to(authorize::get_authorize))
        .route("/authorize", web::post().to(authorize::post_authorize))
        .route("/authorize/resume", web::get().to(authorize::get_resume))
        .route("/authorize/consent", web::post().to(authorize::post_consent))
        .route("/token", web::post().to(oidc::post_token))
        .route("/par", web::post().to(par::post_par))
        .route("/userinfo", web::get().to(oidc::get_userinfo))
        .route("/userinfo", web::post().to(oidc::post_userinfo))
        .route("/revoke", web::post().to(oidc::post_revoke))
        .route("/introspect", web::post().to(oidc::post_introspect))
        .route("/end_session", web::get().to(logout::get_end_session))
        .route("/end_session", web::post().to(logout::post_end_session))
        .route("/end_session/confirm", web::post().to(logout::post_confirm))
        .route("/login", web::get().to(login::get_login))
        .route("/login/password", web::post().to(login::post_password))
        .route("/login/totp", web::post().to(login::post_totp))
        .route("/login/recovery", web::post().to(login::post_recovery))
        .route("/login/enrol", web::post().to(login::post_enrol))
        .route("/login/offer", web::post().to(login::post_offer))
        .route("/login/later", web::post().to(login::post_later))
        .route("/login/codes", web::post().to(login::post_codes_saved))
        .route("/login/not-me", web::post().to(login::post_not_me))
        .route("/login/new-password", web::post().to(login::post_new_password))
        .route("/account", web::get().to(account::get_account))
        .route("/account/totp", web::get().to(account::get_totp))
        .route("/account/totp/setup", web::post().to(account::post_setup))
        .route("/account/totp/replace", web::post().to(account::post_replace))
        .route("/account/totp/confirm", web::post().to(account::post_confirm))
        .route("/account/totp/add", web::post().to(authenticators::post_add))
        .route("/account/totp/{id}/remove", web::post().to(authenticators::post_remove))
        .route("/account/recovery-codes", web::post().to(account::post_recovery_codes))
        .route("/account/password", web::post().to(account::post_password))
        .route("/account/profile", web::get().to(profile::get_account_profile))
        .route("/account/profile", web::post().to(profile::post_account_profile))
        .route("/account/codes", web::get().to(account::get_codes))
        .route("/account/codes-saved", web::post().to(account::post_codes_saved))
        .route("/account/signed-out", web::get().to(account::get_signed_out))
        .route("/account/logout", web::post().to(account::post_logout))
        .route("/account/devices/forget", web::post().to(devices::post_forget_all))
        .route("/account/sessions/end-others", web::post().to(devices::post_end_other_sessions))
        .route("/account/sessions/{id}/end", web::post().to(devices::post_end_session))
        .route("/account/devices/{id}/forget", web::post().to(devices::post_forget))
        .route("/admin", web::get().to(admin_users::get_users))
        .route("/admin/users/new", web::get().to(admin_users::get_new))
        .route("/admin/users/created", web::get().to(admin_users::get_created))
        .route("/admin/users/new", web::post().to(admin_users::post_new))
        .route("/admin/users/{id}", web::get().to(admin_users::get_user))
        .route("/admin/users/{id}/revoke", web::get().to(admin_acts::get_revoke))
        .route("/admin/users/{id}/revoke", web::post().to(admin_acts::post_revoke))
        .route("/admin/users/{id}/enforcement", web::post().to(admin_acts::post_enforcement))
        .route("/admin/users/{id}/disabled", web::post().to(admin_acts::post_disabled))
        .route("/admin/users/{id}/profile", web::get().to(profile::get_user_profile))
        .route("/admin/users/{id}/profile", web::post().to(profile::post_user_profile))
        .route("/admin/users/{id}/password", web::get().to(admin_acts::get_reset_password))
        .route("/admin/users/{id}/password", web::post().to(admin_acts::post_reset_password))
        .route("/admin/users/{id}/devices/forget", web::post().to(devices::post_admin_forget_all))
        .route("/admin/users/{id}/devices/{device}/forget", web::post().to(devices::post_admin_forget))
        .route("/admin/policy", web::get().to(admin_settings::get_policy))
        .route("/admin/policy", web::post().to(admin_settings::post_policy))
        .route("/admin/branding", web::post().to(admin_settings::post_branding))
        .route("/admin/audit", web::get().to(admin_settings::get_audit))
        .route("/admin/clients", web::get().to(admin_clients::get_clients))
        .route("/admin/clients", web::post().to(admin_clients::post_clients))
        .route("/admin/clients/{id}", web::get().to(admin_clients::get_client))
        .route("/admin/clients/{id}", web::post().to(admin_clients::post_client))
        .route("/admin/clients/{id}/rotate-secret", web::post().to(admin_clients::post_rotate))
        .route("/admin/clients/{id}/disabled", web::post().to(admin_clients::post_disabled))
        .route("/admin/clients/{id}/delete", web::post().to(admin_clients::post_delete))
        .route("/api/v1/openapi.json", web::get().to(api::get_openapi))
        .route("/api/v1/users", web::get().to(api::tenant::get_users))
        .route("/api/v1/users", web::post().to(api::tenant::post_users))
        .route("/api/v1/users/{id}", web::get().to(api::tenant::get_user))
        .route("/api/v1/users/{id}/revoke-totp", web::post().to(api::tenant::post_revoke_totp))
        .route("/api/v1/users/{id}/totp-enforcement", web::put().to(api::tenant::put_enforcement))
        .route("/api/v1/users/{id}/disabled", web::put().to(api::tenant::put_disabled))
        .route("/api/v1/users/{id}/profile", web::put().to(api::tenant::put_profile))
        .route("/api/v1/users/{id}/reset-password", web::post().to(api::tenant::post_reset_password))
        .route("/api/v1/users/{id}/devices", web::get().to(api::tenant::get_devices))
        .route("/api/v1/users/{id}/devices", web::delete().to(api::tenant::delete_devices))
        .route("/api/v1/users/{id}/devices/{device}", web::delete().to(api::tenant::delete_device))
        .route("/api/v1/tenant/branding", web::get().to(api::tenant::get_branding))
        .route("/api/v1/tenant/branding", web::put().to(api::tenant::put_branding))
        .route("/api/v1/tenant/policy", web::get().to(api::tenant::get_policy))
        .route("/api/v1/tenant/policy", web::put().to(api::tenant::put_policy))
        .route("/api/v1/audit", web::get().to(api::tenant::get_audit))
        .route("/api/v1/clients", web::get().to(api::clients::get_clients))
        .route("/api/v1/clients", web::post().to(api::clients::post_clients))
        .route("/api/v1/clients/{id}", web::get().to(api::clients::get_client))
        .route("/api/v1/clients/{id}", web::patch().to(api::clients::patch_client))
        .route("/api/v1/clients/{id}", web::delete().to(api::clients::delete_client))
        .route("/api/v1/clients/{id}/rotate-secret", web::post().to(api::clients::post_rotate_secret))
        .route("/api/v1/clients/{id}/disabled", web::put().to(api::clients::put_disabled));
}

/// A form whose only field is its CSRF token (sign-out, "Later", resets…).
#[derive(Debug, serde::Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

/// A 303 to `location` (after a POST, and to send a browser on).
pub fn see_other(location: &str) -> actix_web::HttpResponse {
    actix_web::HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}

/// Who made the request. Behind a trusted proxy (`WATCHWORD_TRUST_FORWARDED`) the client
/// address is the *last* `X-Forwarded-For` entry — the one our proxy appended; entries
/// before it are whatever the client sent. A header that does not parse falls back to
/// the socket address (fail closed: never an address the client chose).
pub fn origin(req: &HttpRequest, actor: Option<&str>) -> Origin {
    let trust_forwarded = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.trust_forwarded);
    let forwarded = trust_forwarded
        .then(|| {
            req.headers()
                .get("x-forwarded-for")?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse::<std::net::IpAddr>()
                .ok()
        })
        .flatten();
    let ip = forwarded.or_else(|| req.peer_addr().map(|a| a.ip()));
    Origin { actor_user_id: actor.map(str::to_owned), ip: ip.map(|ip| ip.to_string()) }
}

/// Any unknown path or method: a readable page.
pub async fn not_found(req: HttpRequest) -> actix_web::HttpResponse {
    errors::not_found(&req)
}

/// Headers on every response: no framing, no sniffing, no referrer leaks, a CSP that
/// allows only our own styles and inline images (QR codes), and HSTS when served over https.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = if https {
        DefaultHeaders::new().add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"))
}
