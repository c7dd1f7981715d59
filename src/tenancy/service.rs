//! Creating and listing tenants and users, each in one transaction with its audit event.

use super::{Permission, Slug, UserKind, Username};
use crate::auth::password::{self, Password};
use crate::store::audit;
use crate::store::tenants::{self, Tenant};
use crate::store::users::{self, User};
use crate::store::{DbConn, StoreError, new_id};

#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error("unknown tenant '{0}'")]
    UnknownTenant(String),
    #[error("tenant '{0}' already exists")]
    DuplicateTenant(String),
    #[error("no client {0} in this tenant")]
    UnknownClient(String),
    #[error("unknown parent user '{0}' in this tenant")]
    UnknownParent(String),
    #[error("username '{0}' is already taken in this tenant")]
    DuplicateUsername(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::store::Contended for TenancyError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Store(StoreError::Busy(_)))
    }
}

pub fn create_tenant(
    conn: &mut DbConn,
    slug: &Slug,
    name: Option<&str>,
    now: i64,
) -> Result<Tenant, TenancyError> {
    let tenant = Tenant {
        id: new_id(),
        slug: slug.as_str().to_owned(),
        name: name.map(str::trim).filter(|n| !n.is_empty()).unwrap_or(slug.as_str()).to_owned(),
        totp_enabled: true,
        enforce_internal: false,
        enforce_external: false,
        prompt_new_users: true,
        totp_algorithm: "SHA1".to_owned(),
        totp_digits: 6,
        totp_period: 30,
        totp_skew: 1,
        recovery_codes_allowed: true,
        created_at: now,
        updated_at: now,
        password_min_length: crate::auth::password_rules::DEFAULT_MIN_LENGTH,
        remember_device_days: None,
        logo_url: None,
        primary_colour: None,
        default_language: None,
    };
    conn.write(|conn| {
        tenants::insert(conn, &tenant).map_err(|e| match e {
            StoreError::Conflict => TenancyError::DuplicateTenant(tenant.slug.clone()),
            other => other.into(),
        })?;
        audit::insert(conn, &audit::system_event(&tenant.id, None, "tenant.created", now))?;
        Ok(tenant.clone())
    })
}

pub fn list_tenants(conn: &mut DbConn) -> Result<Vec<Tenant>, TenancyError> {
    Ok(tenants::list(conn)?)
}

fn tenant_by_slug(conn: &mut DbConn, slug: &Slug) -> Result<Tenant, TenancyError> {
    tenants::find_by_slug(conn, slug.as_str())?
        .ok_or_else(|| TenancyError::UnknownTenant(slug.as_str().to_owned()))
}

/// How a new user's password arrives.
pub enum InitialPassword {
    /// Typed or generated: hashed (argon2id) on creation.
    Plain(Password),
    /// Already hashed, by Watchword or another system (an import; the scheme was checked
    /// with [`crate::auth::foreign_hashes::check`]).
    Hashed(String),
}

impl std::fmt::Debug for InitialPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Plain(…)",
            Self::Hashed(_) => "Hashed(…)",
        })
    }
}

/// What is needed to create a user; a plain password is hashed here.
#[derive(Debug)]
pub struct NewUser {
    pub tenant: Slug,
    pub username: Username,
    pub password: InitialPassword,
    pub parent: Option<Username>,
    pub kind: UserKind,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub totp_required: bool,
    pub permission: Permission,
    /// A generated password (shown once to whoever creates the user) must be replaced at
    /// the first sign-in; one the operator chose deliberately (`--password-stdin`) need not.
    pub password_temporary: bool,
}

/// A user just created, with its tenant and parent as stored.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub tenant: Tenant,
    pub user: User,
    pub parent: Option<User>,
}

pub fn create_user(conn: &mut DbConn, new: &NewUser, now: i64) -> Result<CreatedUser, TenancyError> {
    if let Some(email) = &new.email
        && !super::profile::email_ok(email)
    {
        return Err(TenancyError::Invalid(format!("invalid email address '{email}'")));
    }
    // Hash before opening the transaction: it is the slow part and touches no row.
    let password_hash = match &new.password {
        InitialPassword::Plain(plain) => {
            password::hash(plain).map_err(|e| TenancyError::Invalid(e.to_string()))?
        }
        InitialPassword::Hashed(hash) => hash.clone(),
    };
    conn.write(|conn| {
        let tenant = tenant_by_slug(conn, &new.tenant)?;
        let parent = match &new.parent {
            Some(parent) => Some(
                users::find_by_username_key(conn, &tenant.id, &parent.key())?
                    .ok_or_else(|| TenancyError::UnknownParent(parent.as_str().to_owned()))?,
            ),
            None => None,
        };
        super::naming::check_owner(conn, &tenant.id, &new.username, parent.as_ref()).map_err(
            |e| match e {
                super::naming::NameError::Refused(refusal) => TenancyError::Invalid(refusal.to_string()),
                super::naming::NameError::Store(err) => err.into(),
            },
        )?;
        let user = User {
            id: new_id(),
            tenant_id: tenant.id.clone(),
            parent_id: parent.as_ref().map(|p| p.id.clone()),
            username: new.username.as_str().to_owned(),
            username_key: new.username.key(),
            email: new.email.clone(),
            display_name: new.display_name.clone().filter(|d| !d.trim().is_empty()),
            kind: new.kind.as_str().to_owned(),
            password_hash: password_hash.clone(),
            totp_required: new.totp_required,
            permission: new.permission.as_str().to_owned(),
            disabled: false,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            password_temporary: new.password_temporary,
            profile: Default::default(),
        };
        users::insert(conn, &user).map_err(|e| match e {
            StoreError::Conflict => TenancyError::DuplicateUsername(user.username.clone()),
            other => other.into(),
        })?;
        audit::insert(conn, &audit::system_event(&tenant.id, Some(&user.id), "user.created", now))?;
        Ok(CreatedUser { tenant, user, parent })
    })
}

/// Changes the tenant's branding (its display name — the issuer authenticator apps
/// show for codes enrolled from now on —, logo and colour) from the command line.
pub fn update_branding(
    conn: &mut DbConn,
    slug: &Slug,
    change: &crate::tenancy::branding::BrandingChange,
    now: i64,
) -> Result<Tenant, TenancyError> {
    use crate::tenancy::branding::{self, BrandingError};
    let tenant = tenant_by_slug(conn, slug)?;
    branding::update(conn, &tenant.id, change, "cli", &audit::Origin::default(), now).map_err(|e| match e {
        BrandingError::Invalid(refusal) => TenancyError::Invalid(refusal.to_string()),
        BrandingError::Store(store) => store.into(),
    })
}

pub fn list_users(conn: &mut DbConn, tenant: &Slug) -> Result<Vec<User>, TenancyError> {
    let tenant = tenant_by_slug(conn, tenant)?;
    Ok(users::list_by_tenant(conn, &tenant.id)?)
}

/// Looks up a tenant by slug, for callers outside this module (clients, CLI).
pub fn find_tenant(conn: &mut DbConn, slug: &Slug) -> Result<Tenant, TenancyError> {
    tenant_by_slug(conn, slug)
}

impl From<diesel::result::Error> for TenancyError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}
