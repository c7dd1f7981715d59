//! DPoP (RFC 9449): a client proves, request by request, that it holds a private key, and
//! the tokens issued to it are bound to that key (`cnf.jkt`, its RFC 7638 thumbprint),
//! so that a stolen access token — or a public client's stolen refresh token — is of no
//! use without the key.
//!
//! A proof is a JWT with `typ: dpop+jwt`, the public key in its `jwk` header (never a
//! private one), signed with that key (ES256, RS256 or EdDSA), and claims `jti` (used
//! once), `htm` and `htu` (this request's method and URL), `iat` (within a minute of
//! now) and, with an access token, `ath` (its SHA-256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::ephemeral::{Ephemeral, EphemeralError};

/// The algorithms a proof may be signed with (advertised in discovery).
pub const ALGS: [&str; 3] = ["ES256", "RS256", "EdDSA"];
/// How far a proof's `iat` may be from now, either way.
pub const IAT_WINDOW: i64 = 60;
/// Longer proofs are refused unread.
const MAX_PROOF: usize = 8192;

#[derive(Deserialize)]
struct ProofClaims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
}

/// What a request's proof must match.
pub struct Expected<'a> {
    /// The request's method (`POST`).
    pub method: &'a str,
    /// The request's URL without query or fragment, as the client addressed it.
    pub url: &'a str,
    /// The access token it comes with, if any (its hash must be `ath`).
    pub access_token: Option<&'a str>,
}

/// `url` without query and fragment (RFC 9449 §4.3: htu compares so).
fn bare(url: &str) -> Option<String> {
    let mut parsed = url::Url::parse(url).ok()?;
    parsed.set_query(None);
    parsed.set_fragment(None);
    Some(parsed.to_string())
}

/// The base64url SHA-256 of an access token: a proof's `ath`.
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// Checks `proof` against `expected`; the thumbprint of its key (`Ok(Ok(jkt))`), or why
/// it is refused (`Ok(Err(reason))`). Each proof is accepted once: its `jti` is claimed
/// (with the key's thumbprint) in the ephemeral store for as long as its `iat` could pass.
pub async fn check(
    store: &Ephemeral,
    proof: &str,
    expected: &Expected<'_>,
    now: i64,
) -> Result<Result<String, &'static str>, EphemeralError> {
    let verified = match verify(proof, expected, now) {
        Ok(verified) => verified,
        Err(reason) => return Ok(Err(reason)),
    };
    let (jkt, jti) = verified;
    let ttl = u64::try_from(2 * IAT_WINDOW + 1).unwrap_or(121);
    if !store.claim(&format!("dpop-jti:{jkt}:{}", token_hash(&jti)), ttl, now).await? {
        return Ok(Err("the DPoP proof was already used"));
    }
    Ok(Ok(jkt))
}

/// The proof's key thumbprint and `jti`, if everything but its uniqueness holds.
fn verify(proof: &str, expected: &Expected<'_>, now: i64) -> Result<(String, String), &'static str> {
    if proof.len() > MAX_PROOF {
        return Err("the DPoP proof is too long");
    }
    let header = jsonwebtoken::decode_header(proof).map_err(|_| "the DPoP proof is not a JWT")?;
    if header.typ.as_deref() != Some("dpop+jwt") {
        return Err("the DPoP proof's typ is not dpop+jwt");
    }
    if !matches!(header.alg, Algorithm::ES256 | Algorithm::RS256 | Algorithm::EdDSA) {
        return Err("the DPoP proof's algorithm is not supported");
    }
    let jwk: Jwk = header.jwk.ok_or("the DPoP proof has no jwk")?;
    if has_private_parts(proof) {
        return Err("the DPoP proof's jwk holds a private key");
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "the DPoP proof's jwk is not a usable key")?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
        .map_err(|_| "the DPoP proof's signature or claims are invalid")?
        .claims;
    if claims.jti.is_empty() || claims.jti.len() > 256 {
        return Err("the DPoP proof's jti is missing or too long");
    }
    if claims.htm != expected.method {
        return Err("the DPoP proof is for another method");
    }
    if bare(&claims.htu).is_none() || bare(&claims.htu) != bare(expected.url) {
        return Err("the DPoP proof is for another URL");
    }
    if (claims.iat - now).abs() > IAT_WINDOW {
        return Err("the DPoP proof is too old or too new");
    }
    match (expected.access_token, claims.ath.as_deref()) {
        (Some(token), Some(ath)) if ath == token_hash(token) => {}
        (Some(_), _) => return Err("the DPoP proof's ath does not match the access token"),
        (None, _) => {}
    }
    let jkt = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| "the DPoP proof's jwk has no thumbprint")?;
    Ok((jkt, claims.jti))
}

/// Whether the proof's `jwk` header carries private key members (`d`, `p`, `q`, `k`…).
fn has_private_parts(proof: &str) -> bool {
    let Some(head) = proof.split('.').next() else { return true };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(head) else { return true };
    let Ok(header) = serde_json::from_slice::<serde_json::Value>(&bytes) else { return true };
    let Some(jwk) = header.get("jwk").and_then(|j| j.as_object()) else { return true };
    ["d", "p", "q", "dp", "dq", "qi", "k"].iter().any(|m| jwk.contains_key(*m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_compares_without_query_or_fragment() {
        assert_eq!(bare("https://id.example/token?x=1#f"), bare("https://id.example/token"));
        assert_ne!(bare("https://id.example/token"), bare("https://id.example/userinfo"));
        assert!(bare("not a url").is_none());
    }

    #[test]
    fn a_proof_that_is_not_a_jwt_is_refused() {
        let expected = Expected { method: "POST", url: "https://id.example/token", access_token: None };
        assert!(verify("garbage", &expected, 0).is_err());
        assert!(verify(&"a".repeat(MAX_PROOF + 1), &expected, 0).is_err());
    }
}
