//! Signing keys: generated with aws-lc-rs, stored in `signing_keys` with the private
//! part sealed by the keyring, and cached in memory as a [`KeySet`] that signs every
//! JWT (ID and access tokens alike) with aws-lc-rs and checks our own with jsonwebtoken.
//!
//! Rotation: `keys rotate` adds a `next` key per algorithm, published in JWKS at once;
//! once it is older than the rotation delay it becomes `active` (signing) and the old
//! active key becomes `retired`, still published until tokens signed by it have expired.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel::prelude::*;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey};

use crate::auth::keyring::Keyring;
use crate::store::schema::signing_keys;
use crate::store::{DbConn, StoreError};

mod set;

pub use set::{ActiveKey, CHECK_EVERY, Cached, KeyCache, KeySet};

/// How long a retired key stays in JWKS: longer than any JWT we sign lives.
pub const RETIRED_KEEP_SECS: i64 = 24 * 3600;

/// The algorithms a client may choose for its ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigningAlg {
    Rs256,
    Es256,
    EdDsa,
}

impl SigningAlg {
    pub const ALL: [Self; 3] = [Self::Rs256, Self::Es256, Self::EdDsa];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "RS256" => Ok(Self::Rs256),
            "ES256" => Ok(Self::Es256),
            "EdDSA" => Ok(Self::EdDsa),
            other => Err(format!("invalid signing algorithm '{other}': expected RS256, ES256 or EdDSA")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    fn jwt(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing key {kid}: {reason}")]
    Broken { kid: String, reason: String },
    #[error("no active {0} signing key")]
    Missing(&'static str),
    #[error("signing failed: {0}")]
    Sign(String),
}

impl crate::store::Contended for KeyError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(StoreError::Busy(_)))
    }
}

impl From<diesel::result::Error> for KeyError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = signing_keys, treat_none_as_default_value = false)]
pub struct KeyRow {
    pub id: String,
    pub algorithm: String,
    pub private_ciphertext: Vec<u8>,
    pub key_id: String,
    pub public_jwk: String,
    pub status: String,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    pub retired_at: Option<i64>,
}

pub fn aad(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

fn pem(label: &str, der: &[u8]) -> String {
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", STANDARD.encode(der))
}

/// A fresh key pair as PKCS#8 DER.
fn generate(alg: SigningAlg) -> Result<Vec<u8>, String> {
    let err = |_| format!("{} key generation failed", alg.as_str());
    match alg {
        SigningAlg::Rs256 => {
            let pair = aws_lc_rs::rsa::KeyPair::generate(KeySize::Rsa2048).map_err(err)?;
            Ok(pair.as_der().map_err(err)?.as_ref().to_vec())
        }
        SigningAlg::Es256 => {
            let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(err)?;
            Ok(pair.to_pkcs8v1().map_err(err)?.as_ref().to_vec())
        }
        SigningAlg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(err)?;
            Ok(pair.to_pkcs8v1().map_err(err)?.as_ref().to_vec())
        }
    }
}

fn encoding_key(alg: SigningAlg, pkcs8: &[u8]) -> jsonwebtoken::errors::Result<EncodingKey> {
    let pem = pem("PRIVATE KEY", pkcs8);
    match alg {
        SigningAlg::Rs256 => EncodingKey::from_rsa_pem(pem.as_bytes()),
        SigningAlg::Es256 => EncodingKey::from_ec_pem(pem.as_bytes()),
        SigningAlg::EdDsa => EncodingKey::from_ed_pem(pem.as_bytes()),
    }
}

/// The public JWK of a key, with `kid`, `use` and `alg`.
fn public_jwk(alg: SigningAlg, kid: &str, key: &EncodingKey) -> jsonwebtoken::errors::Result<Jwk> {
    let mut jwk = Jwk::from_encoding_key(key, alg.jwt())?;
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(match alg {
        SigningAlg::Rs256 => KeyAlgorithm::RS256,
        SigningAlg::Es256 => KeyAlgorithm::ES256,
        SigningAlg::EdDsa => KeyAlgorithm::EdDSA,
    });
    Ok(jwk)
}

/// Publishes a next key of `alg` in the JWKS that starts signing `delay` seconds from
/// `now` — on every instance, whatever delay each is configured with (the moment is kept
/// in the row's `activated_at` until it signs).
pub fn publish_next(
    conn: &mut DbConn,
    keyring: &Keyring,
    alg: SigningAlg,
    delay: i64,
    now: i64,
) -> Result<KeyRow, KeyError> {
    let mut row = create(conn, keyring, alg, "next", now)?;
    row.activated_at = Some(now.saturating_add(delay.max(0)));
    diesel::update(signing_keys::table.find(&row.id))
        .set(signing_keys::activated_at.eq(row.activated_at))
        .execute(conn)?;
    Ok(row)
}

/// Creates and stores a new key of `alg` with `status`.
pub fn create(
    conn: &mut DbConn,
    keyring: &Keyring,
    alg: SigningAlg,
    status: &str,
    now: i64,
) -> Result<KeyRow, KeyError> {
    let kid = crate::random::token(12);
    let broken = |reason: String| KeyError::Broken { kid: kid.clone(), reason };
    let pkcs8 = generate(alg).map_err(broken)?;
    let key = encoding_key(alg, &pkcs8).map_err(|e| broken(e.to_string()))?;
    let jwk = public_jwk(alg, &kid, &key).map_err(|e| broken(e.to_string()))?;
    let sealed = keyring.seal(&pkcs8, &aad(&kid));
    let row = KeyRow {
        id: kid.clone(),
        algorithm: alg.as_str().to_owned(),
        private_ciphertext: sealed.bytes,
        key_id: sealed.key_id,
        public_jwk: serde_json::to_string(&jwk).map_err(|e| broken(e.to_string()))?,
        status: status.to_owned(),
        created_at: now,
        activated_at: (status == "active").then_some(now),
        retired_at: None,
    };
    diesel::insert_into(signing_keys::table).values(&row).execute(conn)?;
    Ok(row)
}

/// What tells one state of the keys from another: each key's id, status and moments,
/// without key material — cheap enough for every instance to compare every
/// [`CHECK_EVERY`] seconds, so that a rotation anywhere (another instance, the CLI)
/// reaches its JWKS within seconds on every backend.
pub fn stamp(conn: &mut DbConn) -> Result<String, KeyError> {
    let rows: Vec<(String, String, Option<i64>, Option<i64>)> = signing_keys::table
        .select((
            signing_keys::id,
            signing_keys::status,
            signing_keys::activated_at,
            signing_keys::retired_at,
        ))
        .load(conn)?;
    Ok(stamp_of(rows))
}

fn stamp_of(mut rows: Vec<(String, String, Option<i64>, Option<i64>)>) -> String {
    rows.sort();
    rows.iter()
        .map(|(id, status, on, off)| format!("{id}:{status}:{on:?}:{off:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn list(conn: &mut DbConn) -> Result<Vec<KeyRow>, KeyError> {
    Ok(signing_keys::table
        .order((signing_keys::algorithm, signing_keys::created_at))
        .select(KeyRow::as_select())
        .load(conn)?)
}

/// Makes sure every algorithm has an active key; promotes `next` keys older than
/// `delay`, retiring the keys they replace; forgets retired keys past their keep time.
pub fn maintain(conn: &mut DbConn, keyring: &Keyring, delay: i64, now: i64) -> Result<(), KeyError> {
    conn.write(|conn| {
        let rows = list(conn)?;
        for alg in SigningAlg::ALL {
            let of_alg: Vec<&KeyRow> = rows.iter().filter(|r| r.algorithm == alg.as_str()).collect();
            // A published key carries the moment it was told it would sign (the delay of
            // whoever published it); an older row without one waits this process's delay.
            let due = of_alg
                .iter()
                .filter(|r| r.status == "next" && r.activated_at.unwrap_or(r.created_at + delay) <= now)
                .max_by_key(|r| r.created_at);
            if let Some(next) = due {
                diesel::update(
                    signing_keys::table
                        .filter(signing_keys::algorithm.eq(alg.as_str()))
                        .filter(signing_keys::status.eq("active")),
                )
                .set((signing_keys::status.eq("retired"), signing_keys::retired_at.eq(now)))
                .execute(conn)?;
                diesel::update(signing_keys::table.find(&next.id))
                    .set((signing_keys::status.eq("active"), signing_keys::activated_at.eq(now)))
                    .execute(conn)?;
            } else if !of_alg.iter().any(|r| r.status == "active") {
                create(conn, keyring, alg, "active", now)?;
            }
        }
        diesel::delete(
            signing_keys::table
                .filter(signing_keys::status.eq("retired"))
                .filter(signing_keys::retired_at.lt(now - RETIRED_KEEP_SECS)),
        )
        .execute(conn)?;
        Ok(())
    })
}
