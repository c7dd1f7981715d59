//! Password resets: a parent's (pages and API) and the operator's (CLI). A reset gives
//! the user a new temporary password, shown once to whoever reset it, that must be
//! replaced at the next sign-in; it ends the user's sessions and refresh families and
//! discards a pending secret. It never touches the user's TOTP credentials: whoever
//! knows the new password still needs the user's code (or a recovery code).

use serde_json::json;

use crate::auth::passwords::{self, Replacement};
use crate::store::audit::Origin;
use crate::store::tenants::Tenant;
use crate::store::users::User;
use crate::store::{DbConn, StoreError, users};
use crate::tenancy::Username;
use crate::tenancy::admin::{Admin, AdminError, OneTimePassword, target};
use crate::tenancy::permissions::Action;

fn reset(
    conn: &mut DbConn,
    user: &User,
    one_time: OneTimePassword,
    origin: &Origin,
    detail: serde_json::Value,
    now: i64,
) -> Result<String, AdminError> {
    let OneTimePassword { plain, hash } = one_time;
    let change = Replacement {
        expected: user.password_hash.clone(),
        hash,
        temporary: true,
        keep_session: None,
        event: "password.reset",
        detail,
    };
    if passwords::replace(conn, user, &change, origin, now)? {
        Ok(plain)
    } else {
        // The password changed between the read and the write: nothing was written.
        Err(AdminError::Store(StoreError::Busy("the password changed meanwhile; try again".into())))
    }
}

/// A parent's reset of a user below it (the same rights as revoking its TOTP: never
/// oneself, never an ancestor). Returns the temporary password, to show once.
pub fn reset_password(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    one_time: OneTimePassword,
    origin: &Origin,
    now: i64,
) -> Result<String, AdminError> {
    let user = target(conn, admin, Action::ResetPassword, id)?;
    let origin = Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
    reset(conn, &user, one_time, &origin, json!({}), now)
}

/// The operator's reset (CLI): no actor, the same effects and audit event.
pub fn reset_password_as_operator(
    conn: &mut DbConn,
    tenant: &Tenant,
    username: &Username,
    one_time: OneTimePassword,
    now: i64,
) -> Result<String, AdminError> {
    let user = users::find_by_username_key(conn, &tenant.id, &username.key())?.ok_or(AdminError::NotFound)?;
    reset(conn, &user, one_time, &Origin::default(), json!({ "via": "cli" }), now)
}
