//! Signing keys: generated with aws-lc-rs, stored in `signing_keys` with the private
//! part sealed by the keyring, cached in memory, and used through jsonwebtoken on
//! aws-lc-rs for every JWT (ID and access tokens alike).
//!
//! Rotation: `keys rotate` adds a `next` key per algorithm, published in JWKS at once;
//! once it is older than the rotation delay it becomes `active` (signing) and the old
//! active key becomes `retired`, still published until tokens signed by it have expired.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use diesel::prelude::*;
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;

use crate::auth::keyring::{Keyring, Sealed};
use crate::store::schema::signing_keys;
use crate::store::{Db, DbConn, StoreError};

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
#[diesel(table_name = signing_keys)]
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
    let kid = crate::auth::random::token(12);
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

/// A private key parsed once, when the key set loads.
///
/// jsonwebtoken's aws-lc-rs backend parses (and for RSA validates) the private key again
/// at every signature: about 1 ms of the 1.5–2 ms an RS256 token cost the server. So the
/// server makes the JWS compact form itself (RFC 7515 §7.1: two base64url JSON parts and
/// the signature) with these parsed keys; verification stays with jsonwebtoken.
enum Signer {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

impl Signer {
    fn parse(alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, String> {
        match alg {
            SigningAlg::Rs256 => {
                aws_lc_rs::rsa::KeyPair::from_pkcs8(pkcs8).map(Self::Rsa).map_err(|e| e.to_string())
            }
            SigningAlg::Es256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map(Self::Ec)
                .map_err(|e| e.to_string()),
            SigningAlg::EdDsa => Ed25519KeyPair::from_pkcs8(pkcs8).map(Self::Ed).map_err(|e| e.to_string()),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        match self {
            Self::Rsa(key) => {
                let mut signature = vec![0; key.public_modulus_len()];
                key.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(|e| e.to_string())?;
                Ok(signature)
            }
            // FIXED: r || s, as JWS wants (RFC 7518 §3.4), not DER.
            Self::Ec(key) => key.sign(&rng, message).map(|s| s.as_ref().to_vec()).map_err(|e| e.to_string()),
            Self::Ed(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }
}

/// One part of a JWS compact form: base64url (no padding) of the JSON.
fn b64_json<T: Serialize>(value: &T) -> Result<String, KeyError> {
    serde_json::to_vec(value)
        .map(|json| URL_SAFE_NO_PAD.encode(json))
        .map_err(|e| KeyError::Sign(e.to_string()))
}

/// An active key, ready to sign.
pub struct ActiveKey {
    pub kid: String,
    pub alg: SigningAlg,
    signer: Signer,
}

/// The keys as the server uses them: active keys by algorithm, and the JWKS document.
pub struct KeySet {
    active: HashMap<SigningAlg, ActiveKey>,
    /// Every published key by `kid`, for checking our own tokens.
    verifiers: HashMap<String, (Algorithm, DecodingKey)>,
    pub jwks: serde_json::Value,
    pub loaded_at: i64,
    /// The keys' [`stamp`] when loaded.
    pub stamp: String,
    /// The next moment a published key is to start signing (then the set is reloaded).
    next_change: Option<i64>,
}

impl KeySet {
    pub fn load(conn: &mut DbConn, keyring: &Keyring, now: i64) -> Result<Self, KeyError> {
        let rows = list(conn)?;
        let mut active = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        for row in &rows {
            let broken = |reason: String| KeyError::Broken { kid: row.id.clone(), reason };
            let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(|e| broken(e.to_string()))?;
            let alg = SigningAlg::parse(&row.algorithm).map_err(broken)?;
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| broken(e.to_string()))?;
            verifiers.insert(row.id.clone(), (alg.jwt(), decoding));
            published.push(jwk);
            if row.status != "active" {
                continue;
            }
            let alg = SigningAlg::parse(&row.algorithm)
                .map_err(|reason| KeyError::Broken { kid: row.id.clone(), reason })?;
            let sealed = Sealed { key_id: row.key_id.clone(), bytes: row.private_ciphertext.clone() };
            let pkcs8 = keyring
                .open(&sealed, &aad(&row.id))
                .map_err(|e| KeyError::Broken { kid: row.id.clone(), reason: e.to_string() })?;
            let signer = Signer::parse(alg, &pkcs8)
                .map_err(|reason| KeyError::Broken { kid: row.id.clone(), reason })?;
            active.insert(alg, ActiveKey { kid: row.id.clone(), alg, signer });
        }
        let stamp = stamp_of(
            rows.iter().map(|r| (r.id.clone(), r.status.clone(), r.activated_at, r.retired_at)).collect(),
        );
        let next_change = rows
            .iter()
            .filter(|r| r.status == "next")
            .filter_map(|r| r.activated_at)
            .filter(|&at| at > now)
            .min();
        Ok(Self {
            active,
            verifiers,
            jwks: serde_json::json!({ "keys": published }),
            loaded_at: now,
            stamp,
            next_change,
        })
    }

    /// Checks a JWT we signed: a published `kid`, its algorithm, the signature, `typ`,
    /// and (unless `allow_expired`) `exp`. The caller checks the other claims.
    pub fn verify<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        typ: &str,
        allow_expired: bool,
    ) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (alg, key) = self.verifiers.get(header.kid.as_deref()?)?;
        if header.alg != *alg || !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
            return None;
        }
        let mut validation = Validation::new(*alg);
        validation.validate_aud = false;
        validation.validate_exp = !allow_expired;
        validation.leeway = 0;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, key, &validation).ok().map(|data| data.claims)
    }

    /// Signs `claims` with the active key of `alg`, with `typ` in the header.
    pub fn sign<T: Serialize>(&self, alg: SigningAlg, typ: &str, claims: &T) -> Result<String, KeyError> {
        let key = self.active.get(&alg).ok_or(KeyError::Missing(alg.as_str()))?;
        let mut header = Header::new(key.alg.jwt());
        header.kid = Some(key.kid.clone());
        header.typ = Some(typ.to_owned());
        let message = format!("{}.{}", b64_json(&header)?, b64_json(claims)?);
        let signature = key.signer.sign(message.as_bytes()).map_err(KeyError::Sign)?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// How often an instance compares its keys' [`stamp`] with the database's.
pub const CHECK_EVERY: i64 = 2;

/// The key set shared by all workers. It is reloaded from the database after `ttl`
/// seconds, when a published key's moment to sign has come, and as soon as a stamp
/// check (every [`CHECK_EVERY`] seconds) finds the keys changed — by a rotation on
/// another instance or through the CLI.
#[derive(Clone)]
pub struct KeyCache {
    current: Arc<RwLock<Option<Arc<KeySet>>>>,
    ttl: i64,
    checked_at: Arc<AtomicI64>,
}

/// What the cache can answer without a full reload.
pub enum Cached {
    /// Use it.
    Fresh(Arc<KeySet>),
    /// Use it if the database's stamp still matches it (then [`KeyCache::checked`]).
    Check(Arc<KeySet>),
    /// Reload.
    Stale,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache").field("ttl", &self.ttl).finish()
    }
}

impl KeyCache {
    pub fn new(ttl: i64) -> Self {
        Self { current: Arc::new(RwLock::new(None)), ttl, checked_at: Arc::new(AtomicI64::new(i64::MIN)) }
    }

    pub fn lookup(&self, now: i64) -> Cached {
        let guard = self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        match guard.as_ref() {
            Some(set) if set.loaded_at + self.ttl > now && set.next_change.is_none_or(|at| now < at) => {
                if now.saturating_sub(self.checked_at.load(Ordering::Relaxed)) < CHECK_EVERY {
                    Cached::Fresh(set.clone())
                } else {
                    Cached::Check(set.clone())
                }
            }
            _ => Cached::Stale,
        }
    }

    /// The database's stamp matched at `now`.
    pub fn checked(&self, now: i64) {
        self.checked_at.store(now, Ordering::Relaxed);
    }

    /// The signing keys, reloaded (and rotated when due) once the cache is stale or the
    /// keys changed elsewhere.
    pub async fn current(
        &self,
        db: &Db,
        keyring: &Arc<Keyring>,
        rotation_delay: i64,
        now: i64,
    ) -> Result<Arc<KeySet>, KeyError> {
        match self.lookup(now) {
            Cached::Fresh(set) => return Ok(set),
            Cached::Check(set) => {
                if db.run(stamp).await? == set.stamp {
                    self.checked(now);
                    return Ok(set);
                }
            }
            Cached::Stale => {}
        }
        let keyring = keyring.clone();
        let set = db
            .run(move |conn| {
                maintain(conn, &keyring, rotation_delay, now)?;
                KeySet::load(conn, &keyring, now)
            })
            .await?;
        Ok(self.store(set))
    }

    pub fn store(&self, set: KeySet) -> Arc<KeySet> {
        self.checked(set.loaded_at);
        let set = Arc::new(set);
        *self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(set.clone());
        set
    }
}
