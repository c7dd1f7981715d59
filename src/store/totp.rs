//! `totp_credentials` and `recovery_codes`: encrypted secrets, the atomic replay guard
//! on `last_used_step`, activation, and single-use recovery codes.

use diesel::prelude::*;

use super::prepared;
use super::schema::{recovery_codes, totp_credentials};
use super::{DbConn, StoreError, new_id};

/// A credential row; the secret is keyring ciphertext bound to `(id, user_id)`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = totp_credentials, treat_none_as_default_value = false)]
pub struct Credential {
    pub id: String,
    pub user_id: String,
    pub secret_ciphertext: Vec<u8>,
    pub key_id: String,
    pub algorithm: String,
    pub digits: i32,
    pub period: i32,
    pub status: String,
    pub last_used_step: Option<i64>,
    pub created_at: i64,
    pub activated_at: Option<i64>,
    /// The user's name for it ("phone", "password manager").
    pub label: String,
    /// A pending credential that, once confirmed, removes the user's others (a
    /// replacement, or the first enrolment); false when it is added beside them.
    pub replaces_others: bool,
}

/// Active authenticators a user may have at once.
pub const MAX_ACTIVE: usize = 5;

pub const PENDING: &str = "pending";
pub const ACTIVE: &str = "active";

/// The user's credentials, newest first (up to [`MAX_ACTIVE`] active and one pending).
pub fn for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<Credential>, StoreError> {
    Ok(crate::native!(conn, |c| totp_credentials::table
        .filter(totp_credentials::user_id.eq(user_id))
        .order(totp_credentials::created_at.desc())
        .select(Credential::as_select())
        .load(c))?)
}

pub fn insert(conn: &mut DbConn, credential: &Credential) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(totp_credentials::table).values(credential).execute(c))?;
    Ok(())
}

/// Removes the user's pending credentials (a new pending one replaces them).
pub fn delete_pending(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
    Ok(crate::native!(conn, |c| diesel::delete(
        totp_credentials::table
            .filter(totp_credentials::user_id.eq(user_id))
            .filter(totp_credentials::status.eq(PENDING)),
    )
    .execute(c))?)
}

/// Records `step` as used if it is newer than the last used one. Returns false when
/// another request already used this or a later step: one conditional UPDATE, so two
/// concurrent submissions cannot both win.
pub fn claim_step(conn: &mut DbConn, credential_id: &str, step: i64) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| prepared::update(
        totp_credentials::table,
        totp_credentials::last_used_step.eq(step),
        totp_credentials::id
            .eq(credential_id)
            .and(totp_credentials::last_used_step.is_null().or(totp_credentials::last_used_step.lt(step)),),
    )
    .execute(c))?;
    Ok(updated == 1)
}

/// Makes a pending credential active and — when it `replaces_others` — removes every
/// other credential of the user. Returns false when it was no longer pending, or when
/// it would be one active credential too many.
pub fn activate(conn: &mut DbConn, credential_id: &str, user_id: &str, now: i64) -> Result<bool, StoreError> {
    conn.write(|conn| {
        let mine = for_user(conn, user_id)?;
        let Some(pending) = mine.iter().find(|c| c.id == credential_id && c.status == PENDING) else {
            return Ok(false);
        };
        let active = mine.iter().filter(|c| c.status == ACTIVE).count();
        if !pending.replaces_others && active >= MAX_ACTIVE {
            return Ok(false);
        }
        let replaces_others = pending.replaces_others;
        let updated = crate::native!(conn, |c| diesel::update(
            totp_credentials::table
                .filter(totp_credentials::id.eq(credential_id))
                .filter(totp_credentials::user_id.eq(user_id))
                .filter(totp_credentials::status.eq(PENDING)),
        )
        .set((totp_credentials::status.eq(ACTIVE), totp_credentials::activated_at.eq(now)))
        .execute(c))?;
        if updated != 1 {
            return Ok(false);
        }
        if replaces_others {
            crate::native!(conn, |c| diesel::delete(
                totp_credentials::table
                    .filter(totp_credentials::user_id.eq(user_id))
                    .filter(totp_credentials::id.ne(credential_id)),
            )
            .execute(c))?;
        }
        Ok(true)
    })
}

/// Removes one active credential of the user; false when it has none by that id.
pub fn delete_active(conn: &mut DbConn, user_id: &str, credential_id: &str) -> Result<bool, StoreError> {
    let deleted = crate::native!(conn, |c| diesel::delete(
        totp_credentials::table
            .filter(totp_credentials::id.eq(credential_id))
            .filter(totp_credentials::user_id.eq(user_id))
            .filter(totp_credentials::status.eq(ACTIVE)),
    )
    .execute(c))?;
    Ok(deleted == 1)
}

/// Replaces the user's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user_id: &str,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    conn.write(|conn| {
        crate::native!(conn, |c| diesel::delete(
            recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))
        )
        .execute(c))?;
        let rows: Vec<_> = hashes
            .iter()
            .map(|hash| {
                (
                    recovery_codes::id.eq(new_id()),
                    recovery_codes::user_id.eq(user_id),
                    recovery_codes::code_hash.eq(hash),
                    recovery_codes::created_at.eq(now),
                )
            })
            .collect();
        for row in rows {
            crate::native!(conn, |c| diesel::insert_into(recovery_codes::table).values(row).execute(c))?;
        }
        Ok(())
    })
}

/// Marks an unused code as used; false when there is no such unused code.
pub fn use_recovery_code(conn: &mut DbConn, user_id: &str, hash: &str, now: i64) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(now))
    .execute(c))?;
    Ok(updated == 1)
}

/// How many unused recovery codes the user has left.
pub fn unused_recovery_codes(conn: &mut DbConn, user_id: &str) -> Result<i64, StoreError> {
    Ok(crate::native!(conn, |c| recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c))?)
}

/// Removes every credential and recovery code of a user; returns how many credentials.
pub fn delete_all(conn: &mut DbConn, user_id: &str) -> Result<usize, StoreError> {
    crate::native!(conn, |c| diesel::delete(
        recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))
    )
    .execute(c))?;
    Ok(crate::native!(conn, |c| diesel::delete(
        totp_credentials::table.filter(totp_credentials::user_id.eq(user_id))
    )
    .execute(c))?)
}

/// (user, status, activated at, label) of one credential.
pub type CredentialStatus = (String, String, Option<i64>, String);

/// The columns of a [`CredentialStatus`].
const STATUS: (
    totp_credentials::user_id,
    totp_credentials::status,
    totp_credentials::activated_at,
    totp_credentials::label,
) = (
    totp_credentials::user_id,
    totp_credentials::status,
    totp_credentials::activated_at,
    totp_credentials::label,
);

/// [`CredentialStatus`] of one user's credentials, oldest first.
pub fn statuses_of_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<CredentialStatus>, StoreError> {
    Ok(crate::native!(conn, |c| totp_credentials::table
        .filter(totp_credentials::user_id.eq(user_id))
        .order((totp_credentials::created_at, totp_credentials::id))
        .select(STATUS)
        .load(c))?)
}

/// [`CredentialStatus`] of every credential in the tenant, oldest first, in one query.
pub fn statuses_in_tenant(conn: &mut DbConn, tenant_id: &str) -> Result<Vec<CredentialStatus>, StoreError> {
    use super::schema::users;
    Ok(crate::native!(conn, |c| totp_credentials::table
        .inner_join(users::table)
        .filter(users::tenant_id.eq(tenant_id))
        .order((totp_credentials::created_at, totp_credentials::id))
        .select(STATUS)
        .load(c))?)
}
