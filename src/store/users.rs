//! The `users` table: accounts, their place in the tenant's tree, and credentials.

use diesel::prelude::*;

use super::prepared;
use super::schema::users;
use super::{DbConn, StoreError};

/// A user row. `username_key` is the case-folded username that uniqueness is checked on.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct User {
    pub id: String,
    pub tenant_id: String,
    pub parent_id: Option<String>,
    pub username: String,
    pub username_key: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub kind: String,
    pub password_hash: String,
    pub totp_required: bool,
    pub permission: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    /// Chosen by someone else (generated, or a parent's reset): replaced at the next sign-in.
    pub password_temporary: bool,
    #[diesel(embed)]
    pub profile: Profile,
}

/// The profile claims a user holds beyond its name and e-mail address, as stored; checked
/// and explained in [`crate::tenancy::profile`]. `address` is the claim's JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
pub struct Profile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub phone_number: Option<String>,
    pub address: Option<String>,
    /// When the profile (these, the name or the e-mail address) last changed.
    pub profile_updated_at: Option<i64>,
}

pub fn insert(conn: &mut DbConn, user: &User) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(users::table).values(user).execute(c))?;
    Ok(())
}

pub fn find_by_username_key(
    conn: &mut DbConn,
    tenant_id: &str,
    username_key: &str,
) -> Result<Option<User>, StoreError> {
    Ok(crate::native!(conn, |c| users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::username_key.eq(username_key))
        .select(User::as_select())
        .load(c))?
    .into_iter()
    .next())
}

pub fn list_by_tenant(conn: &mut DbConn, tenant_id: &str) -> Result<Vec<User>, StoreError> {
    Ok(crate::native!(conn, |c| users::table
        .filter(users::tenant_id.eq(tenant_id))
        .order(users::username_key)
        .select(User::as_select())
        .load(c))?)
}

/// A user and its tenant, in one query.
pub fn find_with_tenant(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Option<(User, super::tenants::Tenant)>, StoreError> {
    Ok(find_with_tenant_and_lock(conn, user_id)?.map(|(user, tenant, _)| (user, tenant)))
}

pub fn set_password_hash(conn: &mut DbConn, user_id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(users::table.find(user_id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

/// Replaces the password hash, only if it is still `expected` (so that of two changes
/// racing, one wins and the other learns it lost). False when it was not.
pub fn replace_password(
    conn: &mut DbConn,
    user_id: &str,
    expected: &str,
    hash: &str,
    temporary: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = crate::native!(conn, |c| diesel::update(
        users::table.find(user_id).filter(users::password_hash.eq(expected))
    )
    .set((users::password_hash.eq(hash), users::password_temporary.eq(temporary), users::updated_at.eq(now),))
    .execute(c))?;
    Ok(changed == 1)
}

/// Replaces the user's name, e-mail address and profile, and stamps the change.
pub fn set_profile(
    conn: &mut DbConn,
    user_id: &str,
    display_name: Option<&str>,
    email: Option<&str>,
    profile: &Profile,
    now: i64,
) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(users::table.find(user_id))
        .set((
            users::display_name.eq(display_name),
            users::email.eq(email),
            users::given_name.eq(&profile.given_name),
            users::family_name.eq(&profile.family_name),
            users::locale.eq(&profile.locale),
            users::zoneinfo.eq(&profile.zoneinfo),
            users::phone_number.eq(&profile.phone_number),
            users::address.eq(&profile.address),
            users::profile_updated_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

pub fn set_last_login(conn: &mut DbConn, user_id: &str, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| prepared::update(
        users::table,
        users::last_login_at.eq(now),
        users::id.eq(user_id)
    )
    .execute(c))?;
    Ok(())
}

/// Locks the user's code step until `until` (kept here as well as in the ephemeral
/// store, so that a Redis restarted empty does not lift a lock).
pub fn lock_totp(conn: &mut DbConn, user_id: &str, until: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(users::table.find(user_id))
        .set(users::totp_locked_until.eq(until))
        .execute(c))?;
    Ok(())
}

/// The user `user_id`, its row locked until the transaction ends (on PostgreSQL; on
/// SQLite the write transaction that calls this already holds the database's write lock).
pub fn find_locked(conn: &mut DbConn, user_id: &str) -> Result<Option<User>, StoreError> {
    Ok(match conn {
        DbConn::Pg(c) => {
            users::table.find(user_id).select(User::as_select()).for_update().first(c).optional()?
        }
        DbConn::Sqlite(c) => users::table.find(user_id).select(User::as_select()).first(c).optional()?,
    })
}

/// As [`find_with_tenant`], with until when the user's code step is locked.
pub fn find_with_tenant_and_lock(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Option<(User, super::tenants::Tenant, Option<i64>)>, StoreError> {
    use super::schema::tenants;
    Ok(crate::native!(conn, |c| users::table
        .inner_join(tenants::table)
        .filter(users::id.eq(user_id))
        .select((User::as_select(), super::tenants::Tenant::as_select(), users::totp_locked_until))
        .load(c))?
    .into_iter()
    .next())
}

/// The usernames of the users `ids` of a tenant (those that exist), in one query.
pub fn usernames(
    conn: &mut DbConn,
    tenant_id: &str,
    ids: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    Ok(crate::native!(conn, |c| users::table
        .filter(users::tenant_id.eq(tenant_id))
        .filter(users::id.eq_any(ids))
        .select((users::id, users::username))
        .load(c))?)
}

/// Every (user, parent) pair of a tenant, for permission checks in memory.
pub fn tree(conn: &mut DbConn, tenant_id: &str) -> Result<Vec<(String, Option<String>)>, StoreError> {
    Ok(crate::native!(conn, |c| users::table
        .filter(users::tenant_id.eq(tenant_id))
        .select((users::id, users::parent_id))
        .load(c))?)
}

pub fn set_totp_required(
    conn: &mut DbConn,
    user_id: &str,
    required: bool,
    now: i64,
) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(users::table.find(user_id))
        .set((users::totp_required.eq(required), users::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

pub fn set_disabled(conn: &mut DbConn, user_id: &str, disabled: bool, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(users::table.find(user_id))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}
