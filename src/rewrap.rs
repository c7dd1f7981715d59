//! Re-encrypting every sealed secret (TOTP secrets, signing keys) under the keyring's
//! newest key, after a new key has been prepended to `WATCHWORD_SECRET_KEYS`, and
//! checking that a keyring opens them all. Above `auth` and `oidc`, whose secrets these
//! are; the rows are `store::sealed`'s.

use crate::auth::keyring::{Keyring, Sealed};
use crate::store::sealed::{self, SealedKind, SealedRow};
use crate::store::{DbConn, StoreError};

/// How many rows were re-encrypted, per kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rewrapped {
    pub totp_secrets: usize,
    pub signing_keys: usize,
}

impl Rewrapped {
    fn count(&mut self, kind: SealedKind) {
        match kind {
            SealedKind::TotpSecret => self.totp_secrets += 1,
            SealedKind::SigningKey => self.signing_keys += 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RewrapError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} {id} cannot be decrypted with the listed keys: {reason}")]
    Undecryptable { what: &'static str, id: String, reason: String },
}

impl crate::store::Contended for RewrapError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(StoreError::Busy(_)))
    }
}

impl From<diesel::result::Error> for RewrapError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}

/// What a row's ciphertext is bound to (see `credentials::aad`, `keys::aad`).
fn aad(row: &SealedRow) -> Vec<u8> {
    match row.kind {
        SealedKind::TotpSecret => crate::auth::credentials::aad(&row.id, &row.user_id),
        SealedKind::SigningKey => crate::oidc::keys::aad(&row.id),
    }
}

fn open(keyring: &Keyring, row: &SealedRow) -> Result<Vec<u8>, RewrapError> {
    let sealed = Sealed { key_id: row.key_id.clone(), bytes: row.bytes.clone() };
    keyring.open(&sealed, &aad(row)).map_err(|e| RewrapError::Undecryptable {
        what: match row.kind {
            SealedKind::TotpSecret => "TOTP credential",
            SealedKind::SigningKey => "signing key",
        },
        id: row.id.clone(),
        reason: e.to_string(),
    })
}

/// Opens every sealed secret with `keyring` and writes nothing: how many there are, or
/// the first that cannot be opened (a restore checks its backup so).
pub fn check_all(conn: &mut DbConn, keyring: &Keyring) -> Result<Rewrapped, RewrapError> {
    let mut opened = Rewrapped::default();
    for row in sealed::rows(conn, None)? {
        open(keyring, &row)?;
        opened.count(row.kind);
    }
    Ok(opened)
}

/// Re-encrypts, in one transaction, every row not sealed by the newest key. Nothing is
/// written when any row cannot be decrypted.
pub fn rewrap_all(conn: &mut DbConn, keyring: &Keyring) -> Result<Rewrapped, RewrapError> {
    let newest = keyring.current_key_id().to_owned();
    conn.write(|conn| {
        let mut done = Rewrapped::default();
        for row in sealed::rows(conn, Some(&newest))? {
            let plain = open(keyring, &row)?;
            let sealed = keyring.seal(&plain, &aad(&row));
            sealed::reseal(conn, row.kind, &row.id, sealed.bytes, &sealed.key_id)?;
            done.count(row.kind);
        }
        Ok(done)
    })
}
