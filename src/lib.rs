//! Watchword: an OpenID Connect provider whose login is password, then TOTP.
//!
//! Layers point one way: `http` → `oidc`/`auth`/`tenancy` → `store`/`ephemeral`.
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
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tenancy;
pub mod text;
