//! `remembered_devices`: browsers that may skip the code step for a while. The cookie
//! holds a random token; rows are keyed by its SHA-256, never the token.

use diesel::prelude::*;

use super::schema::remembered_devices;
use super::{DbConn, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = remembered_devices, treat_none_as_default_value = false)]
pub struct RememberedDevice {
    pub id: String,
    #[serde(skip)]
    pub token_hash: String,
    pub user_id: String,
    #[serde(skip)]
    pub tenant_id: String,
    /// What the browser said it was (from its User-Agent), for the user to recognise.
    pub label: String,
    pub created_ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    /// When a code was last entered on this browser (what `max_age` is weighed against).
    pub code_at: i64,
    pub expires_at: i64,
}

pub fn insert(conn: &mut DbConn, device: &RememberedDevice) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(remembered_devices::table).values(device).execute(c))?;
    Ok(())
}

/// The unexpired device behind `token_hash`, if it belongs to `user_id` in `tenant_id`.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: &str,
    tenant_id: &str,
    now: i64,
) -> Result<Option<RememberedDevice>, StoreError> {
    Ok(crate::native!(conn, |c| remembered_devices::table
        .filter(remembered_devices::token_hash.eq(token_hash))
        .filter(remembered_devices::user_id.eq(user_id))
        .filter(remembered_devices::tenant_id.eq(tenant_id))
        .filter(remembered_devices::expires_at.gt(now))
        .select(RememberedDevice::as_select())
        .load(c))?
    .into_iter()
    .next())
}

pub fn touch(conn: &mut DbConn, id: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(remembered_devices::table.find(id))
        .set(remembered_devices::last_used_at.eq(now))
        .execute(c))?;
    Ok(())
}

/// The user's unexpired devices, most recently used first.
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: &str,
    now: i64,
) -> Result<Vec<RememberedDevice>, StoreError> {
    Ok(crate::native!(conn, |c| remembered_devices::table
        .filter(remembered_devices::user_id.eq(user_id))
        .filter(remembered_devices::expires_at.gt(now))
        .order((remembered_devices::last_used_at.desc(), remembered_devices::id))
        .select(RememberedDevice::as_select())
        .load(c))?)
}

/// Forgets one device of the user; false when there was none with that id.
pub fn forget(conn: &mut DbConn, user_id: &str, id: &str) -> Result<bool, StoreError> {
    let deleted = crate::native!(conn, |c| diesel::delete(
        remembered_devices::table
            .filter(remembered_devices::id.eq(id))
            .filter(remembered_devices::user_id.eq(user_id)),
    )
    .execute(c))?;
    Ok(deleted == 1)
}

/// Forgets every device of the user (expired rows too); returns how many were live or not.
pub fn forget_all(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::delete(
        remembered_devices::table.filter(remembered_devices::user_id.eq(user_id))
    )
    .execute(c))?)
}
