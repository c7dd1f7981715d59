//! Recovery codes: spending one in place of a TOTP code (under the same attempt budget)
//! and issuing a new set.

use serde_json::json;

use super::{Guard, Subject, load, settle, spend};
use crate::auth::errors::LoginError;
use crate::auth::recovery;
use crate::store::Db;
use crate::store::audit::{self, Origin};
use crate::store::totp as rows;

/// Spends one recovery code of the user; false when it is not an unused code of theirs.
pub async fn use_recovery_code(
    guard: Guard<'_>,
    user_id: &str,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<bool, LoginError> {
    let subject = load(guard.db, user_id).await?;
    let lock = spend(guard, &subject, now).await?;
    let used = use_recovery_code_inner(guard.db, &subject, raw, origin, now).await?;
    settle(guard, &subject, used, lock, origin, now).await?;
    Ok(used)
}

async fn use_recovery_code_inner(
    db: &Db,
    subject: &Subject,
    raw: &str,
    origin: &Origin,
    now: i64,
) -> Result<bool, LoginError> {
    let allowed = subject.tenant.recovery_codes_allowed && subject.with_status(rows::ACTIVE).is_some();
    let hash = recovery::hash(raw);
    let (tenant_id, user_id, origin) = (subject.tenant.id.clone(), subject.user.id.clone(), origin.clone());
    // The spent code and its audit line together (one commit): never one without the other.
    db.run(move |conn| {
        conn.write(|conn| -> Result<bool, LoginError> {
            let used = allowed && rows::use_recovery_code(conn, &user_id, &hash, now)?;
            let (event, detail) = if used {
                let left = rows::unused_recovery_codes(conn, &user_id)?;
                ("recovery_code.used", json!({ "remaining": left }))
            } else {
                ("totp.failed", json!({ "reason": "wrong_recovery_code" }))
            };
            audit::record(conn, &tenant_id, &origin, Some(&user_id), event, detail, now)?;
            Ok(used)
        })
    })
    .await
}

/// New recovery codes for a user with an active credential (the old ones stop working).
pub async fn regenerate_recovery_codes(
    db: &Db,
    user_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<Option<Vec<String>>, LoginError> {
    let subject = load(db, user_id).await?;
    if !subject.tenant.recovery_codes_allowed || subject.with_status(rows::ACTIVE).is_none() {
        return Ok(None);
    }
    let codes = recovery::generate();
    let hashes: Vec<String> = codes.iter().map(|c| recovery::hash(c)).collect();
    let (tenant_id, user_id, origin) = (subject.tenant.id.clone(), subject.user.id.clone(), origin.clone());
    db.run(move |conn| {
        conn.write(|conn| -> Result<(), LoginError> {
            rows::replace_recovery_codes(conn, &user_id, &hashes, now)?;
            audit::record(
                conn,
                &tenant_id,
                &origin,
                Some(&user_id),
                "recovery_codes.regenerated",
                json!({}),
                now,
            )?;
            Ok(())
        })
    })
    .await?;
    Ok(Some(codes))
}
