//! Re-encrypting every sealed secret (TOTP secrets, signing keys) under the keyring's
//! newest key, after a new key has been prepended to `WATCHWORD_SECRET_KEYS`.

use diesel::prelude::*;

use super::schema::{signing_keys, totp_credentials};
use super::{DbConn, StoreError};
use crate::auth::keyring::{Keyring, Sealed};

/// How many rows were re-encrypted, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rewrapped {
    pub totp_secrets: usize,
    pub signing_keys: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RewrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} {id} cannot be decrypted with the listed keys: {reason}")]
    Undecryptable { what: &'static str, id: String, reason: String },
}

impl super::Contended for RewrapError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(StoreError::Busy(_)))
    }
}

impl From<diesel::result::Error> for RewrapError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}

/// Opens every sealed secret with `keyring` and writes nothing: how many there are, or
/// the first that cannot be opened (a restore checks its backup so).
pub fn check_all(conn: &mut DbConn, keyring: &Keyring) -> Result<Rewrapped, RewrapError> {
    let mut opened = Rewrapped::default();
    let credentials: Vec<(String, String, Vec<u8>, String)> =
        crate::native!(conn, |c| totp_credentials::table
            .select((
                totp_credentials::id,
                totp_credentials::user_id,
                totp_credentials::secret_ciphertext,
                totp_credentials::key_id,
            ))
            .load(c))?;
    for (id, user_id, bytes, key_id) in credentials {
        let aad = crate::auth::credentials::aad(&id, &user_id);
        keyring.open(&Sealed { key_id, bytes }, &aad).map_err(|e| RewrapError::Undecryptable {
            what: "TOTP credential",
            id: id.clone(),
            reason: e.to_string(),
        })?;
        opened.totp_secrets += 1;
    }
    let keys: Vec<(String, Vec<u8>, String)> = crate::native!(conn, |c| signing_keys::table
        .select((signing_keys::id, signing_keys::private_ciphertext, signing_keys::key_id))
        .load(c))?;
    for (id, bytes, key_id) in keys {
        let aad = crate::oidc::keys::aad(&id);
        keyring.open(&Sealed { key_id, bytes }, &aad).map_err(|e| RewrapError::Undecryptable {
            what: "signing key",
            id: id.clone(),
            reason: e.to_string(),
        })?;
        opened.signing_keys += 1;
    }
    Ok(opened)
}

/// Re-encrypts, in one transaction, every row not sealed by the newest key. Nothing is
/// written when any row cannot be decrypted.
pub fn rewrap_all(conn: &mut DbConn, keyring: &Keyring) -> Result<Rewrapped, RewrapError> {
    let newest = keyring.current_key_id().to_owned();
    conn.write(|conn| {
        let mut done = Rewrapped::default();
        let credentials: Vec<(String, String, Vec<u8>, String)> = totp_credentials::table
            .filter(totp_credentials::key_id.ne(&newest))
            .select((
                totp_credentials::id,
                totp_credentials::user_id,
                totp_credentials::secret_ciphertext,
                totp_credentials::key_id,
            ))
            .load(conn)?;
        for (id, user_id, bytes, key_id) in credentials {
            let aad = crate::auth::credentials::aad(&id, &user_id);
            let plain = keyring.open(&Sealed { key_id, bytes }, &aad).map_err(|e| {
                RewrapError::Undecryptable { what: "TOTP credential", id: id.clone(), reason: e.to_string() }
            })?;
            let sealed = keyring.seal(&plain, &aad);
            diesel::update(totp_credentials::table.find(&id))
                .set((
                    totp_credentials::secret_ciphertext.eq(sealed.bytes),
                    totp_credentials::key_id.eq(sealed.key_id),
                ))
                .execute(conn)?;
            done.totp_secrets += 1;
        }
        let keys: Vec<(String, Vec<u8>, String)> = signing_keys::table
            .filter(signing_keys::key_id.ne(&newest))
            .select((signing_keys::id, signing_keys::private_ciphertext, signing_keys::key_id))
            .load(conn)?;
        for (id, bytes, key_id) in keys {
            let aad = crate::oidc::keys::aad(&id);
            let plain = keyring.open(&Sealed { key_id, bytes }, &aad).map_err(|e| {
                RewrapError::Undecryptable { what: "signing key", id: id.clone(), reason: e.to_string() }
            })?;
            let sealed = keyring.seal(&plain, &aad);
            diesel::update(signing_keys::table.find(&id))
                .set((
                    signing_keys::private_ciphertext.eq(sealed.bytes),
                    signing_keys::key_id.eq(sealed.key_id),
                ))
                .execute(conn)?;
            done.signing_keys += 1;
        }
        Ok(done)
    })
}
