//! Password hashes made by other systems, accepted when users are imported so that
//! nobody has to reset a password to move to Watchword: bcrypt (`$2a$`, `$2b$`, `$2y$`)
//! and PBKDF2-SHA256 in the three spellings exporters use — PHC
//! (`$pbkdf2-sha256$i=N,l=32$salt$hash`), passlib (`$pbkdf2-sha256$N$salt$hash`, `.` for
//! `+`) and Django (`pbkdf2_sha256$N$salt$hash`). `auth::password::verify_with` asks here
//! first; a right password against one of these is a match that asks for a rehash: the
//! next successful sign-in stores argon2id instead.
//!
//! Costs are bounded at import ([`check`]): a hash that would make every sign-in of
//! its user slow (bcrypt cost over 14, PBKDF2 over 2,000,000 iterations) is refused.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use sha2::Sha256;
use subtle::ConstantTimeEq;

const BCRYPT_MAX_COST: u32 = 14;
const PBKDF2_ITERATIONS: std::ops::RangeInclusive<u32> = 1_000..=2_000_000;

/// The kinds of stored hash Watchword can check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Argon2id,
    Bcrypt,
    Pbkdf2Sha256,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Argon2id => "argon2id",
            Self::Bcrypt => "bcrypt",
            Self::Pbkdf2Sha256 => "pbkdf2-sha256",
        }
    }
}

/// A PBKDF2-SHA256 hash taken apart.
struct Pbkdf2 {
    iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn pbkdf2_parts(stored: &str) -> Option<Pbkdf2> {
    let ab64 = |s: &str| STANDARD_NO_PAD.decode(s.replace('.', "+")).ok();
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        // Django: the salt is used as its ASCII text; the hash is padded base64.
        let mut parts = rest.split('$');
        let (iterations, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || salt.is_empty() {
            return None;
        }
        let hash = STANDARD.decode(hash).ok()?;
        return Some(Pbkdf2 { iterations: iterations.parse().ok()?, salt: salt.as_bytes().to_vec(), hash });
    }
    let rest = stored.strip_prefix("$pbkdf2-sha256$")?;
    let mut parts = rest.split('$');
    let (params, salt, hash) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let iterations = match params.parse::<u32>() {
        // passlib: the rounds alone, adapted base64.
        Ok(rounds) => rounds,
        // PHC: i=N[,l=LEN].
        Err(_) => params.split(',').find_map(|p| p.strip_prefix("i="))?.parse().ok()?,
    };
    Some(Pbkdf2 { iterations, salt: ab64(salt)?, hash: ab64(hash)? })
}

/// The scheme of `stored`, if Watchword can check it at a bounded cost; else why not.
pub fn check(stored: &str) -> Result<Scheme, String> {
    if stored.starts_with("$argon2id$") {
        return argon2::PasswordHash::new(stored)
            .map(|_| Scheme::Argon2id)
            .map_err(|e| format!("not a valid argon2id hash: {e}"));
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        let parts =
            stored.parse::<bcrypt::HashParts>().map_err(|e| format!("not a valid bcrypt hash: {e}"))?;
        if parts.get_cost() > BCRYPT_MAX_COST {
            return Err(format!("bcrypt cost {} is over {BCRYPT_MAX_COST}", parts.get_cost()));
        }
        return Ok(Scheme::Bcrypt);
    }
    if stored.starts_with("$pbkdf2-sha256$") || stored.starts_with("pbkdf2_sha256$") {
        let parts = pbkdf2_parts(stored).ok_or("not a valid PBKDF2-SHA256 hash")?;
        if !PBKDF2_ITERATIONS.contains(&parts.iterations) {
            return Err(format!("PBKDF2 iterations {} are outside 1,000-2,000,000", parts.iterations));
        }
        if parts.hash.len() < 16 || parts.salt.is_empty() {
            return Err("PBKDF2 hash or salt too short".to_owned());
        }
        return Ok(Scheme::Pbkdf2Sha256);
    }
    Err("unsupported password hash (argon2id, bcrypt $2a$/$2b$/$2y$ and PBKDF2-SHA256 are)".to_owned())
}

/// Whether `password` is right for a bcrypt or PBKDF2 hash (a malformed one never is);
/// `None` when `stored` is neither (argon2 is `auth::password::verify_with`'s own).
pub fn verify(password: &str, stored: &str) -> Option<bool> {
    Some(match check(stored) {
        Ok(Scheme::Bcrypt) => bcrypt::verify(password, stored).unwrap_or(false),
        Ok(Scheme::Pbkdf2Sha256) => {
            let parts = pbkdf2_parts(stored)?;
            let mut out = vec![0u8; parts.hash.len()];
            pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &parts.salt, parts.iterations, &mut out);
            bool::from(out.as_slice().ct_eq(&parts.hash))
        }
        Ok(Scheme::Argon2id) => return None,
        Err(_) if stored.starts_with("$2") || stored.contains("pbkdf2") => false,
        Err(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Made with Python's `bcrypt` and `hashlib.pbkdf2_hmac`, not with the code under test.
    const PASSWORD: &str = "correct horse battery staple";
    const BCRYPT: &str = "$2b$06$hai81xLOUey3wDDBpJQbgOXX/J.UVQjFiG0fHoKM.YknG50qP7wBS";
    const PHC: &str =
        "$pbkdf2-sha256$i=1000,l=32$c2FsdHlzYWx0MTIzNDU2Nw$hBfrxhlblqvPcbbQR8uQaiXsr7hTLWMuw9sRDaZIeFw";
    const PASSLIB: &str =
        "$pbkdf2-sha256$1000$c2FsdHlzYWx0MTIzNDU2Nw$hBfrxhlblqvPcbbQR8uQaiXsr7hTLWMuw9sRDaZIeFw";
    const DJANGO: &str = "pbkdf2_sha256$1000$abcdefgh12345678$dhfF12U7XZRP+8D+ERjfFYLp/HEjrtN9BFy/JLr3jso=";

    #[test]
    fn foreign_hashes_match_their_password_and_ask_for_a_rehash() {
        for stored in [BCRYPT, PHC, PASSLIB, DJANGO] {
            assert!(check(stored).is_ok(), "{stored}");
            assert_eq!(verify(PASSWORD, stored), Some(true), "{stored}");
            assert_eq!(verify("correct horse battery stapler", stored), Some(false), "{stored}");
        }
        assert_eq!(check(BCRYPT), Ok(Scheme::Bcrypt));
        assert_eq!(check(DJANGO), Ok(Scheme::Pbkdf2Sha256));
        assert_eq!(verify(PASSWORD, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"), None);
    }

    #[test]
    fn unusable_or_too_costly_hashes_are_refused_at_import() {
        assert!(
            check("$2b$15$hai81xLOUey3wDDBpJQbgOXX/J.UVQjFiG0fHoKM.YknG50qP7wBS")
                .unwrap_err()
                .contains("cost 15")
        );
        assert!(check("pbkdf2_sha256$999$abc$dhfF12U7XZRP+8D+ERjfFYLp/HEjrtN9BFy/JLr3jso=").is_err());
        assert!(check("pbkdf2_sha256$5000000$abc$dhfF12U7XZRP+8D+ERjfFYLp/HEjrtN9BFy/JLr3jso=").is_err());
        assert!(check("$1$md5crypt$whatever").unwrap_err().contains("unsupported"));
        assert!(check("plaintext").is_err());
        assert!(check("$pbkdf2-sha256$i=1000$only-two").is_err());
        assert_eq!(verify(PASSWORD, "$2b$06$broken"), Some(false));
        assert_eq!(verify(PASSWORD, "plaintext"), None);
    }
}
