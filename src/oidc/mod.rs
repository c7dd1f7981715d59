//! OpenID Connect protocol logic without actix: clients, authorization requests and
//! codes, the token endpoint's grants, ID and access tokens, claims, signing keys,
//! back-channel logout, PAR and DPoP.

pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client_settings;
pub mod clients;
pub mod dpop;
pub mod grants;
pub mod keys;
pub mod par;
pub mod tokens;

/// Whether the space-separated `scope` holds `wanted`.
pub fn has_scope(scope: &str, wanted: &str) -> bool {
    scope.split(' ').any(|s| s == wanted)
}
