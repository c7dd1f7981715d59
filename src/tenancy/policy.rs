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
    explain(f).0
}

/// Which switch decided a [`Requirement`] — what an administrator is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecidedBy {
    /// The client requires MFA (or the request asked for it).
    Client,
    /// `WATCHWORD_TOTP_ENABLED` is off for the whole installation.
    Installation,
    /// The tenant's TOTP switch is off.
    Tenant,
    /// The user's own "TOTP required".
    User,
    /// The tenant enforces TOTP for internal users.
    TenantInternal,
    /// The tenant enforces TOTP for external users.
    TenantExternal,
    /// Nothing requires it; the tenant offers it to new users at their first sign-in.
    OfferedOnly,
    /// Nothing requires or offers it.
    Nothing,
}

impl DecidedBy {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Client => "the application requires two-step verification",
            Self::Installation => "TOTP is switched off for the whole installation",
            Self::Tenant => "TOTP is switched off for this tenant",
            Self::User => "TOTP is required for this user",
            Self::TenantInternal => "the tenant requires TOTP of internal users",
            Self::TenantExternal => "the tenant requires TOTP of external users",
            Self::OfferedOnly => "not required; offered at the first sign-in",
            Self::Nothing => "nothing requires it",
        }
    }
}

/// [`resolve`], and the switch that decided it: most specific first (the client), then
/// the switches that can waive everything else, then the user, the tenant's per-kind
/// enforcement, and the offer to new users.
pub fn explain(f: &LoginFacts) -> (Requirement, DecidedBy) {
    // A client's demand for MFA cannot be waived by anything less specific.
    if f.client_requires_mfa {
        return (Requirement::Required, DecidedBy::Client);
    }
    if !f.globally_enabled {
        return (Requirement::NotRequired, DecidedBy::Installation);
    }
    if !f.tenant.enabled {
        return (Requirement::NotRequired, DecidedBy::Tenant);
    }
    let enforced_for_kind = match f.kind {
        UserKind::Internal => f.tenant.enforce_internal.then_some(DecidedBy::TenantInternal),
        UserKind::External => f.tenant.enforce_external.then_some(DecidedBy::TenantExternal),
    };
    if f.user_totp_required {
        (Requirement::Required, DecidedBy::User)
    } else if let Some(by) = enforced_for_kind {
        (Requirement::Required, by)
    } else if f.tenant.prompt_new_users && f.first_login {
        (Requirement::Prompt, DecidedBy::OfferedOnly)
    } else if f.tenant.prompt_new_users {
        (Requirement::NotRequired, DecidedBy::OfferedOnly)
    } else {
        (Requirement::NotRequired, DecidedBy::Nothing)
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
    fn the_explanation_names_the_deciding_switch() {
        assert_eq!(explain(&facts()), (Requirement::NotRequired, DecidedBy::Nothing));
        let required = LoginFacts { user_totp_required: true, ..facts() };
        assert_eq!(explain(&required), (Requirement::Required, DecidedBy::User));
        assert_eq!(explain(&LoginFacts { globally_enabled: false, ..required }).1, DecidedBy::Installation);
        let off = TenantTotpPolicy { enabled: false, ..facts().tenant };
        assert_eq!(explain(&LoginFacts { tenant: off, ..required }).1, DecidedBy::Tenant);
        assert_eq!(
            explain(&LoginFacts { client_requires_mfa: true, tenant: off, ..facts() }).1,
            DecidedBy::Client
        );
        let both = TenantTotpPolicy { enforce_internal: true, enforce_external: true, ..facts().tenant };
        assert_eq!(explain(&LoginFacts { tenant: both, ..facts() }).1, DecidedBy::TenantInternal);
        assert_eq!(
            explain(&LoginFacts { tenant: both, kind: UserKind::External, ..facts() }).1,
            DecidedBy::TenantExternal
        );
        let prompt = TenantTotpPolicy { prompt_new_users: true, ..facts().tenant };
        assert_eq!(
            explain(&LoginFacts { tenant: prompt, first_login: true, ..facts() }),
            (Requirement::Prompt, DecidedBy::OfferedOnly)
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
