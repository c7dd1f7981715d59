//! Replacing a password: the user's own choice (a temporary password at sign-in, or a
//! change on the account page) and a parent's reset. Every replacement is one
//! transaction: the new hash (only if the old one is still in place, so that of two
//! racing changes exactly one wins), any pending TOTP secret discarded (whoever saw it
//! with the old password must not get to enrol it), the user's other sessions and
//! refresh-token families ended, and an audit event. TOTP credentials stay: a new
//! password never removes the second factor.

use serde_json::json;

use crate::auth::credentials::Guard;
use crate::auth::errors::LoginError;
use crate::auth::password::{Password, Verification};
use crate::auth::password_rules::{RuleError, Rules};
use crate::ephemeral::limiter::Decision;
use crate::random::secret_hash;
use crate::store::audit::{self, Origin};
use crate::store::users::User;
use crate::store::{DbConn, StoreError, sessions, tokens, totp, users};

/// Why a new password was not set; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0}")]
    Rule(#[from] RuleError),
    #[error("The current password is not right.")]
    WrongCurrent,
    /// The password changed since this sign-in checked it (another tab, a reset): the
    /// sign-in must start again.
    #[error("Your password was changed elsewhere. Please sign in again.")]
    Stale,
}

/// A new password as typed twice.
// No Debug: it holds secrets that must never reach a log.
pub struct NewPassword {
    pub new: String,
    pub confirm: String,
}

/// What a replacement does besides storing the hash.
pub struct Replacement {
    /// The hash that must still be in place.
    pub expected: String,
    pub hash: String,
    /// Chosen by someone else: to be replaced at the next sign-in.
    pub temporary: bool,
    /// The session that made the change stays; every other one ends.
    pub keep_session: Option<String>,
    pub event: &'static str,
    pub detail: serde_json::Value,
}

/// Stores a new password with everything that goes with it, in one transaction.
/// False (nothing written) when the stored hash is no longer `expected`.
pub fn replace(
    conn: &mut DbConn,
    user: &User,
    change: &Replacement,
    origin: &Origin,
    now: i64,
) -> Result<bool, StoreError> {
    conn.write(|conn| {
        if !users::replace_password(conn, &user.id, &change.expected, &change.hash, change.temporary, now)? {
            return Ok(false);
        }
        let discarded = totp::delete_pending(conn, &user.id)?;
        let (sessions, families) = match change.keep_session.as_deref() {
            Some(keep) => (
                sessions::revoke_others_for_user(conn, &user.id, keep, now)?,
                tokens::revoke_by_user_except_session(conn, &user.id, keep, now)?,
            ),
            None => (
                sessions::revoke_all_for_user(conn, &user.id, now)?,
                tokens::revoke_by_user(conn, &user.id, now)?,
            ),
        };
        // Whoever knew the old password may have had a remembered browser too.
        let devices = crate::store::remembered::forget_all(conn, &user.id)?;
        if devices > 0 {
            let detail = json!({ "devices": devices, "reason": change.event });
            audit::record(
                conn,
                &user.tenant_id,
                origin,
                Some(&user.id),
                "device.forgotten_all",
                detail,
                now,
            )?;
        }
        let mut detail = change.detail.clone();
        if let Some(map) = detail.as_object_mut() {
            map.insert("devices_forgotten".into(), json!(devices));
            map.insert("sessions_ended".into(), json!(sessions));
            map.insert("refresh_tokens_revoked".into(), json!(families));
            map.insert("pending_secret_discarded".into(), json!(discarded > 0));
        }
        audit::record(conn, &user.tenant_id, origin, Some(&user.id), change.event, detail, now)?;
        Ok(true)
    })
}

/// The tenant's rules applied to a new password typed twice, off the async threads
/// (the strength estimate is the costly part).
pub async fn check_rules(
    min_length: i32,
    user: &User,
    typed: NewPassword,
) -> Result<Result<Password, RuleError>, LoginError> {
    let (username, email) = (user.username.clone(), user.email.clone());
    let NewPassword { new, confirm } = typed;
    tokio::task::spawn_blocking(move || {
        Rules { min_length, username: &username, email: email.as_deref() }.check(&new, &confirm)
    })
    .await
    .map_err(|e| LoginError::Internal(e.to_string()))
}

/// The user and its tenant's minimum length; `None` when the user is gone.
async fn load(guard: Guard<'_>, user_id: &str) -> Result<Option<(User, i32)>, LoginError> {
    let user_id = user_id.to_owned();
    let found = guard.db.run(move |conn| users::find_with_tenant(conn, &user_id)).await?;
    Ok(found.map(|(user, tenant)| (user, tenant.password_min_length)))
}

/// The fingerprint a sign-in keeps of the password hash it checked: a later step that
/// finds another hash knows the password changed in between.
pub fn stamp(hash: &str) -> String {
    secret_hash(hash)
}

/// Replaces a temporary password during sign-in, answering the new hash's stamp.
/// `stamp_at_check` is the fingerprint taken when
/// the password was checked: a password changed since (another tab, a reset) is
/// [`Refused::Stale`], and so is one that is no longer temporary.
pub async fn choose(
    guard: Guard<'_>,
    user_id: &str,
    stamp_at_check: &str,
    typed: NewPassword,
    origin: &Origin,
    now: i64,
) -> Result<Result<String, Refused>, LoginError> {
    // A user gone since the password was checked: this sign-in is over, like any stale one.
    let Some((user, min_length)) = load(guard, user_id).await? else { return Ok(Err(Refused::Stale)) };
    if user.disabled || !user.password_temporary || stamp(&user.password_hash) != stamp_at_check {
        return Ok(Err(Refused::Stale));
    }
    let password = match check_rules(min_length, &user, typed).await? {
        Ok(password) => password,
        Err(rule) => return Ok(Err(rule.into())),
    };
    if let Verification::Match { .. } =
        guard.hasher.verify(password.clone(), user.password_hash.clone()).await?
    {
        return Ok(Err(RuleError::Unchanged.into()));
    }
    let hash = guard.hasher.hash(password).await?;
    let new_stamp = stamp(&hash);
    let change = Replacement {
        expected: user.password_hash.clone(),
        hash,
        temporary: false,
        keep_session: None,
        event: "password.changed",
        detail: json!({ "reason": "temporary_replaced" }),
    };
    let origin = origin.clone();
    let stored = guard.db.run(move |conn| replace(conn, &user, &change, &origin, now)).await;
    Ok(if stored? { Ok(new_stamp) } else { Err(Refused::Stale) })
}

/// A change on the account page: the current password (counted against a budget of
/// the session's own, so a stolen session cannot guess on), then the
/// rules. The session that made it stays signed in; every other one ends.
pub async fn change(
    guard: Guard<'_>,
    user_id: &str,
    session_id: &str,
    current: String,
    typed: NewPassword,
    origin: &Origin,
    now: i64,
) -> Result<Result<(), Refused>, LoginError> {
    let Some((user, min_length)) = load(guard, user_id).await? else { return Ok(Err(Refused::Stale)) };
    // The session's own budget: a stolen session cannot guess on, nor lock the owner's sign-in.
    let budget = format!("attempts:pw:session:{session_id}");
    if let Decision::Refused { retry_after } =
        guard.ephemeral.hit(&budget, &guard.limits.password_device, now).await?
    {
        return Err(LoginError::Throttled { retry_after });
    }
    let password = match check_rules(min_length, &user, typed).await? {
        Ok(password) => password,
        Err(rule) => return Ok(Err(rule.into())),
    };
    let current_ok = match Password::parse(current.clone()) {
        Ok(current) => guard.hasher.verify(current, user.password_hash.clone()).await?,
        Err(_) => Verification::Mismatch,
    };
    if current_ok == Verification::Mismatch {
        let (tenant_id, user_id, origin) = (user.tenant_id.clone(), user.id.clone(), origin.clone());
        let detail = json!({ "reason": "wrong_current_password" });
        guard
            .db
            .run(move |conn| {
                audit::record(
                    conn,
                    &tenant_id,
                    &origin,
                    Some(&user_id),
                    "password.change_failed",
                    detail,
                    now,
                )
            })
            .await?;
        return Ok(Err(Refused::WrongCurrent));
    }
    guard.ephemeral.delete(&budget).await?;
    if password.expose() == current {
        return Ok(Err(RuleError::Unchanged.into()));
    }
    let hash = guard.hasher.hash(password).await?;
    let change = Replacement {
        expected: user.password_hash.clone(),
        hash,
        temporary: false,
        keep_session: Some(session_id.to_owned()),
        event: "password.changed",
        detail: json!({ "reason": "changed_by_user" }),
    };
    let origin = origin.clone();
    let stored = guard.db.run(move |conn| replace(conn, &user, &change, &origin, now)).await;
    Ok(if stored? { Ok(()) } else { Err(Refused::Stale) })
}
