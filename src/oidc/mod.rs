//! OpenID Connect protocol logic without actix: clients now; authorize, token,
//! ID tokens, PKCE and keys grow here.

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
