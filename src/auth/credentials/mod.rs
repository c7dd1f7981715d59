//! A user's TOTP credentials: verifying codes (window, replay guard and the atomic
//! `last_used_step`) and the attempt budget. Recovery codes are in [`recovery_codes`],
//! what the account and code pages show in [`views`]. Enrolment (a pending secret and
//! its activation) is in [`crate::auth::enrolment`].

mod recovery_codes;
mod views;

pub use recovery_codes::{regenerate_recovery_codes, use_recovery_code};
pub use views::{Authenticator, CodePrompt, TotpStatus, code_prompt, status};

use serde_json::json;

use crate::auth::errors::LoginError;
use crate::auth::keyring::{Keyring, Sealed};
use crate::auth::totp::{self, TotpAlgorithm, TotpCode, TotpParams, TotpSecret};
use crate::ephemeral::Ephemeral;
use crate::ephemeral::limiter::{Decision, Limits, Rule};
use crate::store::audit::{self, Origin};
use crate::store::tenants::Tenant;
use crate::store::totp::{self as rows, Credential};
use crate::store::users::User;
use crate::store::{Db, DbConn, StoreError, users};

/// What a credential row's secret is bound to: a ciphertext moved to another row or
/// user does not decrypt.
pub fn aad(credential_id: &str, user_id: &str) -> Vec<u8> {
    format!("totp:{credential_id}:{user_id}").into_bytes()
}

pub(super) fn params_of(c: &Credential) -> Result<TotpParams, LoginError> {
    let algorithm = TotpAlgorithm::parse(&c.algorithm).map_err(LoginError::Internal)?;
    let digits = u32::try_from(c.digits).map_err(|e| LoginError::Internal(e.to_string()))?;
    let period = u32::try_from(c.period).map_err(|e| LoginError::Internal(e.to_string()))?;
    Ok(TotpParams { algorithm, digits, period })
}

pub(super) fn secret_of(keyring: &Keyring, c: &Credential) -> Result<TotpSecret, LoginError> {
    let sealed = Sealed { key_id: c.key_id.clone(), bytes: c.secret_ciphertext.clone() };
    keyring
        .open(&sealed, &aad(&c.id, &c.user_id))
        .map(TotpSecret::from_bytes)
        .map_err(|e| LoginError::Internal(format!("credential {}: {e}", c.id)))
}

pub(super) fn skew_of(tenant: &Tenant) -> u32 {
    u32::try_from(tenant.totp_skew).unwrap_or(1).min(2)
}

/// A user, its tenant and credentials, loaded together.
pub(super) struct Subject {
    pub(super) user: User,
    pub(super) tenant: Tenant,
    credentials: Vec<Credential>,
    /// Until when the code step is locked (kept in the database too, see [`spend`]).
    totp_locked_until: Option<i64>,
}

impl Subject {
    fn load(conn: &mut DbConn, user_id: &str) -> Result<Self, LoginError> {
        let (user, tenant, totp_locked_until) =
            users::find_with_tenant_and_lock(conn, user_id)?.ok_or(StoreError::NotFound)?;
        let credentials = rows::for_user(conn, user_id)?;
        Ok(Self { user, tenant, credentials, totp_locked_until })
    }

    pub(super) fn with_status(&self, status: &str) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.status == status)
    }

    /// The active authenticators, oldest first.
    pub(super) fn active(&self) -> impl Iterator<Item = &Credential> {
        self.credentials.iter().rev().filter(|c| c.status == rows::ACTIVE)
    }
}

/// The result of checking a typed code against one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Valid,
    Invalid,
    /// Right code, but its time step was already used: someone may have seen it.
    Replayed,
}

/// A typed code against one credential, before the database has its say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Matched {
    /// Not a code of this credential's window.
    Invalid,
    /// Right, but the ephemeral replay guard has seen its time step.
    Replayed,
    /// Right and unseen: valid once [`claim`] has stored the step in the database.
    Step(i64),
}

/// Checks `raw` against `credential`: the window first, then the replay guard (the
/// ephemeral store's claim, shared by all instances). The third check, the database's
/// conditional update of `last_used_step`, is [`claim`], run by the caller inside the
/// transaction that records the outcome — one database trip for both.
pub(super) async fn match_code(
    ephemeral: &Ephemeral,
    keyring: &Keyring,
    credential: &Credential,
    skew: u32,
    raw: &str,
    now: i64,
) -> Result<Matched, LoginError> {
    let params = params_of(credential)?;
    let Some(code) = TotpCode::parse(raw, params.digits) else { return Ok(Matched::Invalid) };
    let secret = secret_of(keyring, credential)?;
    let Some(step) = totp::matching_step(&secret, params, &code, now, skew) else {
        return Ok(Matched::Invalid);
    };
    if !ephemeral
        .claim(&format!("totp-used:{}:{step}", credential.id), replay_mark_ttl(params, skew), now)
        .await?
    {
        return Ok(Matched::Replayed);
    }
    Ok(Matched::Step(i64::try_from(step).map_err(|e| LoginError::Internal(e.to_string()))?))
}

/// The database's half of the replay guard: a matched step is valid only if it is
/// later than the last step this credential accepted (atomic, so of two requests with
/// one code exactly one wins, even when the ephemeral store was emptied).
pub(super) fn claim(
    conn: &mut DbConn,
    credential_id: &str,
    matched: Matched,
) -> Result<CodeCheck, StoreError> {
    Ok(match matched {
        Matched::Invalid => CodeCheck::Invalid,
        Matched::Replayed => CodeCheck::Replayed,
        Matched::Step(step) if rows::claim_step(conn, credential_id, step)? => CodeCheck::Valid,
        Matched::Step(_) => CodeCheck::Replayed,
    })
}

/// How long a used step's replay mark lives: past every moment at which that step is
/// still inside the accepted window — `(2·skew+1)·period` from the step's start, plus the
/// part of its own period already gone when it was used.
pub fn replay_mark_ttl(params: TotpParams, skew: u32) -> u64 {
    u64::from(params.period) * (2 * u64::from(skew) + 2)
}

pub(super) async fn load(db: &Db, user_id: &str) -> Result<Subject, LoginError> {
    let user_id = user_id.to_owned();
    db.run(move |conn| Subject::load(conn, &user_id)).await
}

pub(super) async fn record(
    db: &Db,
    subject: &Subject,
    origin: &Origin,
    event: &'static str,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), LoginError> {
    let (tenant_id, user_id, origin) = (subject.tenant.id.clone(), subject.user.id.clone(), origin.clone());
    db.run(move |conn| audit::record(conn, &tenant_id, &origin, Some(&user_id), event, detail, now)).await?;
    Ok(())
}

async fn verify_active_inner(
    guard: Guard<'_>,
    subject: &Subject,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<CodeCheck, LoginError> {
    let Guard { db, ephemeral, keyring, .. } = guard;
    let skew = skew_of(&subject.tenant);
    // Any active authenticator may answer; the first whose window holds the code does.
    let mut matched = (Matched::Invalid, None);
    for credential in subject.active() {
        let m = match_code(ephemeral, keyring, credential, skew, raw, now).await?;
        if m != Matched::Invalid {
            matched = (m, Some(credential));
            if matches!(m, Matched::Step(_)) {
                break;
            }
        }
    }
    let (matched, chosen) = matched;
    // A code one authenticator accepted is not accepted again by another that shows the
    // same code (the same secret enrolled twice): their steps are claimed with it.
    let mut alongside = Vec::new();
    if let (Matched::Step(_), Some(chosen)) = (matched, chosen) {
        for other in subject.active().filter(|c| c.id != chosen.id) {
            let params = params_of(other)?;
            let Some(code) = TotpCode::parse(raw, params.digits) else { continue };
            if let Some(step) = totp::matching_step(&secret_of(keyring, other)?, params, &code, now, skew) {
                alongside.push((
                    other.id.clone(),
                    i64::try_from(step).map_err(|e| LoginError::Internal(e.to_string()))?,
                ));
            }
        }
    }
    let (tenant_id, user_id, origin) = (subject.tenant.id.clone(), subject.user.id.clone(), origin.clone());
    let credential_id = chosen.map(|c| c.id.clone()).unwrap_or_default();
    // The step's claim and the audit line in one transaction (one trip, one commit).
    db.run(move |conn| {
        conn.write(|conn| -> Result<CodeCheck, LoginError> {
            let check = claim(conn, &credential_id, matched)?;
            if check == CodeCheck::Valid {
                for (id, step) in &alongside {
                    rows::claim_step(conn, id, *step)?;
                }
            }
            let (event, detail) = match check {
                CodeCheck::Valid => ("totp.ok", json!({ "credential_id": credential_id })),
                CodeCheck::Invalid => ("totp.failed", json!({ "reason": "wrong_code" })),
                CodeCheck::Replayed => ("totp.replay_blocked", json!({ "credential_id": credential_id })),
            };
            audit::record(conn, &tenant_id, &origin, Some(&user_id), event, detail, now)?;
            Ok(check)
        })
    })
    .await
}

/// What every second-factor check needs: storage, the attempt limiter and the keyring.
#[derive(Debug, Clone, Copy)]
pub struct Guard<'a> {
    pub db: &'a Db,
    pub ephemeral: &'a Ephemeral,
    pub keyring: &'a Keyring,
    pub limits: &'a Limits,
    pub hasher: &'a crate::auth::hashing::HashPool,
}

fn attempts_key(user_id: &str) -> String {
    format!("attempts:totp:{user_id}")
}

/// Counts a second-factor attempt before it is checked: refused (429) once the user's
/// budget is spent, or while the database holds a lock (which survives a Redis
/// restarted empty). Returns the lock this attempt started, if any.
pub(super) async fn spend(guard: Guard<'_>, subject: &Subject, now: i64) -> Result<i64, LoginError> {
    user_lock(count(guard, subject, None, now).await?.last())
}

/// As [`spend`], with a sign-in's own budget of checks (`flow_checks`) counted first in
/// the same call: `None` when that one is spent (the user's budget is then not counted).
async fn spend_within(
    guard: Guard<'_>,
    subject: &Subject,
    flow_checks: (&str, &Rule),
    now: i64,
) -> Result<Option<i64>, LoginError> {
    let decisions = count(guard, subject, Some(flow_checks), now).await?;
    // The budgets are counted in turn until one refuses: a refusal alone is the flow's.
    if let [Decision::Refused { .. }] = decisions.as_slice() {
        return Ok(None);
    }
    user_lock(decisions.last()).map(Some)
}

/// The decisions on `flow_checks` (when given) and then the user's budget, in one call.
async fn count(
    guard: Guard<'_>,
    subject: &Subject,
    flow_checks: Option<(&str, &Rule)>,
    now: i64,
) -> Result<Vec<Decision>, LoginError> {
    if let Some(until) = subject.totp_locked_until.filter(|until| *until > now) {
        return Err(LoginError::Throttled { retry_after: until - now });
    }
    let user = attempts_key(&subject.user.id);
    let budgets: Vec<(&str, &Rule)> =
        flow_checks.into_iter().chain([(user.as_str(), &guard.limits.totp_user)]).collect();
    Ok(guard.ephemeral.hit_each(&budgets, now).await?)
}

/// The user's budget's decision: the lock it started (0 for none), or the refusal.
fn user_lock(decision: Option<&Decision>) -> Result<i64, LoginError> {
    match decision {
        Some(Decision::Refused { retry_after }) => Err(LoginError::Throttled { retry_after: *retry_after }),
        Some(Decision::Allowed { blocked_until, .. }) => Ok(*blocked_until),
        None => Err(LoginError::Unavailable("the limiter answered nothing".into())),
    }
}

/// After the check: a success clears the count; a failure that started the lock is
/// recorded (and, since the password was right, so is its likely compromise).
pub(super) async fn settle(
    guard: Guard<'_>,
    subject: &Subject,
    ok: bool,
    lock: i64,
    origin: &Origin,
    now: i64,
) -> Result<(), LoginError> {
    if ok {
        guard.ephemeral.delete(&attempts_key(&subject.user.id)).await?;
    } else if lock > 0 {
        let (tenant_id, user_id, origin) =
            (subject.tenant.id.clone(), subject.user.id.clone(), origin.clone());
        let detail = json!({ "locked_until": lock });
        // The lock and its two audit events, together.
        guard
            .db
            .run(move |conn| {
                conn.write(|conn| -> Result<(), LoginError> {
                    users::lock_totp(conn, &user_id, lock)?;
                    for event in ["totp.locked", "password.likely_compromised"] {
                        audit::record(conn, &tenant_id, &origin, Some(&user_id), event, detail.clone(), now)?;
                    }
                    Ok(())
                })
            })
            .await?;
    }
    Ok(())
}

/// Verifies a code against the user's active credential, with the attempt limit and
/// audit events.
pub async fn verify_active(
    guard: Guard<'_>,
    user_id: &str,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<CodeCheck, LoginError> {
    let subject = load(guard.db, user_id).await?;
    let lock = spend(guard, &subject, now).await?;
    check_and_settle(guard, &subject, raw, origin, lock, now).await
}

/// [`verify_active`] in a sign-in: its own budget of code checks (`flow_checks`,
/// [`crate::auth::login::flow_check_budget`]) counted first, in the same call as the
/// user's; `None` when that one is spent (nothing checked: the sign-in is over).
pub async fn verify_active_in(
    guard: Guard<'_>,
    user_id: &str,
    raw: &str,
    origin: &Origin,
    flow_checks: (&str, &Rule),
    now: i64,
) -> Result<Option<CodeCheck>, LoginError> {
    let subject = load(guard.db, user_id).await?;
    let Some(lock) = spend_within(guard, &subject, flow_checks, now).await? else { return Ok(None) };
    check_and_settle(guard, &subject, raw, origin, lock, now).await.map(Some)
}

/// The check of a counted attempt, and its settlement.
async fn check_and_settle(
    guard: Guard<'_>,
    subject: &Subject,
    raw: &str,
    origin: &Origin,
    lock: i64,
    now: i64,
) -> Result<CodeCheck, LoginError> {
    let check = verify_active_inner(guard, subject, raw, origin, now).await?;
    settle(guard, subject, check == CodeCheck::Valid, lock, origin, now).await?;
    Ok(check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_mark_outlives_the_window() {
        for period in [30, 60] {
            for skew in 0..=2 {
                let params = TotpParams { algorithm: TotpAlgorithm::Sha1, digits: 6, period };
                let ttl = replay_mark_ttl(params, skew);
                // Used at the very start of its step, a step stays acceptable for
                // (skew + 1) periods after it and skew before: the mark must last that long.
                assert!(ttl >= u64::from((2 * skew + 1) * period), "period {period}, skew {skew}: {ttl}");
                // Used at the very end of its step, it stays acceptable skew more periods.
                assert!(ttl >= u64::from((skew + 1) * period));
            }
        }
    }
}
