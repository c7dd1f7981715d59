//! `refresh_tokens` and `authorization_codes`: a code's single use by a conditional
//! UPDATE, rotation, and revocation of whole families.

use diesel::prelude::*;

use super::prepared;
use super::schema::{authorization_codes, refresh_tokens};
use super::{DbConn, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = authorization_codes, treat_none_as_default_value = false)]
pub struct AuthorizationCode {
    pub code_hash: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
    /// The user claims the `claims` parameter asked for ([`crate::oidc::claims::Requested`]).
    pub claims: Option<String>,
}

pub fn insert_code(conn: &mut DbConn, code: &AuthorizationCode) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(authorization_codes::table).values(code).execute(c))?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens, treat_none_as_default_value = false)]
pub struct RefreshToken {
    /// SHA-256 of the token.
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub session_id: Option<String>,
    /// The code whose exchange started this family.
    pub auth_code_hash: Option<String>,
    pub scope: String,
    pub offline: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub rotated_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The server process (its random instance id) that issued the token.
    pub issued_by: Option<String>,
    /// The token this one replaced (none for the first of a family).
    pub parent_hash: Option<String>,
    /// The DPoP key (RFC 7638 thumbprint) a public client's token is bound to.
    pub dpop_jkt: Option<String>,
    /// The user claims the grant's `claims` parameter asked for.
    pub claims: Option<String>,
}

pub fn find_code(conn: &mut DbConn, code_hash: &str) -> Result<Option<AuthorizationCode>, StoreError> {
    Ok(crate::native!(conn, |c| authorization_codes::table
        .find(code_hash)
        .select(AuthorizationCode::as_select())
        .load(c))?
    .into_iter()
    .next())
}

/// Marks the code used; false when it had been used already.
pub fn consume_code(conn: &mut DbConn, code_hash: &str, now: i64) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| prepared::update(
        authorization_codes::table,
        authorization_codes::consumed_at.eq(now),
        authorization_codes::code_hash.eq(code_hash).and(authorization_codes::consumed_at.is_null()),
    )
    .execute(c))?;
    Ok(updated == 1)
}

pub fn insert(conn: &mut DbConn, token: &RefreshToken) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(refresh_tokens::table).values(token).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
    Ok(crate::native!(conn, |c| refresh_tokens::table
        .find(token_hash)
        .select(RefreshToken::as_select())
        .load(c))?
    .into_iter()
    .next())
}

/// As [`find`], the row locked until the transaction ends (PostgreSQL; SQLite's write
/// transactions hold the whole database). A rotation still in flight — say, committed by
/// a process killed just after it sent the commit — is waited for, so what is decided
/// about the token (used, or its answer lost) is decided on what was really written.
pub fn find_locked(conn: &mut DbConn, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
    Ok(match conn {
        DbConn::Pg(c) => refresh_tokens::table
            .find(token_hash)
            .select(RefreshToken::as_select())
            .for_update()
            .first(c)
            .optional()?,
        DbConn::Sqlite(_) => find(conn, token_hash)?,
    })
}

/// Marks the token rotated; false when it was rotated or revoked already (a reuse).
pub fn rotate(conn: &mut DbConn, token_hash: &str, now: i64) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| prepared::update(
        refresh_tokens::table,
        refresh_tokens::rotated_at.eq(now),
        refresh_tokens::token_hash
            .eq(token_hash)
            .and(refresh_tokens::rotated_at.is_null())
            .and(refresh_tokens::revoked_at.is_null()),
    )
    .execute(c))?;
    Ok(updated == 1)
}

/// The token that replaced `row`, when it has not been used (rotated) or revoked.
pub fn unused_successor(conn: &mut DbConn, row: &RefreshToken) -> Result<Option<RefreshToken>, StoreError> {
    Ok(crate::native!(conn, |c| refresh_tokens::table
        .filter(refresh_tokens::parent_hash.eq(&row.token_hash))
        .filter(refresh_tokens::rotated_at.is_null())
        .filter(refresh_tokens::revoked_at.is_null())
        .select(RefreshToken::as_select())
        .load(c))?
    .into_iter()
    .next())
}

pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: i64) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?)
}

/// Revokes the families started by the exchange of `code_hash`.
pub fn revoke_by_code(conn: &mut DbConn, code_hash: &str, now: i64) -> Result<usize, StoreError> {
    let families: Vec<String> = crate::native!(conn, |c| refresh_tokens::table
        .filter(refresh_tokens::auth_code_hash.eq(code_hash))
        .select(refresh_tokens::family_id)
        .distinct()
        .load(c))?;
    let mut revoked = 0;
    for family in families {
        revoked += revoke_family(conn, &family, now)?;
    }
    Ok(revoked)
}

/// Revokes the session-bound (not offline) families of an SSO session.
pub fn revoke_by_session(conn: &mut DbConn, session_id: &str, now: i64) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::session_id.eq(session_id))
            .filter(refresh_tokens::offline.eq(false))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?)
}

/// Revokes every refresh token of a client (it was disabled).
pub fn revoke_by_client(conn: &mut DbConn, client_id: &str, now: i64) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::client_id.eq(client_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?)
}

/// Revokes every family of a user (their secret was revoked, say).
pub fn revoke_by_user(conn: &mut DbConn, user_id: &str, now: i64) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?)
}

/// Revokes every family of a user except those issued in the SSO session `keep`
/// (offline ones included: they outlive sessions, so a password change must end them).
pub fn revoke_by_user_except_session(
    conn: &mut DbConn,
    user_id: &str,
    keep: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::session_id.is_null().or(refresh_tokens::session_id.ne(keep)))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(c))?)
}

/// Whether any token of the family has been revoked (the family then is).
pub fn family_revoked(conn: &mut DbConn, family_id: &str) -> Result<bool, StoreError> {
    let count: i64 = crate::native!(conn, |c| refresh_tokens::table
        .filter(refresh_tokens::family_id.eq(family_id))
        .filter(refresh_tokens::revoked_at.is_not_null())
        .count()
        .get_result(c))?;
    Ok(count > 0)
}
