//! Creating a user below oneself, with the one leak it cannot avoid kept small.
//!
//! Usernames are unique per tenant, so a name taken anywhere in the tenant must be
//! refused — and that refusal tells an administrator that the name exists, perhaps
//! outside its subtree. No answer can hide it while names are tenant-wide; what can be
//! done is to make probing slow and visible: every refusal is an audit event
//! (`user.create_conflict`, for the tenant's root to see), and after
//! [`CONFLICTS_PER_HOUR`] of them an administrator cannot create users for the rest of
//! the hour (429), whatever name it tries — so the refusals stop saying anything.

use serde_json::json;

use crate::auth::hashing::HashPool;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::limiter::{Decision, Rule};
use crate::store::audit::{self, Origin};
use crate::store::users::User;
use crate::store::{Db, StoreError};
use crate::tenancy::admin::{self, Admin, AdminError, NewChild};

/// Refused names an administrator may try per hour before creation stops for it.
pub const CONFLICTS_PER_HOUR: u32 = 10;
const HOUR: i64 = 3600;
const CONFLICTS: Rule = Rule { free: CONFLICTS_PER_HOUR - 1, window: HOUR, base: HOUR, max: HOUR };

fn unavailable(err: impl std::fmt::Display) -> AdminError {
    AdminError::Store(StoreError::Unavailable(err.to_string()))
}

/// Creates `new` below `admin` (see [`admin::create_child`]); the one-time password is
/// returned once.
pub async fn create_child(
    db: &Db,
    ephemeral: &Ephemeral,
    hasher: &HashPool,
    admin: Admin,
    new: NewChild,
    origin: Origin,
    now: i64,
) -> Result<(User, String), AdminError> {
    let blocked = format!("create-blocked:{}", admin.user.id);
    if let Some(until) = ephemeral.get(&blocked, now).await.map_err(unavailable)? {
        let until =
            std::str::from_utf8(&until).ok().and_then(|u| u.parse::<i64>().ok()).unwrap_or(now + HOUR);
        return Err(AdminError::Throttled { retry_after: (until - now).max(1) });
    }
    let one_time = admin::new_one_time_password(hasher).await?;
    let (actor, tenant_id, username) =
        (admin.user.id.clone(), admin.user.tenant_id.clone(), new.username.clone());
    let ip = origin.ip.clone();
    let created = db.run(move |conn| admin::create_child(conn, &admin, &new, one_time, &origin, now)).await;
    match created {
        Ok(created) => Ok(created),
        Err(AdminError::Duplicate(name)) => {
            let origin = Origin { actor_user_id: Some(actor.clone()), ip };
            let detail = json!({ "username": username });
            db.run(move |conn| {
                audit::record(conn, &tenant_id, &origin, None, "user.create_conflict", detail, now)
            })
            .await?;
            let decision = ephemeral
                .hit(&format!("attempts:create-conflict:{actor}"), &CONFLICTS, now)
                .await
                .map_err(unavailable)?;
            let block_until = match decision {
                Decision::Allowed { blocked_until, .. } => blocked_until,
                Decision::Refused { retry_after } => now + retry_after,
            };
            if block_until > now {
                let ttl = u64::try_from(block_until - now).unwrap_or(1);
                ephemeral
                    .put(&blocked, block_until.to_string().into_bytes(), ttl, now)
                    .await
                    .map_err(unavailable)?;
            }
            Err(AdminError::Duplicate(name))
        }
        Err(other) => Err(other),
    }
}
