//! Device cookies (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
//! browser that has given a user's right password receives a cookie naming that user
//! and a random device id, sealed with the keyring (AES-GCM, so it cannot be forged or
//! moved to another user). At the next sign-in as that user, the browser's failed
//! passwords are counted against its own budget instead of the user's shared one, so a
//! stranger guessing elsewhere cannot lock the owner out of a browser it used before,
//! and an address that others behind it exhausted does not block it either.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::auth::keyring::{Keyring, Sealed};

/// What the sealed cookie is bound to, besides its content.
const AAD: &[u8] = b"watchword:device-cookie:v1";
/// How long a browser stays known.
pub const LIFETIME_DAYS: i64 = 365;
/// Longer cookie values are not even opened.
pub const MAX_LEN: usize = 1024;

/// A browser known to have signed in as one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
}

/// The cookie value for `username_key` in `tenant_id`, under device id `id` (a new
/// random one when `None`).
pub fn issue(keyring: &Keyring, tenant_id: &str, username_key: &str, id: Option<&str>) -> String {
    let id = id.map_or_else(|| crate::random::token(16), str::to_owned);
    let sealed = keyring.seal(format!("{tenant_id}\u{1f}{username_key}\u{1f}{id}").as_bytes(), AAD);
    format!("{}.{}", sealed.key_id, URL_SAFE_NO_PAD.encode(&sealed.bytes))
}

/// The device behind `value`, if it is a cookie this server sealed for exactly this
/// user; anything else (forged, another user's, from a removed key) is no device.
pub fn recognise(keyring: &Keyring, value: &str, tenant_id: &str, username_key: &str) -> Option<Device> {
    if value.len() > MAX_LEN {
        return None;
    }
    let (key_id, encoded) = value.split_once('.')?;
    let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
    let plain = keyring.open(&Sealed { key_id: key_id.to_owned(), bytes }, AAD).ok()?;
    let text = String::from_utf8(plain).ok()?;
    let mut parts = text.split('\u{1f}');
    let (tenant, user, id) = (parts.next()?, parts.next()?, parts.next()?);
    (tenant == tenant_id && user == username_key && parts.next().is_none())
        .then(|| Device { id: id.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        Keyring::parse("k1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=").unwrap()
    }

    #[test]
    fn a_cookie_names_one_user_and_cannot_be_forged() {
        let keyring = keyring();
        let value = issue(&keyring, "t1", "alice", None);
        let device = recognise(&keyring, &value, "t1", "alice").unwrap();
        assert_eq!(
            recognise(&keyring, &issue(&keyring, "t1", "alice", Some(&device.id)), "t1", "alice"),
            Some(device)
        );
        assert_eq!(recognise(&keyring, &value, "t1", "bob"), None, "another user");
        assert_eq!(recognise(&keyring, &value, "t2", "alice"), None, "another tenant");
        let mut forged = value.clone();
        forged.pop();
        forged.push(if value.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(recognise(&keyring, &forged, "t1", "alice"), None);
        assert_eq!(recognise(&keyring, "k1.", "t1", "alice"), None);
        assert_eq!(recognise(&keyring, "nonsense", "t1", "alice"), None);
        let other = Keyring::parse("k1:AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=").unwrap();
        assert_eq!(recognise(&other, &value, "t1", "alice"), None, "another server's key");
    }
}
