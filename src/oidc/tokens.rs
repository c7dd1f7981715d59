//! Minting tokens: ID tokens built with openidconnect's claim types and signed through
//! jsonwebtoken (aws-lc-rs), RFC 9068 access tokens, and opaque refresh tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use openidconnect::core::CoreGenderClaim;
use openidconnect::{
    AccessTokenHash, AdditionalClaims, Audience, AuthenticationContextClass, AuthenticationMethodReference,
    ClientId, IdTokenClaims, IssuerUrl, Nonce, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::oidc::keys::{KeyError, KeySet, SigningAlg};
use crate::store::users::User;

/// ID and access tokens live this long.
pub const TOKEN_TTL: i64 = 900;
/// A refresh token granted `offline_access` outlives the SSO session by this much.
pub const OFFLINE_TTL: i64 = 30 * 24 * 3600;

/// The claims OpenID Connect lacks a field for: the session id (`sid`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl AdditionalClaims for SessionClaims {}

pub type IdClaims = IdTokenClaims<SessionClaims, CoreGenderClaim>;

/// What a token is issued for: who, to which client, how they signed in, what scope.
#[derive(Debug, Clone)]
pub struct Grant<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub user: &'a User,
    pub scope: &'a str,
    pub amr: Vec<String>,
    pub acr: String,
    pub auth_time: i64,
    pub session_id: Option<&'a str>,
    /// The refresh-token family the tokens belong to (revoking it revokes them).
    pub family_id: &'a str,
    pub nonce: Option<&'a str>,
    /// The DPoP key the access token is bound to (RFC 9449), if any.
    pub dpop_jkt: Option<&'a str>,
    /// The user claims the `claims` parameter asked for.
    pub claims: &'a crate::oidc::claims::Requested,
}

fn time(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

/// `at_hash`: the left half of the token's hash, with the hash of the signing algorithm
/// (SHA-256 for RS256/ES256, SHA-512 for EdDSA over Ed25519).
pub fn half_hash(alg: SigningAlg, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        SigningAlg::Rs256 | SigningAlg::Es256 => Sha256::digest(token.as_bytes()).to_vec(),
        SigningAlg::EdDsa => Sha512::digest(token.as_bytes()).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}

/// The ID token of `grant`, signed with the client's algorithm.
pub fn id_token(
    keys: &KeySet,
    alg: SigningAlg,
    grant: &Grant<'_>,
    access_token: &str,
    now: i64,
) -> Result<String, KeyError> {
    let user = grant.user;
    // The user claims (by scope and by the claims parameter) are added below, as userinfo
    // releases them ([`crate::oidc::claims::user_claims`]).
    let standard = StandardClaims::new(SubjectIdentifier::new(user.id.clone()));
    let claims: IdClaims = IdTokenClaims::new(
        IssuerUrl::new(grant.issuer.to_owned()).map_err(|e| KeyError::Sign(e.to_string()))?,
        vec![Audience::new(grant.client_id.to_owned())],
        time(now + TOKEN_TTL),
        time(now),
        standard,
        SessionClaims { sid: grant.session_id.map(str::to_owned) },
    )
    .set_auth_time(Some(time(grant.auth_time)))
    .set_nonce(grant.nonce.map(|n| Nonce::new(n.to_owned())))
    .set_auth_method_refs(Some(grant.amr.iter().cloned().map(AuthenticationMethodReference::new).collect()))
    .set_auth_context_ref(Some(AuthenticationContextClass::new(grant.acr.clone())))
    .set_authorized_party(Some(ClientId::new(grant.client_id.to_owned())))
    .set_access_token_hash(Some(AccessTokenHash::new(half_hash(alg, access_token))));
    // The openidconnect crate always writes `aud` as an array; with the one audience
    // an ID token has, it is a string, as most providers send it (OIDC Core §2 allows
    // either, and some relying parties accept only the string).
    let mut claims = serde_json::to_value(&claims).map_err(|e| KeyError::Sign(e.to_string()))?;
    if let Some(aud) = claims.get_mut("aud")
        && let Some([only]) = aud.as_array().map(Vec::as_slice)
    {
        *aud = only.clone();
    }
    if let Some(object) = claims.as_object_mut() {
        object.extend(crate::oidc::claims::user_claims(user, grant.scope, &grant.claims.id_token));
    }
    keys.sign(alg, "JWT", &claims)
}

/// RFC 9068 access token claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The grant (refresh-token family) the token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fam: Option<String>,
    /// The DPoP key it is bound to (RFC 9449 §6): presented with a proof by that key only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// The user claims userinfo releases for this token beyond its scope (the `claims`
    /// parameter's `userinfo` member).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uic: Vec<String>,
}

/// `cnf` (RFC 7800) as DPoP uses it: the key's RFC 7638 thumbprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub jkt: String,
}

/// An access token for a user grant, signed with the client's access-token algorithm.
pub fn access_token(keys: &KeySet, alg: SigningAlg, grant: &Grant<'_>, now: i64) -> Result<String, KeyError> {
    let claims = AccessClaims {
        iss: grant.issuer.to_owned(),
        sub: grant.user.id.clone(),
        aud: grant.client_id.to_owned(),
        client_id: grant.client_id.to_owned(),
        exp: now + TOKEN_TTL,
        iat: now,
        jti: crate::random::token(16),
        scope: grant.scope.to_owned(),
        auth_time: Some(grant.auth_time),
        acr: Some(grant.acr.clone()),
        amr: Some(grant.amr.clone()),
        sid: grant.session_id.map(str::to_owned),
        fam: Some(grant.family_id.to_owned()),
        cnf: grant.dpop_jkt.map(|jkt| Confirmation { jkt: jkt.to_owned() }),
        uic: grant.claims.userinfo.clone(),
    };
    keys.sign(alg, "at+jwt", &claims)
}

/// An access token for a client acting on its own behalf (client credentials).
pub fn client_access_token(
    keys: &KeySet,
    alg: SigningAlg,
    issuer: &str,
    client_id: &str,
    scope: &str,
    dpop_jkt: Option<&str>,
    now: i64,
) -> Result<String, KeyError> {
    let claims = AccessClaims {
        iss: issuer.to_owned(),
        sub: client_id.to_owned(),
        aud: client_id.to_owned(),
        client_id: client_id.to_owned(),
        exp: now + TOKEN_TTL,
        iat: now,
        jti: crate::random::token(16),
        scope: scope.to_owned(),
        auth_time: None,
        acr: None,
        amr: None,
        sid: None,
        fam: None,
        cnf: dpop_jkt.map(|jkt| Confirmation { jkt: jkt.to_owned() }),
        uic: Vec::new(),
    };
    keys.sign(alg, "at+jwt", &claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_follows_the_algorithm() {
        // OIDC Core §3.1.3.6: base64url of the left-most half of the hash.
        let token = "jHkWEdUXMU1BwAsC4vtUsZwnNJ1c6Vzwf7Wf5CQXpBg";
        assert_eq!(half_hash(SigningAlg::Rs256, token).len(), 22);
        assert_eq!(half_hash(SigningAlg::EdDsa, token).len(), 43);
        assert_eq!(half_hash(SigningAlg::Rs256, token), half_hash(SigningAlg::Es256, token));
    }
}
