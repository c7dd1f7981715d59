//! What the account page and the code page show about a user's TOTP.

use super::{Subject, load, params_of};
use crate::auth::errors::LoginError;
use crate::store::Db;
use crate::store::totp as rows;

/// What the account page shows about a user's TOTP.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TotpStatus {
    /// "none", "pending" or "active".
    pub status: &'static str,
    pub activated_at: Option<i64>,
    pub has_pending: bool,
    pub recovery_codes_left: i64,
    pub recovery_codes_allowed: bool,
    /// The active authenticators, oldest first.
    pub authenticators: Vec<Authenticator>,
    /// Fewer than [`rows::MAX_ACTIVE`] are active: one more may be added.
    pub can_add: bool,
}

/// One active authenticator, as its owner sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Authenticator {
    pub id: String,
    pub label: String,
    pub activated_at: Option<i64>,
}

pub async fn status(db: &Db, user_id: &str) -> Result<TotpStatus, LoginError> {
    let user_id = user_id.to_owned();
    db.run(move |conn| {
        let subject = Subject::load(conn, &user_id)?;
        let active = subject.with_status(rows::ACTIVE);
        let has_pending = subject.with_status(rows::PENDING).is_some();
        Ok(TotpStatus {
            status: if active.is_some() {
                "active"
            } else if has_pending {
                "pending"
            } else {
                "none"
            },
            activated_at: active.and_then(|c| c.activated_at),
            has_pending,
            recovery_codes_left: rows::unused_recovery_codes(conn, &user_id)?,
            recovery_codes_allowed: subject.tenant.recovery_codes_allowed,
            authenticators: subject
                .active()
                .map(|c| Authenticator {
                    id: c.id.clone(),
                    label: c.label.clone(),
                    activated_at: c.activated_at,
                })
                .collect(),
            can_add: subject.active().count() < rows::MAX_ACTIVE,
        })
    })
    .await
}

/// What the code page says: the tenant's name, the active credential's digits, and
/// whether recovery codes may be used.
#[derive(Debug, Clone)]
pub struct CodePrompt {
    pub issuer: String,
    /// The username the code is asked of ("Signed in as …").
    pub account: String,
    pub digits: u32,
    pub recovery_allowed: bool,
    /// Days "don't ask again" lasts, when the tenant allows it.
    pub remember_days: Option<i32>,
    /// Until when the code step is locked after too many wrong codes (recovery codes
    /// too), when it is.
    pub locked_until: Option<i64>,
}

pub async fn code_prompt(db: &Db, user_id: &str, now: i64) -> Result<CodePrompt, LoginError> {
    let subject = load(db, user_id).await?;
    let digits = match subject.with_status(rows::ACTIVE) {
        Some(active) => params_of(active)?.digits,
        None => 6,
    };
    Ok(CodePrompt {
        issuer: subject.tenant.name.clone(),
        account: subject.user.username.clone(),
        digits,
        recovery_allowed: subject.tenant.recovery_codes_allowed,
        remember_days: subject.tenant.remember_device_days,
        locked_until: subject.totp_locked_until.filter(|until| *until > now),
    })
}
