//! Watchword: an OpenID Connect provider whose login is password, then TOTP.
//!
//! Layers point one way: `http`/`cli` → `oidc`/`auth`/`tenancy` → `store`/`ephemeral`;
//! `rewrap` (every sealed secret under a new key) sits above `oidc` and `auth`, and
//! `random`, `clock` and `text` below everything.
//! See `docs/ARCHITECTURE.md` for the map and the path of one login.

pub mod auth;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod ephemeral;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod oidc;
pub mod random;
pub mod rewrap;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tenancy;
pub mod text;

/// Makes rustls — the back-channel logout deliveries, and reqwest wherever this crate's
/// tests and examples use it — run on aws-lc-rs, the crypto the rest of Watchword links
/// (reqwest is built without a provider of its own). Safe to call more than once.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod layering;
