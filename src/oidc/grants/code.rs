//! The authorization-code grant (RFC 6749 §4.1.3): a code is single use (a second use
//! revokes what the first issued), bound to its client, redirect URI and PKCE verifier
//! (RFC 7636 §4.6), and good only while its session lasts and the gate admits the user.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Instance, Issue, Step, TokenError, TokenRequest, admitted_user, new_refresh, refuse};
use crate::oidc::claims::Requested;
use crate::oidc::has_scope;
use crate::oidc::tokens::OFFLINE_TTL;
use crate::random::secret_hash;
use crate::store::clients::Client;
use crate::store::tokens::{self as rows, RefreshToken};
use crate::store::{DbConn, audit, sessions};

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge, in constant time.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// The database step of a code exchange: spends the code (a second use revokes what the
/// first issued), checks its bindings, and issues the refresh token in the same transaction.
pub(super) fn redeem(
    conn: &mut DbConn,
    client: &Client,
    req: &TokenRequest,
    instance: &Instance,
    now: i64,
) -> Step {
    let Some(code) = req.code.as_deref().filter(|c| !c.is_empty()) else {
        return refuse(TokenError::InvalidRequest("code is missing"));
    };
    let Some(redirect_uri) = req.redirect_uri.as_deref() else {
        return refuse(TokenError::InvalidRequest("redirect_uri is missing"));
    };
    let hash = secret_hash(code);
    let Some(row) = rows::find_code(conn, &hash)? else {
        return refuse(TokenError::InvalidGrant("unknown authorization code"));
    };
    if row.client_id != client.id {
        return refuse(TokenError::InvalidGrant("the code was issued to another client"));
    }
    if !rows::consume_code(conn, &hash, now)? {
        // A second use: someone else may hold the code. Revoke what the first use issued.
        let revoked = rows::revoke_by_code(conn, &hash, now)?;
        audit::record(
            conn,
            &client.tenant_id,
            &audit::Origin::default(),
            Some(&row.user_id),
            "oauth.code_reused",
            serde_json::json!({ "client_id": client.id, "revoked_tokens": revoked }),
            now,
        )?;
        return refuse(TokenError::InvalidGrant("the authorization code was already used"));
    }
    if row.expires_at <= now {
        return refuse(TokenError::InvalidGrant("the authorization code has expired"));
    }
    if row.redirect_uri != redirect_uri {
        return refuse(TokenError::InvalidGrant("redirect_uri does not match the authorization request"));
    }
    match (row.code_challenge.as_deref(), req.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce_matches(verifier, challenge) => {}
        (Some(_), _) => return refuse(TokenError::InvalidGrant("the PKCE code verifier does not match")),
        (None, Some(_)) => {
            return refuse(TokenError::InvalidGrant("no code challenge was sent for this code"));
        }
        (None, None) => {}
    }
    let Some(session) = sessions::find(conn, &row.session_id)?.filter(|s| s.revoked_at.is_none()) else {
        return refuse(TokenError::InvalidGrant("the sign-in session has ended"));
    };
    let Some(user) = admitted_user(conn, &row.user_id, Some(&session), client, instance, now)? else {
        return refuse(TokenError::InvalidGrant("the user cannot sign in"));
    };
    if client.backchannel_logout_uri.is_some() {
        // The client is told when this session ends (crate::oidc::backchannel).
        crate::store::logouts::enlist(conn, &session.id, &client.id, now)?;
    }
    let family_id = crate::random::token(16);
    let refresh_token = if client.allow_refresh {
        let expires =
            if has_scope(&row.scope, "offline_access") { now + OFFLINE_TTL } else { session.expires_at };
        let (token, refresh) =
            new_refresh(client, &user.id, Some(&session), &family_id, Some(&hash), &row.scope, expires, now);
        // A public client's refresh token is bound to its DPoP key (RFC 9449 §5): a
        // confidential client's is bound to its authentication already.
        let dpop_jkt = req.dpop_jkt.clone().filter(|_| client.secret_hash.is_none());
        let claims = row.claims.clone();
        rows::insert(
            conn,
            &RefreshToken { issued_by: Some(instance.id.clone()), dpop_jkt, claims, ..refresh },
        )?;
        Some(token)
    } else {
        None
    };
    Ok(Ok(Issue {
        user,
        session: Some(session),
        scope: row.scope,
        nonce: row.nonce,
        family_id,
        refresh_token,
        claims: Requested::from_stored(row.claims.as_deref()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256() {
        // The pair computed independently with Python's hashlib and base64.
        let challenge = "DTkdPzcM-m1X8RtDYoMs_18P7vU9_kfAuiOgyFdXPrs";
        assert!(pkce_matches("dBjftJeZ4CVP-mJ92K9a3Lp5r4fuF5F7pNCZgvcqCx4", challenge));
        assert!(!pkce_matches("dBjftJeZ4CVP-mJ92K9a3Lp5r4fuF5F7pNCZgvcqCx5", challenge));
        assert!(!pkce_matches("short", challenge), "verifiers are 43-128 characters");
    }
}
