//! Moving to and from Watchword without resetting a password or re-enrolling anyone:
//! users imported with their existing password hashes (and optionally a TOTP secret),
//! TOTP secrets attached to existing users from Authelia's importable YAML export or a
//! list of `otpauth://` URIs, and the tenant's secrets exported as Authelia's YAML.
//!
//! Every line (or YAML entry) is one transaction: it is imported whole or not at all,
//! and the report says which and why. Users (with their hashes) are imported here; TOTP
//! secrets alone, and the export, are in [`totp_files`].

mod totp_files;

pub use totp_files::{AutheliaExport, AutheliaTotp, export_totp, import_totp, record_export};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::service::{InitialPassword, NewUser, TenancyError, create_user, find_tenant};
use super::{Permission, Slug, UserKind, Username};
use crate::auth::credentials::aad;
use crate::auth::foreign_hashes;
use crate::auth::keyring::Keyring;
use crate::auth::totp::{TotpAlgorithm, TotpParams, TotpSecret};
use crate::store::audit::{self, Origin};
use crate::store::totp::{self as rows, Credential};
use crate::store::users::User;
use crate::store::{DbConn, new_id};

/// One line of `user import`. No Debug: it holds a password hash and maybe a secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedUser {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    /// The parent's username (imported earlier in the file, or already there).
    #[serde(default)]
    pub parent: Option<String>,
    /// `internal` (default) or `external`.
    #[serde(default)]
    pub kind: Option<String>,
    pub password_hash: String,
    #[serde(default)]
    pub totp: Option<ImportedTotp>,
}

/// A TOTP secret as exports carry it. No Debug: it is the secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedTotp {
    /// Base32.
    pub secret: String,
    #[serde(default)]
    pub algorithm: Option<String>,
    #[serde(default)]
    pub digits: Option<u32>,
    #[serde(default)]
    pub period: Option<u32>,
}

/// What happened to one line.
#[derive(Debug, Clone, Serialize)]
pub struct LineReport {
    pub line: usize,
    pub username: Option<String>,
    /// `imported` or `failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LineReport {
    fn of(line: usize, username: Option<String>, result: Result<(), String>) -> Self {
        match result {
            Ok(()) => Self { line, username, status: "imported", error: None },
            Err(error) => Self { line, username, status: "failed", error: Some(error) },
        }
    }
}

/// The label of an imported credential that came without an issuer.
const IMPORTED_LABEL: &str = "Imported authenticator";

fn params_of(
    algorithm: Option<&str>,
    digits: Option<u32>,
    period: Option<u32>,
) -> Result<TotpParams, String> {
    let algorithm = TotpAlgorithm::parse(algorithm.unwrap_or("SHA1"))?;
    let digits = digits.unwrap_or(6);
    if !(6..=8).contains(&digits) {
        return Err(format!("digits must be 6, 7 or 8, not {digits}"));
    }
    let period = period.unwrap_or(30);
    if period != 30 && period != 60 {
        return Err(format!("period must be 30 or 60 seconds, not {period}"));
    }
    Ok(TotpParams { algorithm, digits, period })
}

/// Stores `secret` as `user`'s active credential (refused when it already has one: an
/// import never replaces an authenticator someone enrolled), with an audit event.
fn attach(
    conn: &mut DbConn,
    keyring: &Keyring,
    user: &User,
    secret: &TotpSecret,
    params: TotpParams,
    label: &str,
    now: i64,
) -> Result<(), TenancyError> {
    if rows::for_user(conn, &user.id)?.iter().any(|c| c.status == rows::ACTIVE) {
        return Err(TenancyError::Invalid(format!("{} already has an authenticator", user.username)));
    }
    rows::delete_pending(conn, &user.id)?;
    let id = new_id();
    let sealed = keyring.seal(secret.as_bytes(), &aad(&id, &user.id));
    let credential = Credential {
        id,
        user_id: user.id.clone(),
        secret_ciphertext: sealed.bytes,
        key_id: sealed.key_id,
        algorithm: params.algorithm.as_str().to_owned(),
        digits: i32::try_from(params.digits).unwrap_or(6),
        period: i32::try_from(params.period).unwrap_or(30),
        status: rows::ACTIVE.to_owned(),
        last_used_step: None,
        created_at: now,
        activated_at: Some(now),
        label: label.to_owned(),
        replaces_others: true,
    };
    rows::insert(conn, &credential)?;
    let detail = json!({ "credential_id": credential.id, "algorithm": credential.algorithm,
                         "digits": credential.digits, "period": credential.period, "via": "cli" });
    audit::record(conn, &user.tenant_id, &Origin::default(), Some(&user.id), "totp.imported", detail, now)?;
    Ok(())
}

fn import_line(
    conn: &mut DbConn,
    keyring: &Keyring,
    tenant: &Slug,
    line: &ImportedUser,
    now: i64,
) -> Result<(), String> {
    let username = Username::parse(&line.username)?;
    let scheme = foreign_hashes::check(&line.password_hash)?;
    let totp = match &line.totp {
        Some(t) => Some((
            TotpSecret::from_base32(&t.secret)?,
            params_of(t.algorithm.as_deref(), t.digits, t.period)?,
        )),
        None => None,
    };
    let new = NewUser {
        tenant: tenant.clone(),
        username,
        password: InitialPassword::Hashed(line.password_hash.clone()),
        parent: line.parent.as_deref().map(Username::parse).transpose()?,
        kind: UserKind::parse(line.kind.as_deref().unwrap_or("internal"))?,
        email: line.email.clone().filter(|e| !e.is_empty()),
        display_name: line.display_name.clone(),
        totp_required: false,
        permission: Permission::None,
        password_temporary: false,
    };
    conn.write(|conn| -> Result<(), TenancyError> {
        let created = create_user(conn, &new, now)?;
        if let Some((secret, params)) = &totp {
            attach(conn, keyring, &created.user, secret, *params, IMPORTED_LABEL, now)?;
        }
        let detail = json!({ "password_hash": scheme.as_str(), "totp": totp.is_some(), "via": "cli" });
        let origin = Origin::default();
        audit::record(
            conn,
            &created.tenant.id,
            &origin,
            Some(&created.user.id),
            "user.imported",
            detail,
            now,
        )?;
        Ok(())
    })
    .map_err(|e| e.to_string())
}

/// `user import`: one JSON object per line; blank lines are skipped.
pub fn import_users(
    conn: &mut DbConn,
    keyring: &Keyring,
    tenant: &Slug,
    text: &str,
    now: i64,
) -> Result<Vec<LineReport>, TenancyError> {
    find_tenant(conn, tenant)?;
    let mut reports = Vec::new();
    for (n, raw) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let report = match serde_json::from_str::<ImportedUser>(raw) {
            Ok(line) => {
                let result = import_line(conn, keyring, tenant, &line, now);
                LineReport::of(n + 1, Some(line.username), result)
            }
            Err(err) => LineReport::of(n + 1, None, Err(format!("not a user line: {err}"))),
        };
        reports.push(report);
    }
    Ok(reports)
}
