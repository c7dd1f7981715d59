//! Recovery codes: ten single-use codes of ~60 bits each, shown once, stored as
//! SHA-256 (random codes of this entropy need no slow hash).

use sha2::{Digest, Sha256};

pub const COUNT: usize = 10;
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789x";

/// Ten fresh codes like `k4mz-q8rt-2wpa`.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let raw: String =
                crate::random::bytes(12).iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
            format!("{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12])
        })
        .collect()
}

/// Lowercase, spaces and dashes dropped: how codes are compared.
pub fn normalise(raw: &str) -> String {
    raw.chars().filter(|c| !matches!(c, ' ' | '-')).flat_map(char::to_lowercase).collect()
}

/// The stored form of a code (after [`normalise`]).
pub fn hash(code: &str) -> String {
    Sha256::digest(normalise(code).as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_forgiving_to_type() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        assert_eq!(codes[0].len(), 14);
        assert_eq!(hash(&codes[0]), hash(&codes[0].to_uppercase().replace('-', " ")));
        assert_ne!(hash(&codes[0]), hash(&codes[1]));
    }
}
