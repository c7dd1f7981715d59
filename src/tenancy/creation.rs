//! Creating a user below oneself: the name it gets ([`naming`]: never one that tells the
//! administrator about users it cannot see), its one-time password, its audit event.

use serde::Serialize;
use serde_json::json;

use crate::auth::hashing::HashPool;
use crate::store::audit::Origin;
use crate::store::users::{self, User};
use crate::store::{Db, DbConn, StoreError, new_id};
use crate::tenancy::admin::{self, Admin, AdminError, OneTimePassword, record};
use crate::tenancy::naming::{self, NameError};
use crate::tenancy::permissions::Action;
use crate::tenancy::{Permission, UserKind};
use crate::text::Refusal;

impl From<NameError> for AdminError {
    fn from(err: NameError) -> Self {
        match err {
            NameError::Refused(refusal) => Self::Invalid(refusal),
            NameError::Store(err) => Self::Store(err),
        }
    }
}

/// Creates `new` below `admin` (or below one of its descendants), hashing the one-time
/// password on `hasher` first; the password is returned once.
pub async fn create_child(
    db: &Db,
    hasher: &HashPool,
    admin: Admin,
    new: NewChild,
    origin: Origin,
    now: i64,
) -> Result<(User, String), AdminError> {
    // Refused before hashing: an administrator who may not create spends no hash.
    admin.may(Action::CreateChild, Some(new.parent_id.as_deref().unwrap_or(&admin.user.id)))?;
    let one_time = admin::new_one_time_password(hasher).await?;
    db.run(move |conn| insert_child(conn, &admin, &new, one_time, &origin, now)).await
}

/// A child user to create.
#[derive(Debug, Clone, serde::Deserialize, Serialize)]
pub struct NewChild {
    pub username: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default = "internal")]
    pub kind: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub totp_required: bool,
    #[serde(default = "none")]
    pub permission: String,
}

fn internal() -> String {
    "internal".into()
}

fn none() -> String {
    "none".into()
}

/// Creates the user in one transaction (see [`create_child`]). A child never gets more
/// permission than its creator.
fn insert_child(
    conn: &mut DbConn,
    admin: &Admin,
    new: &NewChild,
    one_time: OneTimePassword,
    origin: &Origin,
    now: i64,
) -> Result<(User, String), AdminError> {
    let parent_id = new.parent_id.clone().unwrap_or_else(|| admin.user.id.clone());
    admin.may(Action::CreateChild, Some(&parent_id))?;
    let kind = UserKind::parse(&new.kind).map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
    let permission = Permission::parse(&new.permission).map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
    if permission > admin.permission() {
        return Err(AdminError::Invalid(Refusal::new("refusal-more-permission")));
    }
    let named = super::profile::Profile {
        display_name: new.display_name.clone(),
        email: new.email.clone(),
        ..Default::default()
    }
    .checked()
    .map_err(AdminError::Invalid)?;
    let OneTimePassword { plain: one_time, hash } = one_time;
    let mut user = User {
        id: new_id(),
        tenant_id: admin.user.tenant_id.clone(),
        parent_id: Some(parent_id.clone()),
        username: String::new(),
        username_key: String::new(),
        email: named.email,
        display_name: named.display_name,
        kind: kind.as_str().to_owned(),
        password_hash: hash,
        totp_required: new.totp_required,
        permission: permission.as_str().to_owned(),
        disabled: false,
        created_at: now,
        updated_at: now,
        last_login_at: None,
        password_temporary: true,
        profile: users::Profile::default(),
    };
    conn.write(|conn| {
        let name = naming::child_name(conn, &admin.user, &admin.tree, &parent_id, &new.username)?;
        (user.username, user.username_key) = (name.as_str().to_owned(), name.key());
        users::insert(conn, &user).map_err(|e| match e {
            StoreError::Conflict => AdminError::Duplicate(user.username.clone()),
            other => other.into(),
        })?;
        record(conn, admin, origin, &user.id, "user.created", json!({ "username": user.username }), now)
    })?;
    Ok((user, one_time))
}
