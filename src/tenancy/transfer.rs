//! Moving to and from Watchword without resetting a password or re-enrolling anyone:
//! users imported with their existing password hashes (and optionally a TOTP secret),
//! TOTP secrets attached to existing users from Authelia's importable YAML export or a
//! list of `otpauth://` URIs, and the tenant's secrets exported as Authelia's YAML.
//!
//! Every line (or YAML entry) is one transaction: it is imported whole or not at all,
//! and the report says which and why.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::service::{InitialPassword, NewUser, TenancyError, create_user, find_tenant};
use super::{Permission, Slug, UserKind, Username};
use crate::auth::credentials::aad;
use crate::auth::foreign_hashes;
use crate::auth::keyring::{Keyring, Sealed};
use crate::auth::totp::{TotpAlgorithm, TotpParams, TotpSecret};
use crate::store::audit::{self, Origin};
use crate::store::tenants::Tenant;
use crate::store::totp::{self as rows, Credential};
use crate::store::users::{self, User};
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

/// One entry of Authelia's importable TOTP export (`authelia storage user totp export`).
/// No Debug: it holds the secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct AutheliaTotp {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    pub username: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default = "sha1")]
    pub algorithm: String,
    #[serde(default = "six")]
    pub digits: u32,
    #[serde(default = "thirty")]
    pub period: u32,
    /// Base32.
    pub secret: String,
}

fn sha1() -> String {
    "SHA1".to_owned()
}
fn six() -> u32 {
    6
}
fn thirty() -> u32 {
    30
}

/// The whole export file.
#[derive(Serialize, Deserialize)]
pub struct AutheliaExport {
    pub totp_configurations: Vec<AutheliaTotp>,
}

/// The label of an imported credential that came without an issuer.
const IMPORTED_LABEL: &str = "Imported authenticator";

/// A secret to attach, from either format.
struct Incoming {
    username: String,
    /// The issuer it was known by, as its label.
    label: String,
    secret: Result<TotpSecret, String>,
    params: Result<TotpParams, String>,
}

/// `otpauth://totp/Issuer:account?secret=…&algorithm=…&digits=…&period=…`.
fn from_uri(uri: &str) -> Result<Incoming, String> {
    let url = url::Url::parse(uri.trim()).map_err(|e| format!("not a URI: {e}"))?;
    if url.scheme() != "otpauth" || url.host_str() != Some("totp") {
        return Err("not an otpauth://totp/ URI".to_owned());
    }
    let label = percent_decode(url.path().trim_start_matches('/'));
    let username = label.rsplit_once(':').map_or(label.as_str(), |(_, account)| account).trim().to_owned();
    let query = |key: &str| url.query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned());
    let number = |key: &str| {
        query(key).map(|v| v.parse::<u32>().map_err(|_| format!("{key} is not a number"))).transpose()
    };
    let secret = query("secret").ok_or("the URI has no secret")?;
    let params = match (number("digits"), number("period")) {
        (Ok(digits), Ok(period)) => params_of(query("algorithm").as_deref(), digits, period),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let issuer = query("issuer").or_else(|| label.split_once(':').map(|(issuer, _)| issuer.to_owned()));
    let label = issuer.filter(|i| !i.trim().is_empty()).unwrap_or_else(|| IMPORTED_LABEL.to_owned());
    Ok(Incoming { username, label, secret: TotpSecret::from_base32(&secret), params })
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `user import-totp`: Authelia's YAML, or one `otpauth://` URI per line (told apart by
/// the content). Each entry is attached to the existing user of that username.
pub fn import_totp(
    conn: &mut DbConn,
    keyring: &Keyring,
    tenant: &Slug,
    text: &str,
    now: i64,
) -> Result<Vec<LineReport>, TenancyError> {
    let tenant = find_tenant(conn, tenant)?;
    let uris = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
    let entries: Vec<(usize, Result<Incoming, String>)> = if uris.is_some_and(|l| l.starts_with("otpauth://"))
    {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .map(|(n, l)| (n + 1, from_uri(l)))
            .collect()
    } else {
        let export: AutheliaExport = serde_norway::from_str(text).map_err(|e| {
            TenancyError::Invalid(format!("neither otpauth:// URIs nor Authelia's YAML export: {e}"))
        })?;
        export
            .totp_configurations
            .into_iter()
            .enumerate()
            .map(|(n, t)| {
                let incoming = Incoming {
                    label: if t.issuer.trim().is_empty() {
                        IMPORTED_LABEL.to_owned()
                    } else {
                        t.issuer.clone()
                    },
                    secret: TotpSecret::from_base32(&t.secret),
                    params: params_of(Some(&t.algorithm), Some(t.digits), Some(t.period)),
                    username: t.username,
                };
                (n + 1, Ok(incoming))
            })
            .collect()
    };
    Ok(entries.into_iter().map(|(n, entry)| attach_entry(conn, keyring, &tenant, n, entry, now)).collect())
}

fn attach_entry(
    conn: &mut DbConn,
    keyring: &Keyring,
    tenant: &Tenant,
    n: usize,
    entry: Result<Incoming, String>,
    now: i64,
) -> LineReport {
    let entry = match entry {
        Ok(entry) => entry,
        Err(err) => return LineReport::of(n, None, Err(err)),
    };
    let result = (|| {
        let (secret, params) = (entry.secret?, entry.params?);
        let key = Username::parse(&entry.username)?.key();
        conn.write(|conn| -> Result<(), TenancyError> {
            let user = users::find_by_username_key(conn, &tenant.id, &key)?.ok_or_else(|| {
                TenancyError::Invalid(format!("no user '{}' in this tenant", entry.username))
            })?;
            attach(conn, keyring, &user, &secret, params, &entry.label, now)
        })
        .map_err(|e| e.to_string())
    })();
    LineReport::of(n, Some(entry.username.clone()), result)
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `user export-totp`: every active credential of the tenant, secrets decrypted, as
/// Authelia's importable YAML, and how many ([`record_export`] once it is written).
pub fn export_totp(
    conn: &mut DbConn,
    keyring: &Keyring,
    tenant: &Slug,
) -> Result<(String, usize), TenancyError> {
    let tenant = find_tenant(conn, tenant)?;
    let mut configurations = Vec::new();
    for user in users::list_by_tenant(conn, &tenant.id)? {
        for credential in rows::for_user(conn, &user.id)?.into_iter().filter(|c| c.status == rows::ACTIVE) {
            let sealed =
                Sealed { key_id: credential.key_id.clone(), bytes: credential.secret_ciphertext.clone() };
            let bytes = keyring.open(&sealed, &aad(&credential.id, &user.id)).map_err(|e| {
                TenancyError::Invalid(format!("the secret of {} cannot be decrypted: {e}", user.username))
            })?;
            let period = i64::from(credential.period);
            configurations.push(AutheliaTotp {
                created_at: Some(rfc3339(credential.activated_at.unwrap_or(credential.created_at))),
                last_used_at: credential.last_used_step.map(|step| rfc3339(step * period)),
                username: user.username.clone(),
                issuer: tenant.name.clone(),
                algorithm: credential.algorithm.clone(),
                digits: u32::try_from(credential.digits).unwrap_or(6),
                period: u32::try_from(credential.period).unwrap_or(30),
                secret: TotpSecret::from_bytes(bytes).base32(),
            });
        }
    }
    let count = configurations.len();
    let yaml = serde_norway::to_string(&AutheliaExport { totp_configurations: configurations })
        .map_err(|e| TenancyError::Invalid(e.to_string()))?;
    Ok((yaml, count))
}

/// Records an export once its file is written (`totp.exported`).
pub fn record_export(conn: &mut DbConn, tenant: &Slug, count: usize, now: i64) -> Result<(), TenancyError> {
    let tenant = find_tenant(conn, tenant)?;
    let detail = json!({ "credentials": count, "via": "cli" });
    audit::record(conn, &tenant.id, &Origin::default(), None, "totp.exported", detail, now)?;
    Ok(())
}
