//! Authentication: password hashing, the secrets keyring, the login state machine and
//! TOTP verification.

pub mod credentials;
pub mod devices;
pub mod enrolment;
pub mod errors;
pub mod flow;
pub mod foreign_hashes;
pub mod gate;
pub mod hashing;
pub mod keyring;
pub mod login;
pub mod password;
pub mod password_rules;
pub mod passwords;
pub mod recovery;
pub mod remembered;
pub mod totp;
