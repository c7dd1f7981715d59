//! The refresh-token grant (RFC 6749 §6): rotation on every use, reuse ending the
//! family (RFC 9700 §4.14.2), and the one exception — a rotation whose answer was lost
//! when the server process that made it died.

use super::{Issue, Step, TokenError, TokenRequest, admitted_user, new_refresh, refuse};
use crate::oidc::has_scope;
use crate::random::secret_hash;
use crate::store::clients::Client;
use crate::store::sessions;
use crate::store::tokens::{self as rows, RefreshToken};
use crate::store::{DbConn, StoreError, audit};

/// An audit event about `row`'s user, by the client on the back channel.
fn record_refresh(
    conn: &mut DbConn,
    client: &Client,
    row: &RefreshToken,
    event: &str,
    now: i64,
) -> Result<(), StoreError> {
    let detail = serde_json::json!({ "client_id": client.id });
    audit::record(conn, &client.tenant_id, &audit::Origin::default(), Some(&row.user_id), event, detail, now)
}

/// RFC 9700 §4.14.2: a rotated refresh token used again means it leaked; end the family.
fn reused(conn: &mut DbConn, client: &Client, row: &RefreshToken, now: i64) -> Step {
    rows::revoke_family(conn, &row.family_id, now)?;
    record_refresh(conn, client, row, "oauth.refresh_reused", now)?;
    refuse(TokenError::InvalidGrant("the refresh token was already used"))
}

/// The running server process, as token rotation needs to know it.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Random, new at every start.
    pub id: String,
    /// When this process started (Unix seconds, by the server's clock).
    pub started_at: i64,
    /// The installation's TOTP switch, which the gate ([`crate::auth::gate`]) weighs.
    pub totp_enabled: bool,
}

/// How long after a rotation its lost answer may be asked for again (see below).
pub const RETRY_GRACE: i64 = 600;

/// A rotation whose answer was lost: `row` was rotated by another server process that
/// had done so before this one started (so, with one instance, a process that has
/// since stopped), and the successor was never used. A crash between the commit and the response leaves exactly that, and the
/// client, holding only `row`, must not be taken for a thief. The unused successor is
/// retired and a new one issued; should it reach someone after all, its use is a reuse
/// and ends the family. Rotations by this very process (a race, a replay) stay reuses.
pub(super) fn lost_rotation(
    conn: &mut DbConn,
    row: &RefreshToken,
    instance: &Instance,
    now: i64,
) -> Result<Option<RefreshToken>, StoreError> {
    let Some(rotated_at) = row.rotated_at else { return Ok(None) };
    if now - rotated_at > RETRY_GRACE {
        return Ok(None);
    }
    Ok(rows::unused_successor(conn, row)?.filter(|next| {
        next.issued_by.as_deref() != Some(instance.id.as_str()) && next.created_at <= instance.started_at
    }))
}

pub(super) fn redeem(
    conn: &mut DbConn,
    client: &Client,
    req: &TokenRequest,
    instance: &Instance,
    now: i64,
) -> Step {
    let Some(token) = req.refresh_token.as_deref().filter(|t| !t.is_empty()) else {
        return refuse(TokenError::InvalidRequest("refresh_token is missing"));
    };
    let hash = secret_hash(token);
    let Some(row) = rows::find_locked(conn, &hash)? else {
        return refuse(TokenError::InvalidGrant("unknown refresh token"));
    };
    if row.client_id != client.id {
        return refuse(TokenError::InvalidGrant("the refresh token was issued to another client"));
    }
    if row.revoked_at.is_some() {
        return refuse(TokenError::InvalidGrant("the refresh token has been revoked"));
    }
    // Bound to a DPoP key: only a proof by that key uses it (refused before anything is
    // written, so the token stays usable by its holder).
    if let Some(bound) = &row.dpop_jkt
        && req.dpop_jkt.as_deref() != Some(bound.as_str())
    {
        return refuse(TokenError::InvalidDpopProof("the refresh token is bound to another DPoP key"));
    }
    let lost = match row.rotated_at {
        None => None,
        Some(_) => match lost_rotation(conn, &row, instance, now)? {
            Some(successor) => Some(successor),
            None => return reused(conn, client, &row, now),
        },
    };
    if row.expires_at <= now {
        return refuse(TokenError::InvalidGrant("the refresh token has expired"));
    }
    let session = match &row.session_id {
        Some(id) => sessions::find(conn, id)?,
        None => None,
    };
    if !row.offline && session.as_ref().is_none_or(|s| s.revoked_at.is_some() || s.expires_at <= now) {
        return refuse(TokenError::InvalidGrant("the sign-in session has ended"));
    }
    let scope = match req.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => row.scope.clone(),
        // RFC 6749 §6: a refresh may narrow the scope, never widen it.
        Some(asked) if asked.split(' ').filter(|s| !s.is_empty()).all(|s| has_scope(&row.scope, s)) => {
            asked.split(' ').filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
        }
        Some(_) => return refuse(TokenError::InvalidScope("the requested scope exceeds the original grant")),
    };
    let Some(user) = admitted_user(conn, &row.user_id, session.as_ref(), client, instance, now)? else {
        return refuse(TokenError::InvalidGrant("the user cannot sign in"));
    };
    // Checked last, so that a refused request leaves the token usable; a lost race is a reuse.
    let retiring = lost.as_ref().map_or(hash.as_str(), |successor| successor.token_hash.as_str());
    if !rows::rotate(conn, retiring, now)? {
        return reused(conn, client, &row, now);
    }
    if lost.is_some() {
        record_refresh(conn, client, &row, "oauth.refresh_answer_lost", now)?;
    }
    let (token, refresh) = new_refresh(
        client,
        &user.id,
        session.as_ref(),
        &row.family_id,
        row.auth_code_hash.as_deref(),
        &scope,
        row.expires_at,
        now,
    );
    let refresh = RefreshToken {
        offline: row.offline,
        issued_by: Some(instance.id.clone()),
        // The presented token: should this answer be lost too, it can be asked again.
        parent_hash: Some(hash),
        dpop_jkt: row.dpop_jkt.clone(),
        claims: row.claims.clone(),
        ..refresh
    };
    rows::insert(conn, &refresh)?;
    let claims = crate::oidc::claims::Requested::from_stored(row.claims.as_deref());
    Ok(Ok(Issue {
        user,
        session,
        scope,
        nonce: None,
        family_id: row.family_id,
        refresh_token: Some(token),
        claims,
    }))
}
