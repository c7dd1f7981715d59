//! The `tenants` table: organisations and their TOTP policy.

use diesel::prelude::*;

use super::schema::tenants;
use super::{DbConn, StoreError};

/// A tenant row, policy columns included.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = tenants, treat_none_as_default_value = false)]
pub struct Tenant {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub totp_enabled: bool,
    pub enforce_internal: bool,
    pub enforce_external: bool,
    pub prompt_new_users: bool,
    pub totp_algorithm: String,
    pub totp_digits: i32,
    pub totp_period: i32,
    pub totp_skew: i32,
    pub recovery_codes_allowed: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// The shortest password a user may choose (characters).
    pub password_min_length: i32,
    /// Days a browser may skip the code after "don't ask again" (1–90); `None`: off.
    pub remember_device_days: Option<i32>,
    /// The logo shown on the tenant's pages (an https URL).
    pub logo_url: Option<String>,
    /// The colour of buttons and links on the tenant's pages in the light theme (`#rrggbb`).
    pub primary_colour: Option<String>,
    /// The pages' language when the visitor's browser asks for none they have (`en`, `de`).
    pub default_language: Option<String>,
}

pub fn insert(conn: &mut DbConn, tenant: &Tenant) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(tenants::table).values(tenant).execute(c))?;
    Ok(())
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> Result<Option<Tenant>, StoreError> {
    Ok(crate::native!(conn, |c| tenants::table
        .filter(tenants::slug.eq(slug))
        .select(Tenant::as_select())
        .load(c))?
    .into_iter()
    .next())
}

pub fn list(conn: &mut DbConn) -> Result<Vec<Tenant>, StoreError> {
    Ok(crate::native!(conn, |c| tenants::table.order(tenants::slug).select(Tenant::as_select()).load(c))?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, StoreError> {
    Ok(crate::native!(conn, |c| tenants::table.count().get_result(c))?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Tenant>, StoreError> {
    Ok(crate::native!(conn, |c| tenants::table.find(id).select(Tenant::as_select()).load(c))?
        .into_iter()
        .next())
}

/// Saves the branding columns of `tenant` (name, logo, colour).
pub fn save_branding(conn: &mut DbConn, tenant: &Tenant, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(tenants::table.find(&tenant.id))
        .set((
            tenants::name.eq(&tenant.name),
            tenants::logo_url.eq(&tenant.logo_url),
            tenants::primary_colour.eq(&tenant.primary_colour),
            tenants::default_language.eq(&tenant.default_language),
            tenants::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// Saves the TOTP policy columns of `tenant`.
pub fn save_policy(conn: &mut DbConn, tenant: &Tenant, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(tenants::table.find(&tenant.id))
        .set((
            tenants::totp_enabled.eq(tenant.totp_enabled),
            tenants::enforce_internal.eq(tenant.enforce_internal),
            tenants::enforce_external.eq(tenant.enforce_external),
            tenants::prompt_new_users.eq(tenant.prompt_new_users),
            tenants::totp_algorithm.eq(&tenant.totp_algorithm),
            tenants::totp_digits.eq(tenant.totp_digits),
            tenants::totp_period.eq(tenant.totp_period),
            tenants::totp_skew.eq(tenant.totp_skew),
            tenants::recovery_codes_allowed.eq(tenant.recovery_codes_allowed),
            tenants::password_min_length.eq(tenant.password_min_length),
            tenants::remember_device_days.eq(tenant.remember_device_days),
            tenants::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}
