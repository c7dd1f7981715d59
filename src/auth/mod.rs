//! Authentication primitives: password hashing, the secrets keyring and randomness.
//! The login state machine and TOTP verification grow here.

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
pub mod random;
pub mod recovery;
pub mod remembered;
pub mod totp;
