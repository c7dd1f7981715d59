//! Passwords: argon2id with OWASP's parameters (19 MiB, t=2, p=1), verification that
//! reports when a stored hash uses older parameters, each in a caller's memory block
//! so that the pool in [`crate::auth::hashing`] can reuse one block per worker.

use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use rand::RngCore;
use rand::rngs::OsRng;
use subtle::ConstantTimeEq;

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

fn params() -> Params {
    // The parameters are constants inside argon2's accepted ranges.
    #[expect(clippy::unwrap_used, reason = "constant, valid parameters")]
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_LEN)).unwrap()
}

const OUTPUT_LEN: usize = 32;
const SALT_LEN: usize = 16;

/// A memory block for one hash at the current parameters (19 MiB), to be reused.
pub fn memory_block() -> Vec<Block> {
    vec![Block::default(); params().block_count()]
}

/// Hashes `password` into a PHC string with a fresh salt (allocates its own memory:
/// for the CLI and start-up; the server hashes through [`crate::auth::hashing`]).
pub fn hash(password: &Password) -> Result<String, PasswordError> {
    hash_with(password, &mut memory_block())
}

/// As [`hash`], in the caller's memory block.
pub fn hash_with(password: &Password, blocks: &mut [Block]) -> Result<String, PasswordError> {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let params = params();
    let mut out = [0u8; OUTPUT_LEN];
    let needed = params.block_count();
    let blocks = blocks.get_mut(..needed).ok_or(PasswordError::Hashing)?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.0.as_bytes(), &salt, &mut out, blocks)
        .map_err(|_| PasswordError::Hashing)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| PasswordError::Hashing)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|_| PasswordError::Hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|_| PasswordError::Hashing)?),
    };
    Ok(phc.to_string())
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

/// Checks `password` against `stored` (allocates its own memory; see [`verify_with`]).
pub fn verify(password: &Password, stored: &str) -> Verification {
    verify_with(password, stored, &mut memory_block())
}

/// Checks `password` against the PHC string `stored`, with the parameters it was made
/// with, in the caller's memory block (a larger one is allocated only for a stored
/// hash with more memory than today's). The comparison is constant-time.
pub fn verify_with(password: &Password, stored: &str, blocks: &mut [Block]) -> Verification {
    // An imported hash of another scheme (bcrypt, PBKDF2): checked by its own rules.
    if !stored.starts_with("$argon2")
        && let Some(right) = crate::auth::foreign_hashes::verify(password.expose(), stored)
    {
        return if right { Verification::Match { rehash: true } } else { Verification::Mismatch };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    let (Ok(algorithm), Some(expected), Some(salt)) =
        (Algorithm::try_from(parsed.algorithm), parsed.hash, parsed.salt)
    else {
        return Verification::Mismatch;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return Verification::Mismatch,
    };
    let Ok(stored_params) = Params::try_from(&parsed) else {
        return Verification::Mismatch;
    };
    let expected = expected.as_bytes();
    let Ok(params) = Params::new(
        stored_params.m_cost(),
        stored_params.t_cost(),
        stored_params.p_cost(),
        Some(expected.len()),
    ) else {
        return Verification::Mismatch;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return Verification::Mismatch;
    };
    let needed = params.block_count();
    let mut larger;
    let blocks = match blocks.get_mut(..needed) {
        Some(blocks) => blocks,
        None => {
            larger = vec![Block::default(); needed];
            &mut larger[..]
        }
    };
    let mut out = vec![0u8; expected.len()];
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.0.as_bytes(), salt, &mut out, blocks)
        .is_err()
    {
        return Verification::Mismatch;
    }
    if !bool::from(out.as_slice().ct_eq(expected)) {
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
    fn our_hashes_and_the_crates_own_agree() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let pw = Password::parse("correct horse").unwrap();
        // Ours verifies with argon2's own verifier…
        let ours = hash(&pw).unwrap();
        assert!(
            Argon2::default().verify_password(b"correct horse", &PasswordHash::new(&ours).unwrap()).is_ok()
        );
        // …and argon2's own hash (other salt length, same parameters) verifies with ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert_eq!(verify(&pw, &theirs), Verification::Match { rehash: false });
        // An argon2i hash with more memory than today's block is checked (and asks for a rehash).
        let big =
            Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(MEMORY_KIB * 2, 1, 1, None).unwrap())
                .hash_password(b"correct horse", &salt)
                .unwrap()
                .to_string();
        assert_eq!(verify_with(&pw, &big, &mut memory_block()), Verification::Match { rehash: true });
    }

    #[test]
    fn older_parameters_ask_for_a_rehash() {
        let pw = Password::parse("pw").unwrap();
        use argon2::PasswordHasher;
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
