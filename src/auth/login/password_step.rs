//! The password step: its attempt budgets, the check on the bounded hashing pool, and
//! what policy says comes next.

use super::Flow;
use crate::auth::credentials::Guard;
use crate::auth::errors::LoginError;
use crate::auth::flow::PasswordCheck;
use crate::auth::gate;
use crate::auth::password::{Password, Verification};
use crate::auth::remembered;
use crate::ephemeral::limiter::{Decision, Rule};
use crate::store::audit::{self, Origin};
use crate::store::users;
use crate::tenancy::Username;
use crate::tenancy::policy::{self, LoginFacts};

/// Checks a username and password in `tenant_id` and decides, by policy, what comes
/// next. Unknown users cost one dummy hash, so timing does not tell them apart. No
/// database connection is held while hashing: the hash runs on the bounded pool.
async fn check_password_inner(
    guard: Guard<'_>,
    flow: &Flow,
    attempt: Attempt,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<Checked, LoginError> {
    let Attempt { username, password, origin, remembered, .. } = attempt;
    let tenant_id = flow.tenant_id.clone();
    let demand = flow.demand();
    let client_requires_mfa = demand.mfa;
    let key = Username::key_of(&username);
    // The user, its tenant and whether it has an active authenticator, in one query
    // (read before the hash; finishing the sign-in asks the gate again).
    let standing = if key.is_empty() {
        None
    } else {
        let tenant_id = tenant_id.clone();
        guard.db.run(move |conn| gate::load_by_username(conn, &tenant_id, &key)).await?
    };
    let password = Password::parse(password).ok();
    let verification = match (&standing, &password) {
        (Some(standing), Some(password)) => {
            guard.hasher.verify(password.clone(), standing.user.password_hash.clone()).await?
        }
        (None, Some(password)) => {
            guard.hasher.verify_dummy(password.clone()).await?;
            Verification::Mismatch
        }
        (_, None) => Verification::Mismatch,
    };
    // A stored hash with older parameters is replaced now, when the pool has room (not
    // for a disabled user, who is refused below anyway).
    let enabled = standing.as_ref().is_some_and(|s| !s.user.disabled);
    let new_hash = match (&verification, password) {
        (Verification::Match { rehash: true }, Some(password)) if enabled => {
            guard.hasher.hash(password).await.ok()
        }
        _ => None,
    };
    guard
        .db
        .run(move |conn| {
            let standing = match (standing, verification) {
                (Some(standing), Verification::Match { .. }) if !standing.user.disabled => {
                    if let Some(hash) = &new_hash {
                        users::set_password_hash(conn, &standing.user.id, hash, now)?;
                    }
                    standing
                }
                (standing, _) => {
                    let target = standing.as_ref().map(|s| s.user.id.as_str());
                    let reason =
                        if standing.is_some() { "wrong_password_or_disabled" } else { "unknown_user" };
                    audit::record(
                        conn,
                        &tenant_id,
                        &origin,
                        target,
                        "password.failed",
                        serde_json::json!({ "reason": reason }),
                        now,
                    )?;
                    return Ok(Checked { check: PasswordCheck::Wrong, stamp: None });
                }
            };
            let user = &standing.user;
            let has_active_totp = standing.has_active_totp;
            let facts = LoginFacts::of(user, &standing.tenant, totp_globally_enabled, client_requires_mfa);
            // A remembered browser may stand in for the code (never after a temporary password).
            let may_skip = has_active_totp
                && !user.password_temporary
                && standing.tenant.remember_device_days.is_some()
                && demand.devices.allow(demand.mfa);
            let device = match remembered.as_deref() {
                Some(token) if may_skip => {
                    remembered::recognise(conn, token, &tenant_id, &user.id, &demand.devices, now)?
                }
                _ => None,
            };
            let detail = match &device {
                Some(device) => serde_json::json!({ "remembered_device": device.id }),
                None => serde_json::json!({}),
            };
            audit::record(conn, &tenant_id, &origin, Some(&user.id), "password.ok", detail, now)?;
            // A rehash above keeps the password: the stamp is of the hash now stored.
            let stored = new_hash.as_deref().unwrap_or(&user.password_hash);
            Ok(Checked {
                stamp: Some(crate::auth::passwords::stamp(stored)),
                check: PasswordCheck::Right {
                    user_id: user.id.clone(),
                    has_active_totp,
                    requirement: policy::resolve(&facts),
                    temporary: user.password_temporary,
                    remembered: device.is_some(),
                },
            })
        })
        .await
}

/// The password step's result, and the fingerprint of the hash it checked.
pub struct Checked {
    pub check: PasswordCheck,
    pub stamp: Option<String>,
}

/// One submitted sign-in form.
// No Debug: it holds a secret that must never reach a log.
pub struct Attempt {
    pub username: String,
    pub password: String,
    pub origin: Origin,
    /// The browser's device cookie, when it names this user ([`crate::auth::devices`]).
    pub device: Option<crate::auth::devices::Device>,
    /// The browser's remember-this-device token, if it sent one ([`remembered`]).
    pub remembered: Option<String>,
}

/// The budgets one password attempt is counted against: a known browser's own, or —
/// for an unknown one — its address's, the (username, address) pair's and the
/// username's across addresses. The first is the one whose count tells when delays start.
fn budgets<'a>(
    guard: &Guard<'a>,
    tenant_id: &str,
    attempt: &Attempt,
) -> Vec<(String, &'a crate::ephemeral::limiter::Rule)> {
    let user = Username::key_of(&attempt.username);
    match (&attempt.device, &attempt.origin.ip) {
        (Some(device), _) => vec![(format!("attempts:pw:dev:{}", device.id), &guard.limits.password_device)],
        (None, Some(ip)) => vec![
            // The address comes first (it cannot hold '|'), so the key is unambiguous.
            (format!("attempts:pwip:{tenant_id}:{ip}|{user}"), &guard.limits.password_user_ip),
            (format!("attempts:ip:{ip}"), &guard.limits.password_ip),
            (format!("attempts:pw:{tenant_id}:{user}"), &guard.limits.password_user),
        ],
        (None, None) => vec![(format!("attempts:pw:{tenant_id}:{user}"), &guard.limits.password_user)],
    }
}

/// Checks a username and password with the attempt limits: per (tenant, username) —
/// known or not, so throttling tells nothing — and per client IP, both counted before
/// the check. A success clears the username's count and gives the IP its attempt back.
/// `flow_checks` is the sign-in's own budget of password checks
/// ([`super::flow_check_budget`]), counted first in the same call; `None` when it is
/// spent (nothing checked, nothing else counted: the sign-in is over).
pub async fn check_password(
    guard: Guard<'_>,
    flow: &Flow,
    flow_checks: (&str, &Rule),
    attempt: Attempt,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<Option<Checked>, LoginError> {
    let budgets = budgets(&guard, &flow.tenant_id, &attempt);
    let all: Vec<(&str, &Rule)> =
        std::iter::once(flow_checks).chain(budgets.iter().map(|(key, rule)| (key.as_str(), *rule))).collect();
    // The attempt's own budgets, after the sign-in's.
    let counted = &all[1..];
    let mut started = false;
    for (n, decision) in guard.ephemeral.hit_each(&all, now).await?.into_iter().enumerate() {
        match decision {
            Decision::Refused { .. } if n == 0 => return Ok(None),
            Decision::Refused { retry_after } => return Err(LoginError::Throttled { retry_after }),
            Decision::Allowed { count, .. } => started |= n == 1 && count == counted[0].1.free + 1,
        }
    }
    let (origin, tenant_id) = (attempt.origin.clone(), flow.tenant_id.clone());
    let result = check_password_inner(guard, flow, attempt, totp_globally_enabled, now).await;
    if let (Err(LoginError::Overloaded { .. }), Some(refused)) = (&result, guard.hasher.report_due(now)) {
        // At most one audit line a minute per instance: a flood must not become a write flood.
        tracing::warn!(refused, "password hashing at capacity: sign-ins refused with 503");
        let (origin, tenant_id) = (origin.clone(), tenant_id.clone());
        let detail = serde_json::json!({ "refused_since_last_report": refused });
        guard
            .db
            .run(move |conn| {
                audit::record(conn, &tenant_id, &origin, None, "password.hashing_overloaded", detail, now)
            })
            .await?;
    }
    let checked = result?;
    match &checked.check {
        PasswordCheck::Right { .. } => {
            // A success clears the counts and gives the address its attempt back.
            let settled: Vec<(&str, Option<&Rule>)> = counted
                .iter()
                .map(|&(key, rule)| (key, key.starts_with("attempts:ip:").then_some(rule)))
                .collect();
            guard.ephemeral.release(&settled, now).await?;
        }
        PasswordCheck::Wrong if started => {
            // The first delayed attempt: worth an audit line (no username: it may be a typo'd password).
            let detail =
                serde_json::json!({ "free_attempts": budgets.first().map_or(0, |(_, rule)| rule.free) });
            guard
                .db
                .run(move |conn| {
                    audit::record(conn, &tenant_id, &origin, None, "password.throttled", detail, now)
                })
                .await?;
        }
        PasswordCheck::Wrong => {}
    }
    Ok(Some(checked))
}
