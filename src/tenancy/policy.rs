//! TOTP policy resolution, most specific wins: the installation's switch, the tenant
//! (enforce per user kind, prompt new users), the user's own "TOTP required", and the
//! client (require MFA, or an `acr` request for multi-factor).

use super::UserKind;

/// What the tenant row says about TOTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantTotpPolicy {
    pub enabled: bool,
    pub enforce_internal: bool,
    pub enforce_external: bool,
    pub prompt_new_users: bool,
}

/// The facts about one login that policy looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFacts {
    /// The installation-wide switch (`WATCHWORD_TOTP_ENABLED`).
    pub globally_enabled: bool,
    pub tenant: TenantTotpPolicy,
    pub kind: UserKind,
    pub user_totp_required: bool,
    /// This user has never signed in before.
    pub first_login: bool,
    /// The client requires MFA, or the request asks for the multi-factor `acr`.
    pub client_requires_mfa: bool,
}

impl LoginFacts {
    /// The facts of `user` of `tenant` as stored; `first_login` when it never signed in.
    pub fn of(
        user: &crate::store::users::User,
        tenant: &crate::store::tenants::Tenant,
        globally_enabled: bool,
        client_requires_mfa: bool,
    ) -> Self {
        Self {
            globally_enabled,
            tenant: TenantTotpPolicy {
                enabled: tenant.totp_enabled,
                enforce_internal: tenant.enforce_internal,
                enforce_external: tenant.enforce_external,
                prompt_new_users: tenant.prompt_new_users,
            },
            kind: UserKind::parse(&user.kind).unwrap_or(UserKind::Internal),
            user_totp_required: user.totp_required,
            first_login: user.last_login_at.is_none(),
            client_requires_mfa,
        }
    }
}

/// Whether a user without an active credential must, may, or need not enrol now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Requirement {
    /// Enrol before signing in.
    Required,
    /// Offer "Set up now" or "Later".
    Prompt,
    /// Sign in with the password alone.
    NotRequired,
}

pub fn resolve(f: &LoginFacts) -> Requirement {
    // A client's demand for MFA cannot be waived by anything less specific.
    if f.client_requires_mfa {
        return Requirement::Required;
    }
    if !f.globally_enabled || !f.tenant.enabled {
        return Requirement::NotRequired;
    }
    let enforced_for_kind = match f.kind {
        UserKind::Internal => f.tenant.enforce_internal,
        UserKind::External => f.tenant.enforce_external,
    };
    if f.user_totp_required || enforced_for_kind {
        Requirement::Required
    } else if f.tenant.prompt_new_users && f.first_login {
        Requirement::Prompt
    } else {
        Requirement::NotRequired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> LoginFacts {
        LoginFacts {
            globally_enabled: true,
            tenant: TenantTotpPolicy {
                enabled: true,
                enforce_internal: false,
                enforce_external: false,
                prompt_new_users: false,
            },
            kind: UserKind::Internal,
            user_totp_required: false,
            first_login: false,
            client_requires_mfa: false,
        }
    }

    #[test]
    fn nothing_set_means_password_only() {
        assert_eq!(resolve(&facts()), Requirement::NotRequired);
    }

    #[test]
    fn each_layer_can_require() {
        assert_eq!(resolve(&LoginFacts { user_totp_required: true, ..facts() }), Requirement::Required);
        assert_eq!(resolve(&LoginFacts { client_requires_mfa: true, ..facts() }), Requirement::Required);
        let internal = TenantTotpPolicy { enforce_internal: true, ..facts().tenant };
        assert_eq!(resolve(&LoginFacts { tenant: internal, ..facts() }), Requirement::Required);
        assert_eq!(
            resolve(&LoginFacts { tenant: internal, kind: UserKind::External, ..facts() }),
            Requirement::NotRequired,
            "enforcement is per kind"
        );
        let external = TenantTotpPolicy { enforce_external: true, ..facts().tenant };
        assert_eq!(
            resolve(&LoginFacts { tenant: external, kind: UserKind::External, ..facts() }),
            Requirement::Required
        );
    }

    #[test]
    fn switches_off_above_waive_all_but_the_client() {
        let required = LoginFacts { user_totp_required: true, ..facts() };
        assert_eq!(resolve(&LoginFacts { globally_enabled: false, ..required }), Requirement::NotRequired);
        let off = TenantTotpPolicy { enabled: false, ..facts().tenant };
        assert_eq!(resolve(&LoginFacts { tenant: off, ..required }), Requirement::NotRequired);
        assert_eq!(
            resolve(&LoginFacts { globally_enabled: false, client_requires_mfa: true, ..facts() }),
            Requirement::Required
        );
    }

    #[test]
    fn new_users_are_prompted_once() {
        let prompt = TenantTotpPolicy { prompt_new_users: true, ..facts().tenant };
        assert_eq!(
            resolve(&LoginFacts { tenant: prompt, first_login: true, ..facts() }),
            Requirement::Prompt
        );
        assert_eq!(
            resolve(&LoginFacts { tenant: prompt, first_login: false, ..facts() }),
            Requirement::NotRequired
        );
        assert_eq!(
            resolve(&LoginFacts { tenant: prompt, first_login: true, user_totp_required: true, ..facts() }),
            Requirement::Required
        );
    }
}
