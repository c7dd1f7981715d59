//! The one integration-test binary: every test spawns the real server (or runs the
//! real `watchword` binary) against a fresh database of its own.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod account;
mod admin_api;
mod admin_pages;
mod authenticators;
mod backchannel;
mod browser;
mod bypasses;
mod claims;
mod cli;
mod client_admin;
mod cluster;
mod conformance;
mod crash;
mod dpop;
mod ephemeral;
mod health;
mod helpers;
mod limits;
mod load;
mod login;
mod oidc;
mod openapi;
mod pages;
mod par;
mod passwords;
mod profile;
mod remembered;
mod serve;
mod store;
mod transfer;

/// The server's current time.
pub fn login_now(app: &helpers::TestApp) -> i64 {
    app.clock_now()
}
