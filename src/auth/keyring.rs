//! The secrets keyring: AES-256-GCM under versioned key ids. The first key listed is
//! the newest and encrypts; every listed key decrypts, so keys can be rotated by
//! prepending a new one and re-encrypting. Associated data binds each ciphertext to
//! its row, so a ciphertext copied onto another row does not decrypt.
//!
//! Format (`WATCHWORD_SECRET_KEYS`, or the key file): `id:base64key[,id:base64key…]`,
//! each key 32 bytes in standard base64.

use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const NONCE_LEN: usize = 12;
/// The key file written into the data directory on first run.
pub const KEY_FILE: &str = "secret-keys";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    #[error("expected id:base64key pairs separated by commas ({0})")]
    Malformed(String),
    #[error("the key with id {0} appears twice")]
    DuplicateId(String),
    #[error("no key with id {0} in the keyring")]
    UnknownKey(String),
    #[error("the ciphertext does not decrypt under its key and row")]
    Decrypt,
    #[error("key file {path}: {reason}")]
    File { path: String, reason: String },
}

/// A sealed secret: which key, and `nonce || ciphertext || tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub bytes: Vec<u8>,
}

/// The loaded keys, newest first. `Debug` shows ids only.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("Keyring").field("key_ids", &ids).finish()
    }
}

impl Keyring {
    pub fn parse(spec: &str) -> Result<Self, KeyringError> {
        let mut keys: Vec<(String, Aes256Gcm)> = Vec::new();
        for (i, pair) in spec.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let what = |reason: &str| KeyringError::Malformed(format!("entry {}: {reason}", i + 1));
            let (id, b64) = pair.split_once(':').ok_or_else(|| what("no ':'"))?;
            let valid_id = !id.is_empty()
                && id.len() <= 32
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !valid_id {
                return Err(what("the id must be 1-32 letters, digits, '-' or '_'"));
            }
            let raw = STANDARD.decode(b64).map_err(|_| what("the key is not base64"))?;
            if raw.len() != 32 {
                return Err(what("the key must be 32 bytes"));
            }
            if keys.iter().any(|(known, _)| known == id) {
                return Err(KeyringError::DuplicateId(id.to_owned()));
            }
            keys.push((id.to_owned(), Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&raw))));
        }
        if keys.is_empty() {
            return Err(KeyringError::Malformed("no keys".to_owned()));
        }
        Ok(Self { keys })
    }

    /// Reads the key file in `data_dir`, or writes a new one (mode 0600) on first run.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, KeyringError> {
        let path = data_dir.join(KEY_FILE);
        let file_error = |reason: String| KeyringError::File { path: path.display().to_string(), reason };
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(text.trim()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(data_dir).map_err(|e| file_error(e.to_string()))?;
                let spec = format!("k1:{}", STANDARD.encode(crate::random::bytes(32)));
                write_private(&path, &spec).map_err(|e| file_error(e.to_string()))?;
                Self::parse(&spec)
            }
            Err(err) => Err(file_error(err.to_string())),
        }
    }

    /// The id of the key that encrypts.
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].0
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Sealed {
        let (id, cipher) = &self.keys[0];
        let nonce = crate::random::bytes(NONCE_LEN);
        // Encryption with a valid key and nonce length cannot fail for inputs this small.
        #[expect(clippy::unwrap_used, reason = "AES-GCM encryption is infallible below 64 GiB")]
        let ciphertext = cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad }).unwrap();
        let mut bytes = nonce;
        bytes.extend_from_slice(&ciphertext);
        Sealed { key_id: id.clone(), bytes }
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .ok_or_else(|| KeyringError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.bytes.len() < NONCE_LEN {
            return Err(KeyringError::Decrypt);
        }
        let (nonce, ciphertext) = sealed.bytes.split_at(NONCE_LEN);
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad })
            .map_err(|_| KeyringError::Decrypt)
    }
}

/// Creates a directory (and its parents) readable by its owner only: the data dir holds
/// the key file.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_private(path: &PathBuf, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> String {
        STANDARD.encode([byte; 32])
    }

    #[test]
    fn newest_key_seals_and_any_key_opens() {
        let old = Keyring::parse(&format!("v1:{}", key(1))).unwrap();
        let sealed_old = old.seal(b"secret", b"row-1");
        let both = Keyring::parse(&format!("v2:{}, v1:{}", key(2), key(1))).unwrap();
        assert_eq!(both.current_key_id(), "v2");
        assert_eq!(both.open(&sealed_old, b"row-1").unwrap(), b"secret");
        let sealed_new = both.seal(b"secret", b"row-1");
        assert_eq!(sealed_new.key_id, "v2");
        assert_eq!(old.open(&sealed_new, b"row-1"), Err(KeyringError::UnknownKey("v2".into())));
    }

    #[test]
    fn associated_data_binds_the_row() {
        let ring = Keyring::parse(&format!("k:{}", key(7))).unwrap();
        let sealed = ring.seal(b"secret", b"row-1");
        assert_eq!(ring.open(&sealed, b"row-2"), Err(KeyringError::Decrypt));
        let mut tampered = sealed.clone();
        tampered.bytes[NONCE_LEN] ^= 1;
        assert_eq!(ring.open(&tampered, b"row-1"), Err(KeyringError::Decrypt));
    }

    #[test]
    fn malformed_specs_are_refused() {
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("nokey").is_err());
        assert!(Keyring::parse("k:notbase64!").is_err());
        assert!(Keyring::parse(&format!("k:{}", STANDARD.encode([0u8; 16]))).is_err());
        assert!(Keyring::parse(&format!("bad id:{}", key(1))).is_err());
        assert_eq!(
            Keyring::parse(&format!("k:{},k:{}", key(1), key(2))).unwrap_err(),
            KeyringError::DuplicateId("k".into())
        );
        assert!(!format!("{:?}", Keyring::parse(&format!("k:{}", key(1))).unwrap()).contains(&key(1)));
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keyring::load_or_create(dir.path()).unwrap();
        let sealed = first.seal(b"x", b"");
        let again = Keyring::load_or_create(dir.path()).unwrap();
        assert_eq!(again.open(&sealed, b"").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
