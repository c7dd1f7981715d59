//! The one gate. Every path that yields or uses a session or a token — finishing a
//! sign-in, an SSO session reused by `/authorize` (with or without `prompt=none`), the
//! account and admin pages, a refresh, an access token at `/userinfo` or the admin API —
//! asks the same question here, of the user as stored *now*: enabled, code step not
//! locked, password not waiting to be replaced, and the way the session was signed in
//! still enough for the tenant's policy, the user's own credentials and the client.
//! A user who enrolled TOTP after a password-only session began, or whose enforcement
//! was switched on, is asked again; one whose secret was revoked was signed out then.

use diesel::prelude::*;

use crate::auth::flow::Amr;
use crate::store::schema::{tenants, totp_credentials, users};
use crate::store::tenants::Tenant;
use crate::store::users::User;
use crate::store::{DbConn, StoreError, totp};
use crate::tenancy::policy::{self, LoginFacts, Requirement};

/// What the gate looks at: the user, its tenant, its lock and whether it has an
/// active authenticator — read in one query.
#[derive(Debug, Clone)]
pub struct Standing {
    pub user: User,
    pub tenant: Tenant,
    pub totp_locked_until: Option<i64>,
    pub has_active_totp: bool,
}

/// Why the gate said no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the user is disabled")]
    Disabled,
    #[error("the user's code step is locked")]
    Locked,
    #[error("the user's password must be replaced first")]
    PasswordMustChange,
    /// Signed in with less than policy, the user's credentials or the client ask now.
    #[error("a second factor is needed")]
    SecondFactorNeeded,
}

/// The standing of the users `filter` selects (one at most), in one query.
macro_rules! standing_where {
    ($conn:expr, $filter:expr) => {{
        let active = diesel::dsl::exists(
            totp_credentials::table
                .filter(totp_credentials::user_id.eq(users::id))
                .filter(totp_credentials::status.eq(totp::ACTIVE)),
        );
        let rows: Vec<(User, Tenant, Option<i64>, bool)> = crate::native!($conn, |c| users::table
            .inner_join(tenants::table)
            .filter($filter)
            .select((User::as_select(), Tenant::as_select(), users::totp_locked_until, active))
            .load(c))?;
        Ok(rows.into_iter().next().map(|(user, tenant, totp_locked_until, has_active_totp)| Standing {
            user,
            tenant,
            totp_locked_until,
            has_active_totp,
        }))
    }};
}

/// The user's standing, or `None` when there is no such user.
pub fn load(conn: &mut DbConn, user_id: &str) -> Result<Option<Standing>, StoreError> {
    standing_where!(conn, users::id.eq(user_id))
}

/// The standing of the user whose username key (trimmed, lower-cased) is `username_key`
/// in `tenant_id`, or `None`: the password step reads the user and what follows its
/// check in this one query, before the hash.
pub fn load_by_username(
    conn: &mut DbConn,
    tenant_id: &str,
    username_key: &str,
) -> Result<Option<Standing>, StoreError> {
    standing_where!(conn, users::tenant_id.eq(tenant_id).and(users::username_key.eq(username_key)))
}

/// What the client (and its request) asks of a sign-in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Demand {
    /// Multi-factor: the client's `--require-mfa`, `acr_values`/`claims`, or a step-up.
    pub mfa: bool,
    /// What the client says about remembered devices.
    pub devices: crate::auth::remembered::Terms,
}

impl Demand {
    pub fn mfa(mfa: bool) -> Self {
        Self { mfa, ..Self::default() }
    }

    /// A client's standing demand (its request may add multi-factor).
    pub fn of(client: &crate::store::clients::Client, request_mfa: bool) -> Self {
        Self {
            mfa: client.require_mfa || request_mfa,
            devices: crate::auth::remembered::Terms {
                refused: !client.allow_remembered_devices,
                counts_as_mfa: client.remembered_device_mfa,
                max_age: None,
            },
        }
    }
}

/// May this user have (or keep using) a session or token signed in with `amr`, for a
/// client demanding `demand`, at `now`?
pub fn admit(
    standing: &Standing,
    amr: Amr,
    demand: Demand,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<(), Refusal> {
    let user = &standing.user;
    if user.disabled {
        return Err(Refusal::Disabled);
    }
    if standing.totp_locked_until.is_some_and(|until| until > now) {
        return Err(Refusal::Locked);
    }
    if user.password_temporary {
        return Err(Refusal::PasswordMustChange);
    }
    // `first_login: false`: an existing session is not a first sign-in's offer.
    let facts = LoginFacts {
        first_login: false,
        ..LoginFacts::of(user, &standing.tenant, totp_globally_enabled, demand.mfa)
    };
    let requirement = policy::resolve(&facts);
    let needs_second_factor = standing.has_active_totp || requirement == Requirement::Required;
    let enough = match amr {
        Amr::PwdOtp | Amr::PwdRecovery => true,
        Amr::Pwd => false,
        // A remembered device stands in for the code only while the tenant allows
        // remembering and the client accepts it (as multi-factor, when it asks that).
        Amr::PwdDevice => standing.tenant.remember_device_days.is_some() && demand.devices.allow(demand.mfa),
    };
    if needs_second_factor && !enough {
        return Err(Refusal::SecondFactorNeeded);
    }
    Ok(())
}

/// [`load`] then [`admit`]: `Ok(Some(standing))` when admitted, `Ok(None)` when refused
/// or the user is gone.
pub fn check(
    conn: &mut DbConn,
    user_id: &str,
    amr: Amr,
    demand: Demand,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<Result<Standing, Option<Refusal>>, StoreError> {
    Ok(match load(conn, user_id)? {
        None => Err(None),
        Some(standing) => match admit(&standing, amr, demand, totp_globally_enabled, now) {
            Ok(()) => Ok(standing),
            Err(refusal) => Err(Some(refusal)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn standing() -> Standing {
        Standing {
            user: User {
                id: "u".into(),
                tenant_id: "t".into(),
                parent_id: None,
                username: "u".into(),
                username_key: "u".into(),
                email: None,
                display_name: None,
                kind: "internal".into(),
                password_hash: String::new(),
                totp_required: false,
                permission: "none".into(),
                disabled: false,
                created_at: 0,
                updated_at: 0,
                last_login_at: Some(1),
                password_temporary: false,
                profile: Default::default(),
            },
            tenant: Tenant {
                id: "t".into(),
                slug: "t".into(),
                name: "T".into(),
                totp_enabled: true,
                enforce_internal: false,
                enforce_external: false,
                prompt_new_users: true,
                totp_algorithm: "SHA1".into(),
                totp_digits: 6,
                totp_period: 30,
                totp_skew: 1,
                recovery_codes_allowed: true,
                created_at: 0,
                updated_at: 0,
                password_min_length: 12,
                remember_device_days: None,
                logo_url: None,
                primary_colour: None,
                default_language: None,
            },
            totp_locked_until: None,
            has_active_totp: false,
        }
    }

    #[test]
    fn the_gate_asks_of_the_user_as_it_is_now() {
        let ok = standing();
        assert_eq!(admit(&ok, Amr::Pwd, Demand::mfa(false), true, NOW), Ok(()));
        assert_eq!(
            admit(&ok, Amr::Pwd, Demand::mfa(true), true, NOW),
            Err(Refusal::SecondFactorNeeded),
            "the client asks"
        );
        assert_eq!(admit(&ok, Amr::PwdOtp, Demand::mfa(true), true, NOW), Ok(()));
        let mut s = standing();
        s.user.disabled = true;
        assert_eq!(admit(&s, Amr::PwdOtp, Demand::mfa(false), true, NOW), Err(Refusal::Disabled));
        let mut s = standing();
        s.totp_locked_until = Some(NOW + 1);
        assert_eq!(admit(&s, Amr::PwdOtp, Demand::mfa(false), true, NOW), Err(Refusal::Locked));
        s.totp_locked_until = Some(NOW);
        assert_eq!(admit(&s, Amr::PwdOtp, Demand::mfa(false), true, NOW), Ok(()), "a lock that has ended");
        let mut s = standing();
        s.user.password_temporary = true;
        assert_eq!(admit(&s, Amr::PwdOtp, Demand::mfa(false), true, NOW), Err(Refusal::PasswordMustChange));
        // Enrolled since the session began, or enforcement switched on: asked again.
        let mut s = standing();
        s.has_active_totp = true;
        assert_eq!(admit(&s, Amr::Pwd, Demand::mfa(false), true, NOW), Err(Refusal::SecondFactorNeeded));
        assert_eq!(admit(&s, Amr::PwdRecovery, Demand::mfa(false), true, NOW), Ok(()));
        let mut s = standing();
        s.tenant.enforce_internal = true;
        assert_eq!(admit(&s, Amr::Pwd, Demand::mfa(false), true, NOW), Err(Refusal::SecondFactorNeeded));
        assert_eq!(
            admit(&s, Amr::Pwd, Demand::mfa(false), false, NOW),
            Ok(()),
            "TOTP off for the installation"
        );
    }

    #[test]
    fn a_remembered_device_counts_only_where_tenant_and_client_accept_it() {
        use crate::auth::remembered::Terms;
        let mut s = standing();
        s.has_active_totp = true;
        let plain = Demand::mfa(false);
        assert_eq!(
            admit(&s, Amr::PwdDevice, plain, true, NOW),
            Err(Refusal::SecondFactorNeeded),
            "tenant off"
        );
        s.tenant.remember_device_days = Some(30);
        assert_eq!(admit(&s, Amr::PwdDevice, plain, true, NOW), Ok(()));
        let refused = Demand { devices: Terms { refused: true, ..Terms::default() }, ..plain };
        assert_eq!(admit(&s, Amr::PwdDevice, refused, true, NOW), Err(Refusal::SecondFactorNeeded));
        assert_eq!(
            admit(&s, Amr::PwdDevice, Demand::mfa(true), true, NOW),
            Err(Refusal::SecondFactorNeeded),
            "the client asks for multi-factor"
        );
        let counts = Demand { mfa: true, devices: Terms { counts_as_mfa: true, ..Terms::default() } };
        assert_eq!(admit(&s, Amr::PwdDevice, counts, true, NOW), Ok(()));
    }
}
