//! A parent's view of a user's remembered devices ([`crate::auth::remembered`]): the
//! list needs `read` over the user; forgetting needs what revoking its TOTP needs
//! (`create` or `admin`, never oneself or an ancestor).

use super::admin::{Admin, AdminError, target};
use super::permissions::Action;
use crate::auth::remembered;
use crate::store::DbConn;
use crate::store::audit::Origin;
use crate::store::remembered::{self as rows, RememberedDevice};

/// The user's unexpired remembered devices, most recently used first.
pub fn list(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    now: i64,
) -> Result<Vec<RememberedDevice>, AdminError> {
    let user = target(conn, admin, Action::Read, id)?;
    Ok(rows::list_for_user(conn, &user.id, now)?)
}

/// Forgets one device of the user (`Some(device_id)`) or all of them; returns how many.
/// An unknown device id is "not found", as an unknown user is.
pub fn forget(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    device_id: Option<&str>,
    origin: &Origin,
    now: i64,
) -> Result<usize, AdminError> {
    let user = target(conn, admin, Action::RevokeTotp, id)?;
    let origin = Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
    match device_id {
        Some(device_id) => {
            if remembered::forget(conn, &user.tenant_id, &user.id, device_id, &origin, now)? {
                Ok(1)
            } else {
                Err(AdminError::NotFound)
            }
        }
        None => Ok(conn
            .write(|conn| remembered::forget_all(conn, &user.tenant_id, &user.id, &origin, "parent", now))?),
    }
}
