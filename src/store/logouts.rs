//! `backchannel_logouts`: which clients with a back-channel logout URI got tokens in
//! which SSO session, and where the notice of that session's end stands. A row is
//! written when a client redeems a code in a session; it is due once the session is
//! revoked (by any path: every one sets `sso_sessions.revoked_at`), so nothing that ends
//! a session has to remember to notify, and a notice survives a crash of the server.

use diesel::prelude::*;

use super::schema::{backchannel_logouts, clients, sso_sessions};
use super::{DbConn, StoreError};

/// A notice to deliver: the session that ended, its user, and the client to tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub session_id: String,
    pub client_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub uri: String,
    pub id_token_alg: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
}

/// Records that `client_id` got tokens in `session_id` (once; again is a no-op).
pub fn enlist(conn: &mut DbConn, session_id: &str, client_id: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(backchannel_logouts::table)
        .values((
            backchannel_logouts::session_id.eq(session_id),
            backchannel_logouts::client_id.eq(client_id),
            backchannel_logouts::attempts.eq(0),
            backchannel_logouts::next_attempt_at.eq(0),
            backchannel_logouts::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Up to `limit` notices due at `now`: their session was revoked, they are neither
/// delivered nor given up, their next attempt has come, and the client (still enabled)
/// still has a URI.
pub fn due(conn: &mut DbConn, now: i64, limit: i64) -> Result<Vec<Due>, StoreError> {
    type Row = (String, String, String, String, Option<String>, String, i32, i64);
    let rows: Vec<Row> = crate::native!(conn, |c| backchannel_logouts::table
        .inner_join(sso_sessions::table)
        .inner_join(clients::table)
        .filter(backchannel_logouts::delivered_at.is_null())
        .filter(backchannel_logouts::gave_up_at.is_null())
        .filter(backchannel_logouts::next_attempt_at.le(now))
        .filter(sso_sessions::revoked_at.is_not_null())
        .filter(clients::backchannel_logout_uri.is_not_null())
        .filter(clients::disabled_at.is_null())
        .select((
            backchannel_logouts::session_id,
            backchannel_logouts::client_id,
            sso_sessions::user_id,
            clients::tenant_id,
            clients::backchannel_logout_uri,
            clients::id_token_alg,
            backchannel_logouts::attempts,
            backchannel_logouts::next_attempt_at,
        ))
        .order(backchannel_logouts::next_attempt_at)
        .limit(limit)
        .load(c))?;
    Ok(rows
        .into_iter()
        .filter_map(
            |(session_id, client_id, user_id, tenant_id, uri, id_token_alg, attempts, next_attempt_at)| {
                Some(Due {
                    session_id,
                    client_id,
                    user_id,
                    tenant_id,
                    uri: uri?,
                    id_token_alg,
                    attempts,
                    next_attempt_at,
                })
            },
        )
        .collect())
}

/// Whether any notice is pending — neither delivered nor given up, its client still
/// with a URI — whether or not its session has ended yet.
pub fn any_pending(conn: &mut DbConn) -> Result<bool, StoreError> {
    let found: Vec<String> = crate::native!(conn, |c| backchannel_logouts::table
        .inner_join(clients::table)
        .filter(backchannel_logouts::delivered_at.is_null())
        .filter(backchannel_logouts::gave_up_at.is_null())
        .filter(clients::backchannel_logout_uri.is_not_null())
        .select(backchannel_logouts::session_id)
        .limit(1)
        .load(c))?;
    Ok(!found.is_empty())
}

/// The row of `due` while it is neither delivered nor given up.
macro_rules! pending {
    ($due:expr) => {
        backchannel_logouts::session_id
            .eq(&$due.session_id)
            .and(backchannel_logouts::client_id.eq(&$due.client_id))
            .and(backchannel_logouts::delivered_at.is_null())
            .and(backchannel_logouts::gave_up_at.is_null())
    };
}

/// Takes the notice for one attempt: counts it and holds it for `lease` seconds (another
/// instance, or this one after a crash, tries again after that). False when another
/// instance took it first.
pub fn claim(conn: &mut DbConn, due: &Due, lease: i64, now: i64) -> Result<bool, StoreError> {
    let taken = crate::native!(conn, |c| diesel::update(
        backchannel_logouts::table
            .filter(pending!(due))
            .filter(backchannel_logouts::next_attempt_at.eq(due.next_attempt_at)),
    )
    .set((
        backchannel_logouts::attempts.eq(due.attempts + 1),
        backchannel_logouts::next_attempt_at.eq(now + lease),
    ))
    .execute(c))?;
    Ok(taken == 1)
}

/// The client acknowledged the notice.
pub fn delivered(conn: &mut DbConn, due: &Due, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(backchannel_logouts::table.filter(pending!(due)))
        .set(backchannel_logouts::delivered_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// The attempt failed: try again at `next` — or, with `None`, never (given up).
pub fn failed(conn: &mut DbConn, due: &Due, next: Option<i64>, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| match next {
        Some(at) => diesel::update(backchannel_logouts::table.filter(pending!(due)))
            .set(backchannel_logouts::next_attempt_at.eq(at))
            .execute(c),
        None => diesel::update(backchannel_logouts::table.filter(pending!(due)))
            .set(backchannel_logouts::gave_up_at.eq(now))
            .execute(c),
    })?;
    Ok(())
}

/// Forgets what no longer matters: notices of sessions that expired without being
/// revoked (expiry is not a logout), of clients that no longer have a URI, and those
/// delivered or given up a day ago.
pub fn prune(conn: &mut DbConn, now: i64) -> Result<usize, StoreError> {
    let expired = sso_sessions::table
        .filter(sso_sessions::expires_at.le(now))
        .filter(sso_sessions::revoked_at.is_null())
        .select(sso_sessions::id);
    let unheard = clients::table.filter(clients::backchannel_logout_uri.is_null()).select(clients::id);
    let day_ago = now - 86_400;
    Ok(crate::native!(conn, |c| diesel::delete(
        backchannel_logouts::table.filter(
            backchannel_logouts::session_id
                .eq_any(expired)
                .or(backchannel_logouts::client_id.eq_any(unheard))
                .or(backchannel_logouts::delivered_at.le(day_ago))
                .or(backchannel_logouts::gave_up_at.le(day_ago)),
        ),
    )
    .execute(c))?)
}

/// How many notices are kept for `client_id`, whatever their state.
pub fn count_for_client(conn: &mut DbConn, client_id: &str) -> Result<i64, StoreError> {
    Ok(crate::native!(conn, |c| backchannel_logouts::table
        .filter(backchannel_logouts::client_id.eq(client_id))
        .count()
        .get_result(c))?)
}
