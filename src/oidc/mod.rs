//! OpenID Connect protocol logic without actix: clients now; authorize, token,
//! ID tokens, PKCE and keys grow here.

pub mod clients;
