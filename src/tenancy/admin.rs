//! Tenant administration by parent users: the domain behind the admin pages, the admin
//! API and the operator CLI. Every act checks [`permissions::check`] over the tenant's
//! tree (loaded in one query) and writes its audit event in the same transaction.

use serde::Serialize;
use serde_json::json;

use super::permissions::{self, Action, Actor, Denied, Tree};
use super::{Permission, Username};
use crate::auth::hashing::{HashError, HashPool};
use crate::auth::password::Password;
use crate::store::audit::{self, Origin};
use crate::store::tenants::Tenant;
use crate::store::users::{self, User};
use crate::store::{DbConn, StoreError, sessions, tokens, totp};
use crate::text::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error("no such user")]
    NotFound,
    #[error("{0}")]
    Invalid(Refusal),
    #[error("username '{0}' is already taken in this tenant")]
    Duplicate(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::store::Contended for AdminError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(StoreError::Busy(_)))
    }
}

impl From<diesel::result::Error> for AdminError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}

/// A signed-in administrator and the tree of its tenant.
pub struct Admin {
    pub user: User,
    pub tree: Tree,
}

impl Admin {
    pub fn load(conn: &mut DbConn, user: User) -> Result<Self, AdminError> {
        let tree = Tree::new(users::tree(conn, &user.tenant_id)?);
        Ok(Self { user, tree })
    }

    fn actor(&self) -> Actor<'_> {
        Actor {
            id: &self.user.id,
            permission: Permission::parse(&self.user.permission).unwrap_or(Permission::None),
            is_root: self.user.parent_id.is_none(),
        }
    }

    pub fn may(&self, action: Action, target: Option<&str>) -> Result<(), Denied> {
        permissions::check(&self.tree, self.actor(), action, target)
    }

    pub fn permission(&self) -> Permission {
        self.actor().permission
    }

    pub fn is_root(&self) -> bool {
        self.user.parent_id.is_none()
    }
}

/// A user as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub parent_id: Option<String>,
    pub kind: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub permission: String,
    /// "none", "pending" or "active".
    pub totp_status: String,
    pub totp_activated_at: Option<i64>,
    pub totp_enforced: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// The active authenticators, oldest first.
    pub authenticators: Vec<AuthenticatorView>,
    /// The name, e-mail address and profile claims.
    pub profile: super::profile::Profile,
}

/// One active authenticator of a user.
#[derive(Debug, Clone, Serialize)]
pub struct AuthenticatorView {
    pub label: String,
    pub activated_at: Option<i64>,
}

fn view(user: &User, statuses: &[totp::CredentialStatus]) -> UserView {
    let mine: Vec<&totp::CredentialStatus> = statuses.iter().filter(|(u, _, _, _)| *u == user.id).collect();
    let active: Vec<&&totp::CredentialStatus> =
        mine.iter().filter(|(_, s, _, _)| s == totp::ACTIVE).collect();
    let status = if !active.is_empty() {
        "active"
    } else if mine.iter().any(|(_, s, _, _)| s == totp::PENDING) {
        "pending"
    } else {
        "none"
    };
    UserView {
        id: user.id.clone(),
        username: user.username.clone(),
        parent_id: user.parent_id.clone(),
        kind: user.kind.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        permission: user.permission.clone(),
        totp_status: status.to_owned(),
        totp_activated_at: active.iter().filter_map(|(_, _, at, _)| *at).min(),
        totp_enforced: user.totp_required,
        disabled: user.disabled,
        created_at: user.created_at,
        authenticators: active
            .iter()
            .map(|(_, _, at, label)| AuthenticatorView { label: label.clone(), activated_at: *at })
            .collect(),
        profile: super::profile::Profile::of(user),
    }
}

/// The view of a user just created (no credentials yet).
pub fn new_user_view(user: &User) -> UserView {
    view(user, &[])
}

/// One page of the actor's descendants, filtered by a username fragment.
#[derive(Debug, Serialize)]
pub struct UserPage {
    pub users: Vec<UserView>,
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
}

pub const PER_PAGE: usize = 50;
/// The last page a listing goes to (50 million rows): a larger number asked for is this
/// one, so no page arithmetic can overflow.
const MAX_PAGE: usize = 1_000_000;

/// A page number as asked for, within 1 and [`MAX_PAGE`].
pub fn page_number(asked: usize) -> usize {
    asked.clamp(1, MAX_PAGE)
}

pub fn list_users(
    conn: &mut DbConn,
    admin: &Admin,
    search: Option<&str>,
    page: usize,
) -> Result<UserPage, AdminError> {
    if admin.permission() < Permission::Read {
        return Err(Denied::Permission.into());
    }
    let needle = search.map(str::to_lowercase).filter(|s| !s.is_empty());
    let all = users::list_by_tenant(conn, &admin.user.tenant_id)?;
    let statuses = totp::statuses_in_tenant(conn, &admin.user.tenant_id)?;
    let below: Vec<&User> = all
        .iter()
        .filter(|u| admin.tree.is_below(&u.id, &admin.user.id))
        .filter(|u| needle.as_ref().is_none_or(|n| u.username_key.contains(n.as_str())))
        .collect();
    let page = page_number(page);
    let users = below.iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).map(|u| view(u, &statuses)).collect();
    Ok(UserPage { users, total: below.len(), page, per_page: PER_PAGE })
}

/// The user `id` of the administrator's tenant, if `action` on it is allowed.
pub(super) fn target(conn: &mut DbConn, admin: &Admin, action: Action, id: &str) -> Result<User, AdminError> {
    admin.may(action, Some(id))?;
    match users::find_with_tenant(conn, id)? {
        Some((user, _)) if user.tenant_id == admin.user.tenant_id => Ok(user),
        _ => Err(AdminError::NotFound),
    }
}

pub fn get_user(conn: &mut DbConn, admin: &Admin, id: &str) -> Result<UserView, AdminError> {
    let user = target(conn, admin, Action::Read, id)?;
    let statuses = totp::statuses_of_user(conn, &user.id)?;
    Ok(view(&user, &statuses))
}

pub(super) fn record(
    conn: &mut DbConn,
    admin: &Admin,
    origin: &Origin,
    target: &str,
    event: &str,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), AdminError> {
    let origin = Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
    audit::record(conn, &admin.user.tenant_id, &origin, Some(target), event, detail, now)?;
    Ok(())
}

/// Ends everything the user is signed in with — SSO sessions and refresh-token
/// families — and forgets its remembered devices; returns how many devices.
fn sign_out_everywhere(conn: &mut DbConn, user_id: &str, now: i64) -> Result<usize, StoreError> {
    sessions::revoke_all_for_user(conn, user_id, now)?;
    tokens::revoke_by_user(conn, user_id, now)?;
    crate::store::remembered::forget_all(conn, user_id)
}

/// Deletes the target's TOTP credential and recovery codes and signs it out everywhere;
/// its next login enrols a new secret when policy requires TOTP.
pub fn revoke_totp(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    reason: &str,
    origin: &Origin,
    now: i64,
) -> Result<(), AdminError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.len() > 500 {
        return Err(AdminError::Invalid(Refusal::new("refusal-reason")));
    }
    let user = target(conn, admin, Action::RevokeTotp, id)?;
    conn.write(|conn| {
        let removed = totp::delete_all(conn, &user.id)?;
        let devices = sign_out_everywhere(conn, &user.id, now)?;
        if devices > 0 {
            let detail = json!({ "devices": devices, "reason": "totp.revoked" });
            record(conn, admin, origin, &user.id, "device.forgotten_all", detail, now)?;
        }
        record(
            conn,
            admin,
            origin,
            &user.id,
            "totp.revoked",
            json!({ "reason": reason, "credentials": removed, "devices_forgotten": devices }),
            now,
        )
    })
}

pub fn set_enforcement(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    on: bool,
    origin: &Origin,
    now: i64,
) -> Result<(), AdminError> {
    let user = target(conn, admin, if on { Action::EnforceOn } else { Action::EnforceOff }, id)?;
    conn.write(|conn| {
        users::set_totp_required(conn, &user.id, on, now)?;
        let event = if on { "totp.enforcement_on" } else { "totp.enforcement_off" };
        record(conn, admin, origin, &user.id, event, json!({}), now)
    })
}

pub fn set_disabled(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    disabled: bool,
    origin: &Origin,
    now: i64,
) -> Result<(), AdminError> {
    let user = target(conn, admin, if disabled { Action::Disable } else { Action::Enable }, id)?;
    conn.write(|conn| {
        users::set_disabled(conn, &user.id, disabled, now)?;
        let devices = if disabled { sign_out_everywhere(conn, &user.id, now)? } else { 0 };
        if devices > 0 {
            let detail = json!({ "devices": devices, "reason": "user.disabled" });
            record(conn, admin, origin, &user.id, "device.forgotten_all", detail, now)?;
        }
        let detail = if disabled { json!({ "devices_forgotten": devices }) } else { json!({}) };
        record(
            conn,
            admin,
            origin,
            &user.id,
            if disabled { "user.disabled" } else { "user.enabled" },
            detail,
            now,
        )
    })
}

/// A generated password and its hash, made before the database is touched (the hash
/// runs on the server's hashing pool).
// No Debug: it holds a password.
pub struct OneTimePassword {
    pub plain: String,
    pub hash: String,
}

/// A fresh one-time password, hashed on `hasher` (a full pool is a 503, like an outage).
pub async fn new_one_time_password(hasher: &HashPool) -> Result<OneTimePassword, AdminError> {
    let plain = crate::random::password();
    let password = Password::parse(plain.clone()).map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
    let hash = hasher.hash(password).await.map_err(|e| match e {
        HashError::Password(e) => AdminError::Invalid(Refusal::text(e)),
        busy_or_stopped => AdminError::Store(StoreError::Unavailable(busy_or_stopped.to_string())),
    })?;
    Ok(OneTimePassword { plain, hash })
}

/// The operator's revocation (CLI): no actor, the same effects and audit event.
pub fn revoke_totp_as_operator(
    conn: &mut DbConn,
    tenant: &Tenant,
    username: &Username,
    reason: &str,
    now: i64,
) -> Result<(), AdminError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AdminError::Invalid(Refusal::new("refusal-reason-cli")));
    }
    let user = users::find_by_username_key(conn, &tenant.id, &username.key())?.ok_or(AdminError::NotFound)?;
    conn.write(|conn| {
        let removed = totp::delete_all(conn, &user.id)?;
        let devices = sign_out_everywhere(conn, &user.id, now)?;
        if devices > 0 {
            let detail = json!({ "devices": devices, "reason": "totp.revoked", "via": "cli" });
            audit::record(
                conn,
                &tenant.id,
                &Origin::default(),
                Some(&user.id),
                "device.forgotten_all",
                detail,
                now,
            )?;
        }
        let detail =
            json!({ "reason": reason, "credentials": removed, "devices_forgotten": devices, "via": "cli" });
        audit::record(conn, &tenant.id, &Origin::default(), Some(&user.id), "totp.revoked", detail, now)?;
        Ok(())
    })
}

/// An administrator changes the profile of the user `id` below it.
pub fn update_child_profile(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    profile: super::profile::Profile,
    origin: &Origin,
    now: i64,
) -> Result<Vec<&'static str>, AdminError> {
    let user = target(conn, admin, Action::EditProfile, id)?;
    let profile = profile.checked().map_err(AdminError::Invalid)?;
    let origin = Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
    Ok(super::profile::write(conn, &user.id, &profile, &origin, now)?)
}
