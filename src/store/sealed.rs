//! The rows that hold a secret sealed under the keyring (TOTP secrets, signing keys),
//! for checking and re-encrypting them all (`crate::rewrap`).

use diesel::prelude::*;

use super::schema::{signing_keys, totp_credentials};
use super::{DbConn, StoreError};

/// Which kind of row a sealed secret is in; it decides the secret's associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedKind {
    TotpSecret,
    SigningKey,
}

/// One sealed secret: its row, the user it belongs to (TOTP secrets; empty for signing
/// keys), the ciphertext and the id of the key that sealed it.
#[derive(Debug, Clone)]
pub struct SealedRow {
    pub kind: SealedKind,
    pub id: String,
    pub user_id: String,
    pub bytes: Vec<u8>,
    pub key_id: String,
}

/// Every sealed secret, or only those not sealed by `except_key`: TOTP secrets first.
pub fn rows(conn: &mut DbConn, except_key: Option<&str>) -> Result<Vec<SealedRow>, StoreError> {
    let credentials: Vec<(String, String, Vec<u8>, String)> = crate::native!(conn, |c| {
        let mut query = totp_credentials::table
            .select((
                totp_credentials::id,
                totp_credentials::user_id,
                totp_credentials::secret_ciphertext,
                totp_credentials::key_id,
            ))
            .into_boxed();
        if let Some(key) = except_key {
            query = query.filter(totp_credentials::key_id.ne(key));
        }
        query.load(c)
    })?;
    let keys: Vec<(String, Vec<u8>, String)> = crate::native!(conn, |c| {
        let mut query = signing_keys::table
            .select((signing_keys::id, signing_keys::private_ciphertext, signing_keys::key_id))
            .into_boxed();
        if let Some(key) = except_key {
            query = query.filter(signing_keys::key_id.ne(key));
        }
        query.load(c)
    })?;
    let credentials = credentials.into_iter().map(|(id, user_id, bytes, key_id)| SealedRow {
        kind: SealedKind::TotpSecret,
        id,
        user_id,
        bytes,
        key_id,
    });
    let keys = keys.into_iter().map(|(id, bytes, key_id)| SealedRow {
        kind: SealedKind::SigningKey,
        id,
        user_id: String::new(),
        bytes,
        key_id,
    });
    Ok(credentials.chain(keys).collect())
}

/// Stores `bytes`, sealed by `key_id`, as the secret of the row `kind`/`id`.
pub fn reseal(
    conn: &mut DbConn,
    kind: SealedKind,
    id: &str,
    bytes: Vec<u8>,
    key_id: &str,
) -> Result<(), StoreError> {
    match kind {
        SealedKind::TotpSecret => crate::native!(conn, |c| diesel::update(totp_credentials::table.find(id))
            .set((totp_credentials::secret_ciphertext.eq(bytes), totp_credentials::key_id.eq(key_id)))
            .execute(c))?,
        SealedKind::SigningKey => crate::native!(conn, |c| diesel::update(signing_keys::table.find(id))
            .set((signing_keys::private_ciphertext.eq(bytes), signing_keys::key_id.eq(key_id)))
            .execute(c))?,
    };
    Ok(())
}
