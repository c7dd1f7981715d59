//! The tenant's settings as its root administrators (and the operator) see and change
//! them — TOTP policy, password length, remembered devices — and the audit log.

use serde::Serialize;
use serde_json::json;

use super::Permission;
use super::admin::{Admin, AdminError, PER_PAGE};
use super::permissions::{Action, Denied};
use crate::store::DbConn;
use crate::store::audit::{self, AuditEvent, Origin};
use crate::store::tenants::{self, Tenant};
use crate::text::Refusal;

/// The TOTP policy fields of a tenant.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PolicyView {
    pub enabled: bool,
    pub enforce_internal: bool,
    pub enforce_external: bool,
    pub prompt_new_users: bool,
    pub algorithm: String,
    pub digits: i32,
    pub period: i32,
    pub skew: i32,
    pub recovery_codes_allowed: bool,
    /// The shortest password a user may choose (8–128; absent in a request: unchanged).
    #[serde(default)]
    pub password_min_length: Option<i32>,
    /// Days a browser may skip the code after "don't ask again": 1–90, or 0 for off
    /// (absent in a request: unchanged).
    #[serde(default)]
    pub remember_device_days: Option<i32>,
}

impl PolicyView {
    pub fn of(t: &Tenant) -> Self {
        Self {
            enabled: t.totp_enabled,
            enforce_internal: t.enforce_internal,
            enforce_external: t.enforce_external,
            prompt_new_users: t.prompt_new_users,
            algorithm: t.totp_algorithm.clone(),
            digits: t.totp_digits,
            period: t.totp_period,
            skew: t.totp_skew,
            recovery_codes_allowed: t.recovery_codes_allowed,
            password_min_length: Some(t.password_min_length),
            remember_device_days: Some(t.remember_device_days.unwrap_or(0)),
        }
    }

    /// Checks the values and writes them into `tenant`.
    pub fn apply(&self, tenant: &mut Tenant) -> Result<(), AdminError> {
        let algorithm = crate::auth::totp::TotpAlgorithm::parse(&self.algorithm)
            .map_err(|e| AdminError::Invalid(Refusal::text(e)))?;
        if !(6..=8).contains(&self.digits) {
            return Err(AdminError::Invalid(Refusal::new("refusal-digits")));
        }
        if self.period != 30 && self.period != 60 {
            return Err(AdminError::Invalid(Refusal::new("refusal-period")));
        }
        if !(0..=2).contains(&self.skew) {
            return Err(AdminError::Invalid(Refusal::new("refusal-skew")));
        }
        tenant.totp_enabled = self.enabled;
        tenant.enforce_internal = self.enforce_internal;
        tenant.enforce_external = self.enforce_external;
        tenant.prompt_new_users = self.prompt_new_users;
        tenant.totp_algorithm = algorithm.as_str().to_owned();
        tenant.totp_digits = self.digits;
        tenant.totp_period = self.period;
        tenant.totp_skew = self.skew;
        tenant.recovery_codes_allowed = self.recovery_codes_allowed;
        if let Some(min) = self.password_min_length {
            if !crate::auth::password_rules::MIN_LENGTH_RANGE.contains(&min) {
                return Err(AdminError::Invalid(Refusal::new("refusal-min-length")));
            }
            tenant.password_min_length = min;
        }
        match self.remember_device_days {
            None => {}
            Some(0) => tenant.remember_device_days = None,
            Some(days) if crate::auth::remembered::DAYS_RANGE.contains(&days) => {
                tenant.remember_device_days = Some(days);
            }
            Some(_) => {
                return Err(AdminError::Invalid(Refusal::new("refusal-remember-days")));
            }
        }
        Ok(())
    }
}

pub fn get_policy(conn: &mut DbConn, admin: &Admin) -> Result<PolicyView, AdminError> {
    if admin.permission() < Permission::Read {
        return Err(Denied::Permission.into());
    }
    let tenant = tenants::find(conn, &admin.user.tenant_id)?.ok_or(AdminError::NotFound)?;
    Ok(PolicyView::of(&tenant))
}

pub fn update_policy(
    conn: &mut DbConn,
    admin: &Admin,
    policy: &PolicyView,
    origin: &Origin,
    now: i64,
) -> Result<PolicyView, AdminError> {
    admin.may(Action::EditPolicy, None)?;
    let mut tenant = tenants::find(conn, &admin.user.tenant_id)?.ok_or(AdminError::NotFound)?;
    let before = PolicyView::of(&tenant);
    policy.apply(&mut tenant)?;
    conn.write(|conn| {
        tenants::save_policy(conn, &tenant, now)?;
        let origin = Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
        audit::record(
            conn,
            &tenant.id,
            &origin,
            None,
            "tenant.policy_changed",
            json!({ "before": before, "after": policy }),
            now,
        )?;
        Ok::<_, AdminError>(())
    })?;
    Ok(PolicyView::of(&tenant))
}

/// Audit events the actor may read: the whole tenant for a root user, else the events
/// about its descendants.
pub fn audit_log(
    conn: &mut DbConn,
    admin: &Admin,
    user: Option<&str>,
    event: Option<&str>,
    span: audit::Span,
    page: usize,
) -> Result<Vec<AuditEvent>, AdminError> {
    if admin.permission() < Permission::Read {
        return Err(Denied::Permission.into());
    }
    if let Some(user) = user
        && !admin.is_root()
    {
        admin.may(Action::Read, Some(user))?;
    }
    let page = crate::tenancy::admin::page_number(page);
    let offset = i64::try_from((page - 1) * PER_PAGE).unwrap_or(0);
    let limit = i64::try_from(PER_PAGE).unwrap_or(50);
    if admin.is_root() || user.is_some() {
        return Ok(audit::search(conn, &admin.user.tenant_id, user, event, span, limit, offset)?);
    }
    // Not a root: filter to events about descendants (fetch a generous window, then filter).
    let all = audit::search(conn, &admin.user.tenant_id, None, event, span, limit * 20, 0)?;
    Ok(all
        .into_iter()
        .filter(|e| e.target_user_id.as_deref().is_some_and(|t| admin.tree.is_below(t, &admin.user.id)))
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect())
}

/// The operator's policy change (CLI).
pub fn update_policy_as_operator(
    conn: &mut DbConn,
    tenant: &Tenant,
    policy: &PolicyView,
    now: i64,
) -> Result<PolicyView, AdminError> {
    let mut tenant = tenant.clone();
    let before = PolicyView::of(&tenant);
    policy.apply(&mut tenant)?;
    conn.write(|conn| {
        tenants::save_policy(conn, &tenant, now)?;
        let detail = json!({ "before": before, "after": policy, "via": "cli" });
        audit::record(conn, &tenant.id, &Origin::default(), None, "tenant.policy_changed", detail, now)?;
        Ok::<_, AdminError>(())
    })?;
    Ok(PolicyView::of(&tenant))
}
