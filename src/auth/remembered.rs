//! Remember this device: after a right code with "don't ask for a code on this device",
//! the browser gets a cookie holding a random 256-bit token (only its SHA-256 is stored,
//! bound to the user and tenant). At the next sign-in on that browser, after the right
//! password, the code step is skipped — and the tokens say so: `amr` is
//! `["pwd", "remembered_device"]`, never `otp` or `mfa`, and `acr` is single-factor
//! unless the client counts remembered devices as multi-factor.
//!
//! Off unless the tenant sets `remember_device_days` (1–90). A client may refuse it;
//! a client that asks for multi-factor (and does not count devices as such), a
//! step-up, or a `max_age` shorter than the time since the code was entered on that
//! browser gets the code step anyway. Revoking the secret, changing or resetting the
//! password and disabling the user forget every device.

use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::random::secret_hash;
use crate::store::audit::{self, Origin};
use crate::store::remembered::{self as rows, RememberedDevice};
use crate::store::{DbConn, StoreError};

/// The `amr` value of a sign-in whose code step a remembered device replaced.
pub const AMR_VALUE: &str = "remembered_device";
/// What a tenant may set.
pub const DAYS_RANGE: RangeInclusive<i32> = 1..=90;
/// Longer cookie values are not even looked up.
pub const MAX_TOKEN_LEN: usize = 64;

/// What the client of a sign-in says about remembered devices, fixed when the flow
/// starts (a flow without a client — `/account` — takes the defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// The client refuses them: its users always give a code.
    #[serde(default)]
    pub refused: bool,
    /// The client counts them as multi-factor.
    #[serde(default)]
    pub counts_as_mfa: bool,
    /// The request's `max_age`: a device whose code is older does not skip the code.
    #[serde(default)]
    pub max_age: Option<i64>,
}

impl Terms {
    /// Whether a remembered device may replace the code step of this sign-in, given
    /// whether it must be multi-factor (client, request or step-up).
    pub fn allow(&self, requires_mfa: bool) -> bool {
        !self.refused && (!requires_mfa || self.counts_as_mfa)
    }
}

/// A short, human label for a browser from its User-Agent ("Firefox on Linux").
pub fn label_of(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or("");
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) => "Unknown browser".to_owned(),
    }
}

/// Remembers the browser for `days`; returns the cookie's token (shown to no one else).
pub fn remember(
    conn: &mut DbConn,
    tenant_id: &str,
    user_id: &str,
    days: i32,
    label: String,
    origin: &Origin,
    now: i64,
) -> Result<String, StoreError> {
    let token = crate::random::token(32);
    let device = RememberedDevice {
        id: crate::store::new_id(),
        token_hash: secret_hash(&token),
        user_id: user_id.to_owned(),
        tenant_id: tenant_id.to_owned(),
        label,
        created_ip: origin.ip.clone(),
        created_at: now,
        last_used_at: now,
        code_at: now,
        expires_at: now + i64::from(days) * 86_400,
    };
    conn.write(|conn| {
        rows::insert(conn, &device)?;
        let detail = serde_json::json!({ "device_id": device.id, "label": device.label, "days": days });
        audit::record(conn, tenant_id, origin, Some(user_id), "device.remembered", detail, now)
    })?;
    Ok(token)
}

/// Whether the browser's `token` is a live remembered device of this user in this
/// tenant, recent enough for `terms.max_age`; marks it used when it is.
pub fn recognise(
    conn: &mut DbConn,
    token: &str,
    tenant_id: &str,
    user_id: &str,
    terms: &Terms,
    now: i64,
) -> Result<Option<RememberedDevice>, StoreError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let Some(device) = rows::find_live(conn, &secret_hash(token), user_id, tenant_id, now)? else {
        return Ok(None);
    };
    if terms.max_age.is_some_and(|max| now - device.code_at > max) {
        return Ok(None);
    }
    rows::touch(conn, &device.id, now)?;
    Ok(Some(device))
}

/// Forgets every device of the user, with an audit line saying why when there were any.
pub fn forget_all(
    conn: &mut DbConn,
    tenant_id: &str,
    user_id: &str,
    origin: &Origin,
    reason: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let forgotten = rows::forget_all(conn, user_id)?;
    if forgotten > 0 {
        let detail = serde_json::json!({ "devices": forgotten, "reason": reason });
        audit::record(conn, tenant_id, origin, Some(user_id), "device.forgotten_all", detail, now)?;
    }
    Ok(forgotten)
}

/// Forgets one device of the user (by its id); false when the user has none by that id.
pub fn forget(
    conn: &mut DbConn,
    tenant_id: &str,
    user_id: &str,
    device_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<bool, StoreError> {
    conn.write(|conn| {
        if !rows::forget(conn, user_id, device_id)? {
            return Ok(false);
        }
        let detail = serde_json::json!({ "device_id": device_id });
        audit::record(conn, tenant_id, origin, Some(user_id), "device.forgotten", detail, now)?;
        Ok(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(label_of(Some(firefox)), "Firefox on Linux");
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(label_of(Some(chrome)), "Chrome on Windows");
        let edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/131.0 Safari/537.36 Edg/131.0";
        assert_eq!(label_of(Some(edge)), "Edge on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(label_of(Some(safari)), "Safari on iPhone");
        assert_eq!(label_of(None), "Unknown browser");
        assert_eq!(label_of(Some("curl/8.0")), "Unknown browser");
    }

    #[test]
    fn terms_decide_when_a_device_may_replace_the_code() {
        let default = Terms::default();
        assert!(default.allow(false));
        assert!(!default.allow(true), "multi-factor asked: a device is not that");
        assert!(Terms { counts_as_mfa: true, ..default }.allow(true));
        assert!(!Terms { refused: true, ..default }.allow(false));
        assert!(!Terms { refused: true, counts_as_mfa: true, ..default }.allow(true));
    }
}
