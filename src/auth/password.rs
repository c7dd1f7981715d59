//! Passwords: argon2id with OWASP's parameters (19 MiB, t=2, p=1), verification that
//! reports when a stored hash uses older parameters, and a dummy verification that
//! costs the same so that an unknown username takes as long as a wrong password.

use std::sync::LazyLock;

use argon2::password_hash::SaltString;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use rand::rngs::OsRng;

const MEMORY_KIB: u32 = 19 * 1024;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;
/// Longer inputs are refused before hashing: argon2 would accept them, but an
/// attacker could make every attempt cost more memory bandwidth for nothing.
pub const MAX_LEN: usize = 1024;

/// A password as typed. Its `Debug` never shows the text.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is empty")]
    Empty,
    #[error("the password is longer than {MAX_LEN} bytes")]
    TooLong,
    #[error("the password could not be hashed")]
    Hashing,
}

impl Password {
    pub fn parse(raw: impl Into<String>) -> Result<Self, PasswordError> {
        let raw = raw.into();
        if raw.is_empty() {
            return Err(PasswordError::Empty);
        }
        if raw.len() > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // The parameters are constants inside argon2's accepted ranges.
    #[expect(clippy::unwrap_used, reason = "constant, valid parameters")]
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `password` into a PHC string with a fresh salt.
pub fn hash(password: &Password) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.0.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Right password; `rehash` when the stored hash uses other parameters.
    Match {
        rehash: bool,
    },
    Mismatch,
}

/// Checks `password` against `stored` (argon2's comparison is constant-time).
pub fn verify(password: &Password, stored: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    // Verify with the parameters the hash was made with, then judge them.
    if Argon2::default().verify_password(password.0.as_bytes(), &parsed).is_err() {
        return Verification::Mismatch;
    }
    Verification::Match { rehash: !uses_current_parameters(&parsed) }
}

fn uses_current_parameters(parsed: &PasswordHash<'_>) -> bool {
    let Ok(params) = Params::try_from(parsed) else {
        return false;
    };
    parsed.algorithm == argon2::ARGON2ID_IDENT
        && parsed.version == Some(Version::V0x13.into())
        && params.m_cost() == MEMORY_KIB
        && params.t_cost() == ITERATIONS
        && params.p_cost() == PARALLELISM
}

/// A hash of a random password, made once, for [`verify_dummy`].
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let password = Password(crate::auth::random::token(24));
    hash(&password).unwrap_or_default()
});

/// Computes the dummy hash now, so that the first unknown username does not pay for it
/// (which would make it measurably slower than a known one).
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// Spends the time of one verification, for usernames that do not exist.
pub fn verify_dummy(password: &Password) {
    let _ = verify(password, &DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let pw = Password::parse("correct horse").unwrap();
        let stored = hash(&pw).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify(&pw, &stored), Verification::Match { rehash: false });
        let wrong = Password::parse("correct horsf").unwrap();
        assert_eq!(verify(&wrong, &stored), Verification::Mismatch);
        assert_eq!(verify(&pw, "not a hash"), Verification::Mismatch);
    }

    #[test]
    fn older_parameters_ask_for_a_rehash() {
        let pw = Password::parse("pw").unwrap();
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8, 1, 1, None).unwrap());
        let salt = SaltString::generate(&mut OsRng);
        let stored = weak.hash_password(b"pw", &salt).unwrap().to_string();
        assert_eq!(verify(&pw, &stored), Verification::Match { rehash: true });
    }

    #[test]
    fn empty_and_huge_passwords_are_refused() {
        assert_eq!(Password::parse("").unwrap_err(), PasswordError::Empty);
        assert_eq!(Password::parse("x".repeat(MAX_LEN + 1)).unwrap_err(), PasswordError::TooLong);
        assert!(!format!("{:?}", Password::parse("secret").unwrap()).contains("secret"));
    }
}
