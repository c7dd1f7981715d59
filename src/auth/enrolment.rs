//! Enrolment: the pending secret (one per user, whatever the concurrency), shown until
//! its first right code activates it — replacing an active one — with recovery codes
//! when the tenant allows them.

use serde_json::json;

use crate::auth::credentials::{
    CodeCheck, Guard, Matched, Subject, aad, claim, load, match_code, params_of, record, secret_of, settle,
    skew_of, spend,
};
use crate::auth::errors::LoginError;
use crate::auth::keyring::Keyring;
use crate::auth::recovery;
use crate::auth::totp::{self, TotpAlgorithm, TotpParams, TotpSecret};
use crate::store::audit::{self, Origin};
use crate::store::totp::{self as rows, Credential};
use crate::store::{Db, StoreError, new_id};

/// The label of a credential nobody named (the first one, a replacement).
pub const DEFAULT_LABEL: &str = "Authenticator app";

/// A label as typed: trimmed, 1 to 64 characters, no control characters.
pub fn label(raw: &str) -> Result<String, &'static str> {
    let label = raw.trim();
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err("Give the authenticator a name of 1 to 64 characters, such as \"phone\".");
    }
    Ok(label.to_owned())
}

/// What the enrolment page shows.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub secret: TotpSecret,
    pub params: TotpParams,
    pub issuer: String,
    pub account: String,
}

impl Enrolment {
    pub fn otpauth_uri(&self) -> String {
        totp::otpauth_uri(&self.secret, self.params, &self.issuer, &self.account)
    }
}

/// The user's pending credential, created with the tenant's parameters when there is
/// none; the same secret comes back until it is confirmed.
pub async fn pending_enrolment(
    db: &Db,
    keyring: &Keyring,
    user_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<Enrolment, LoginError> {
    enrolment(db, keyring, user_id, origin, now, Start::Reuse).await
}

/// A new pending secret to replace the active one; any earlier pending one is dropped
/// in the same transaction that stores the new one.
pub async fn start_replacement(
    db: &Db,
    keyring: &Keyring,
    user_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<Enrolment, LoginError> {
    enrolment(db, keyring, user_id, origin, now, Start::Replace).await
}

/// A new pending secret to be added beside the active ones (up to
/// [`rows::MAX_ACTIVE`]), under `label`; any earlier pending one is dropped.
pub async fn start_addition(
    db: &Db,
    keyring: &Keyring,
    user_id: &str,
    label: String,
    origin: &Origin,
    now: i64,
) -> Result<Enrolment, LoginError> {
    enrolment(db, keyring, user_id, origin, now, Start::Add(label)).await
}

/// How a pending credential comes about.
enum Start {
    /// The pending one when there is one (the sign-in's enrolment page).
    Reuse,
    /// A new one that will replace the others.
    Replace,
    /// A new one that will join the others, under this label.
    Add(String),
}

/// The pending credential (reused for [`Start::Reuse`] when one exists), else a new one
/// that replaces any pending one.
async fn enrolment(
    db: &Db,
    keyring: &Keyring,
    user_id: &str,
    origin: &Origin,
    now: i64,
    start: Start,
) -> Result<Enrolment, LoginError> {
    let reuse = matches!(start, Start::Reuse);
    let subject = load(db, user_id).await?;
    let issuer = subject.tenant.name.clone();
    let account = subject.user.username.clone();
    if let Some(pending) = subject.with_status(rows::PENDING).filter(|_| reuse) {
        return Ok(Enrolment {
            secret: secret_of(keyring, pending)?,
            params: params_of(pending)?,
            issuer,
            account,
        });
    }
    let algorithm = TotpAlgorithm::parse(&subject.tenant.totp_algorithm).unwrap_or(TotpAlgorithm::Sha1);
    let params = TotpParams {
        algorithm,
        digits: u32::try_from(subject.tenant.totp_digits).unwrap_or(6).clamp(6, 8),
        period: if subject.tenant.totp_period == 60 { 60 } else { 30 },
    };
    let secret = TotpSecret::generate(algorithm);
    let id = new_id();
    let sealed = keyring.seal(secret.as_bytes(), &aad(&id, user_id));
    let credential = Credential {
        id,
        user_id: user_id.to_owned(),
        secret_ciphertext: sealed.bytes,
        key_id: sealed.key_id,
        algorithm: algorithm.as_str().to_owned(),
        digits: i32::try_from(params.digits).unwrap_or(6),
        period: i32::try_from(params.period).unwrap_or(30),
        status: rows::PENDING.to_owned(),
        last_used_step: None,
        created_at: now,
        activated_at: None,
        label: match &start {
            Start::Add(label) => label.clone(),
            Start::Reuse | Start::Replace => DEFAULT_LABEL.to_owned(),
        },
        replaces_others: !matches!(start, Start::Add(_)),
    };
    let (tenant_id, origin_row) = (subject.tenant.id.clone(), origin.clone());
    // One pending secret per user, whatever the concurrency: a reuse looks again inside
    // the write transaction, and a second insert is refused by the database's unique
    // index — either way the secret already stored is the one shown.
    let stored = db
        .run(move |conn| {
            conn.write(|conn| -> Result<Option<Credential>, StoreError> {
                if reuse {
                    let existing = rows::for_user(conn, &credential.user_id)?;
                    if let Some(pending) = existing.into_iter().find(|c| c.status == rows::PENDING) {
                        return Ok(Some(pending));
                    }
                } else {
                    rows::delete_pending(conn, &credential.user_id)?;
                }
                rows::insert(conn, &credential)?;
                let detail = json!({ "credential_id": credential.id, "algorithm": credential.algorithm,
                                     "digits": credential.digits, "period": credential.period,
                                     "label": credential.label, "adds": !credential.replaces_others });
                audit::record(
                    conn,
                    &tenant_id,
                    &origin_row,
                    Some(&credential.user_id),
                    "totp.enrolment_started",
                    detail,
                    now,
                )?;
                Ok(None)
            })
        })
        .await;
    let existing = match stored {
        Ok(None) => return Ok(Enrolment { secret, params, issuer, account }),
        Ok(Some(existing)) => existing,
        Err(StoreError::Conflict) => load(db, user_id)
            .await?
            .with_status(rows::PENDING)
            .cloned()
            .ok_or_else(|| LoginError::Busy("the pending secret changed meanwhile".into()))?,
        Err(other) => return Err(other.into()),
    };
    Ok(Enrolment { secret: secret_of(keyring, &existing)?, params: params_of(&existing)?, issuer, account })
}

/// The result of confirming a pending credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    Invalid,
    /// Active now; the recovery codes to show once, when the tenant allows them.
    Activated {
        recovery_codes: Option<Vec<String>>,
    },
}

async fn confirm_pending_inner(
    guard: Guard<'_>,
    subject: &Subject,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<Confirmation, LoginError> {
    let Guard { db, ephemeral, keyring, .. } = guard;
    let Some(pending) = subject.with_status(rows::PENDING).cloned() else { return Ok(Confirmation::Invalid) };
    let matched = match_code(ephemeral, keyring, &pending, skew_of(&subject.tenant), raw, now).await?;
    if matches!(matched, Matched::Invalid | Matched::Replayed) {
        record(db, subject, origin, "totp.failed", json!({ "reason": "wrong_enrolment_code" }), now).await?;
        return Ok(Confirmation::Invalid);
    }
    // An added authenticator joins the others and leaves the recovery codes as they are.
    let replaced = pending.replaces_others && subject.with_status(rows::ACTIVE).is_some();
    let codes = (subject.tenant.recovery_codes_allowed && pending.replaces_others).then(recovery::generate);
    let hashes: Option<Vec<String>> =
        codes.as_ref().map(|c| c.iter().map(|code| recovery::hash(code)).collect());
    let (tenant_id, origin) = (subject.tenant.id.clone(), origin.clone());
    // The step's claim, the activation and their audit lines: one transaction.
    let activated = db
        .run(move |conn| {
            conn.write(|conn| -> Result<bool, LoginError> {
                let user_id = pending.user_id.as_str();
                if claim(conn, &pending.id, matched)? != CodeCheck::Valid {
                    let detail = json!({ "reason": "wrong_enrolment_code" });
                    audit::record(conn, &tenant_id, &origin, Some(user_id), "totp.failed", detail, now)?;
                    return Ok(false);
                }
                if !rows::activate(conn, &pending.id, user_id, now)? {
                    return Ok(false);
                }
                let detail = json!({ "credential_id": pending.id });
                audit::record(
                    conn,
                    &tenant_id,
                    &origin,
                    Some(user_id),
                    "totp.activated",
                    detail.clone(),
                    now,
                )?;
                if replaced {
                    audit::record(conn, &tenant_id, &origin, Some(user_id), "totp.replaced", detail, now)?;
                }
                if let Some(hashes) = &hashes {
                    rows::replace_recovery_codes(conn, user_id, hashes, now)?;
                    let detail = json!({});
                    audit::record(
                        conn,
                        &tenant_id,
                        &origin,
                        Some(user_id),
                        "recovery_codes.generated",
                        detail,
                        now,
                    )?;
                }
                Ok(true)
            })
        })
        .await?;
    Ok(if activated { Confirmation::Activated { recovery_codes: codes } } else { Confirmation::Invalid })
}

/// Activates the pending credential on its first right code (replacing any active
/// one), and issues recovery codes when the tenant allows them.
pub async fn confirm_pending(
    guard: Guard<'_>,
    user_id: &str,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<Confirmation, LoginError> {
    let subject = load(guard.db, user_id).await?;
    let lock = spend(guard, &subject, now).await?;
    let result = confirm_pending_inner(guard, &subject, raw, origin, now).await?;
    settle(guard, &subject, result != Confirmation::Invalid, lock, origin, now).await?;
    Ok(result)
}

/// What removing an authenticator did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// It is the user's only authenticator: a user never removes its last one (its
    /// parent may revoke it; the user may replace it).
    LastOne,
    /// No active authenticator of this user by that id.
    Unknown,
}

/// Removes one of the user's active authenticators (the caller has checked a fresh
/// code), never the last one.
pub async fn remove(
    db: &Db,
    tenant_id: &str,
    user_id: &str,
    credential_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<Removal, LoginError> {
    let (tenant_id, user_id, credential_id, origin) =
        (tenant_id.to_owned(), user_id.to_owned(), credential_id.to_owned(), origin.clone());
    db.run(move |conn| {
        conn.write(|conn| -> Result<Removal, LoginError> {
            let active: Vec<Credential> =
                rows::for_user(conn, &user_id)?.into_iter().filter(|c| c.status == rows::ACTIVE).collect();
            let Some(target) = active.iter().find(|c| c.id == credential_id) else {
                return Ok(Removal::Unknown);
            };
            if active.len() <= 1 {
                return Ok(Removal::LastOne);
            }
            rows::delete_active(conn, &user_id, &credential_id)?;
            let detail =
                json!({ "credential_id": target.id, "label": target.label, "left": active.len() - 1 });
            audit::record(conn, &tenant_id, &origin, Some(&user_id), "totp.removed", detail, now)?;
            Ok(Removal::Removed)
        })
    })
    .await
}
