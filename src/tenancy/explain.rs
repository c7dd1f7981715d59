//! "Why does this user (not) give a code?" — the resolved TOTP requirement of a user
//! and the switch that decided it ([`super::policy::explain`]), for the user itself and
//! for each client of its tenant, as `/admin` and `GET /api/v1/users/{id}` show it.

use serde::Serialize;

use super::admin::{Admin, AdminError, target};
use super::permissions::Action;
use super::policy::{self, DecidedBy, LoginFacts, Requirement};
use crate::store::{DbConn, clients, tenants, totp};

/// A requirement as shown: what happens at the next sign-in, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// `required`, `offered` or `not_required`.
    pub requirement: &'static str,
    pub decided_by: DecidedBy,
    pub reason: &'static str,
}

impl Decision {
    fn of((requirement, decided_by): (Requirement, DecidedBy)) -> Self {
        let requirement = match requirement {
            Requirement::Required => "required",
            Requirement::Prompt => "offered",
            Requirement::NotRequired => "not_required",
        };
        Self { requirement, decided_by, reason: decided_by.describe() }
    }
}

/// What one client will ask of the user.
#[derive(Debug, Clone, Serialize)]
pub struct ClientDecision {
    pub client_id: String,
    pub name: String,
    #[serde(flatten)]
    pub decision: Decision,
    /// `off` (the tenant does not remember devices), `refused` (this client always asks
    /// for the code), `single_factor` or `multi_factor` (what a remembered device counts as).
    pub remembered_devices: &'static str,
}

/// The user's TOTP requirement, explained.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// With an active authenticator, every sign-in asks for its code whatever the policy.
    pub has_active_totp: bool,
    /// Without a client (the account page), or a client that adds nothing.
    #[serde(flatten)]
    pub decision: Decision,
    pub clients: Vec<ClientDecision>,
}

/// The explanation for user `id`, for an administrator who may read it.
pub fn explain_user(
    conn: &mut DbConn,
    admin: &Admin,
    id: &str,
    globally_enabled: bool,
) -> Result<Explanation, AdminError> {
    let user = target(conn, admin, Action::Read, id)?;
    let tenant = tenants::find(conn, &user.tenant_id)?.ok_or(AdminError::NotFound)?;
    let has_active_totp = totp::for_user(conn, &user.id)?.iter().any(|c| c.status == totp::ACTIVE);
    let facts = LoginFacts::of(&user, &tenant, globally_enabled, false);
    let remembering = tenant.remember_device_days.is_some();
    let clients = clients::list_by_tenant(conn, &tenant.id)?
        .into_iter()
        .map(|client| ClientDecision {
            decision: Decision::of(policy::explain(&LoginFacts {
                client_requires_mfa: client.require_mfa,
                ..facts
            })),
            remembered_devices: match (
                remembering,
                client.allow_remembered_devices,
                client.remembered_device_mfa,
            ) {
                (false, _, _) => "off",
                (true, false, _) => "refused",
                (true, true, false) => "single_factor",
                (true, true, true) => "multi_factor",
            },
            client_id: client.id,
            name: client.name,
        })
        .collect();
    Ok(Explanation { has_active_totp, decision: Decision::of(policy::explain(&facts)), clients })
}
