//! `sso_sessions` (codes are in [`super::tokens`]). A session is a bearer secret held by
//! a browser, so rows are keyed by the SHA-256 of the secret, never the secret.

use diesel::prelude::*;

use super::schema::sso_sessions;
use super::{DbConn, StoreError};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sso_sessions, treat_none_as_default_value = false)]
pub struct Session {
    /// SHA-256 of the cookie value.
    pub id: String,
    pub user_id: String,
    pub amr: String,
    pub acr: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The browser, from its User-Agent ("Firefox on Linux").
    pub label: String,
    /// The address it signed in from.
    pub ip: Option<String>,
    /// When it was last used (refreshed at most every [`SEEN_EVERY`] seconds).
    pub last_seen_at: Option<i64>,
}

/// How stale `last_seen_at` may get before a request refreshes it.
pub const SEEN_EVERY: i64 = 300;

/// Marks the session seen now, unless it was seen in the last [`SEEN_EVERY`] seconds
/// (so that reading pages does not write on every request).
pub fn seen(conn: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(
        sso_sessions::table
            .filter(sso_sessions::id.eq(id))
            .filter(sso_sessions::last_seen_at.is_null().or(sso_sessions::last_seen_at.lt(now - SEEN_EVERY))),
    )
    .set(sso_sessions::last_seen_at.eq(now))
    .execute(c))?;
    Ok(())
}

/// The user's live sessions, most recently seen first (a session never seen since the
/// column came counts from its start). Sorted here, not in SQL: PostgreSQL and SQLite
/// put NULLs at opposite ends of a descending order.
pub fn live_for_user(conn: &mut DbConn, user_id: &str, now: i64) -> Result<Vec<Session>, StoreError> {
    let mut live: Vec<Session> = crate::native!(conn, |c| sso_sessions::table
        .filter(sso_sessions::user_id.eq(user_id))
        .filter(sso_sessions::revoked_at.is_null())
        .filter(sso_sessions::expires_at.gt(now))
        .select(Session::as_select())
        .load(c))?;
    live.sort_by_key(|s| std::cmp::Reverse((s.last_seen_at.unwrap_or(s.created_at), s.created_at)));
    Ok(live)
}

/// Ends one live session of the user; false when it has none by that id.
pub fn revoke_for_user(conn: &mut DbConn, user_id: &str, id: &str, now: i64) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| diesel::update(
        sso_sessions::table
            .filter(sso_sessions::id.eq(id))
            .filter(sso_sessions::user_id.eq(user_id))
            .filter(sso_sessions::revoked_at.is_null()),
    )
    .set(sso_sessions::revoked_at.eq(now))
    .execute(c))?;
    Ok(updated == 1)
}

pub fn insert(conn: &mut DbConn, session: &Session) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(sso_sessions::table).values(session).execute(c))?;
    Ok(())
}

/// A live (unrevoked, unexpired) session. Whether its user may still use it is the
/// gate's question ([`crate::auth::gate`]), which reads the user.
pub fn find_live(conn: &mut DbConn, id: &str, now: i64) -> Result<Option<Session>, StoreError> {
    Ok(crate::native!(conn, |c| sso_sessions::table
        .filter(sso_sessions::id.eq(id))
        .filter(sso_sessions::revoked_at.is_null())
        .filter(sso_sessions::expires_at.gt(now))
        .select(Session::as_select())
        .load(c))?
    .into_iter()
    .next())
}

/// Ends the session `id` and the refresh tokens issued in it, in one transaction.
pub fn end(conn: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    conn.write(|conn| {
        revoke(conn, id, now)?;
        crate::store::tokens::revoke_by_session(conn, id, now).map(|_| ())
    })
}

pub fn revoke(conn: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(
        sso_sessions::table.filter(sso_sessions::id.eq(id)).filter(sso_sessions::revoked_at.is_null()),
    )
    .set(sso_sessions::revoked_at.eq(now))
    .execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Session>, StoreError> {
    Ok(crate::native!(conn, |c| sso_sessions::table.find(id).select(Session::as_select()).load(c))?
        .into_iter()
        .next())
}

/// Ends every live session of a user but `keep` (the one that made the change).
pub fn revoke_others_for_user(
    conn: &mut DbConn,
    user_id: &str,
    keep: &str,
    now: i64,
) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        sso_sessions::table
            .filter(sso_sessions::user_id.eq(user_id))
            .filter(sso_sessions::id.ne(keep))
            .filter(sso_sessions::revoked_at.is_null()),
    )
    .set(sso_sessions::revoked_at.eq(now))
    .execute(c))?)
}

/// Ends every live session of a user.
pub fn revoke_all_for_user(conn: &mut DbConn, user_id: &str, now: i64) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::update(
        sso_sessions::table
            .filter(sso_sessions::user_id.eq(user_id))
            .filter(sso_sessions::revoked_at.is_null()),
    )
    .set(sso_sessions::revoked_at.eq(now))
    .execute(c))?)
}
