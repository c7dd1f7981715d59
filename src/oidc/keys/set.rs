//! The keys as the server uses them: each active private key parsed once, the JWKS,
//! and the cache every worker shares.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde::Serialize;

use super::{KeyError, SigningAlg, aad, list, maintain, stamp, stamp_of};
use crate::auth::keyring::{Keyring, Sealed};
use crate::store::{Db, DbConn};

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
