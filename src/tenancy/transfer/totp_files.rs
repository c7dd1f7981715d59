//! TOTP secrets attached to existing users, from Authelia's importable YAML export or a
//! list of `otpauth://` URIs, and a tenant's secrets exported as Authelia's YAML.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{IMPORTED_LABEL, LineReport, attach, params_of};
use crate::auth::credentials::aad;
use crate::auth::keyring::{Keyring, Sealed};
use crate::auth::totp::{TotpParams, TotpSecret};
use crate::store::DbConn;
use crate::store::audit::{self, Origin};
use crate::store::tenants::Tenant;
use crate::store::totp as rows;
use crate::store::users;
use crate::tenancy::service::{TenancyError, find_tenant};
use crate::tenancy::{Slug, Username};
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
