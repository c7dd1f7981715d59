//! Randomness from the operating system's CSPRNG, encoded for URLs and humans, and the
//! hash bearer secrets made of it are stored under.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};

/// SHA-256 in hex: how bearer secrets (session cookies, codes) are keyed in the database.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` random bytes as unpadded base64url (16 bytes → 22 characters).
pub fn token(bytes: usize) -> String {
    URL_SAFE_NO_PAD.encode(self::bytes(bytes))
}

/// `n` random bytes.
pub fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    buf
}

/// A password for a person to copy once: 20 characters from an alphabet without
/// look-alikes (~115 bits).
pub fn password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // Rejection sampling keeps every character equally likely.
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        for b in bytes(32) {
            if (b as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_distinct_and_sized() {
        assert_eq!(super::token(16).len(), 22);
        assert_ne!(super::token(16), super::token(16));
        let pw = super::password();
        assert_eq!(pw.len(), 20);
        assert!(pw.chars().all(|c| c.is_ascii_alphanumeric() && c != 'l' && c != 'O'));
    }
}
