//! A user's profile: its name, e-mail address and the standard claims of OpenID Connect
//! Core §5.1 it can hold (given and family name, locale, time zone, phone number, postal
//! address). The user edits it on `/account`; a parent with `create` (or `admin`) over
//! the user edits it from `/admin` and the API. Every change is checked here, stamped
//! (the `updated_at` claim) and audited as `user.profile_updated` with the names of the
//! fields that changed — never their values.
//!
//! Watchword verifies neither e-mail addresses nor phone numbers: their `_verified`
//! claims say `false`.

use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::store::audit::{self, Origin};
use crate::store::users::{self, User};
use crate::store::{DbConn, StoreError};
use crate::text::Refusal;

/// The longest text a profile field holds, in characters.
pub const MAX_CHARS: usize = 200;
/// The most lines a street address has.
const MAX_STREET_LINES: usize = 4;

/// The postal address claim's parts (OpenID Connect Core §5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Street, house number, and any further lines, separated by newlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

impl Address {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// A profile as the pages, the API and the claims see it. Every field is optional; an
/// empty one is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The full name (the `name` claim; the username when absent).
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// A BCP 47 language tag (`de-CH`).
    #[serde(default)]
    pub locale: Option<String>,
    /// An IANA time zone name (`Europe/Zurich`).
    #[serde(default)]
    pub zoneinfo: Option<String>,
    /// Preferably E.164 (`+41 44 668 18 00`), an extension as `;ext=123`.
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
}

/// Why a profile is refused: the field, and a message key saying what it must be.
fn refused(field: &'static str, key: &'static str) -> Refusal {
    Refusal::new(key).with("field", field)
}

/// Trimmed, `None` when empty; refused when too long or holding a control character
/// (newlines only where `lines` allows them).
fn text(field: &'static str, value: Option<String>, lines: usize) -> Result<Option<String>, Refusal> {
    let Some(value) = value else { return Ok(None) };
    let value: String = value.replace("\r\n", "\n").trim().to_owned();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_CHARS {
        return Err(refused(field, "refusal-profile-long").with("max", MAX_CHARS));
    }
    let newlines = value.matches('\n').count();
    if newlines >= lines || value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(refused(field, "refusal-profile-characters"));
    }
    Ok(Some(value))
}

/// An e-mail address as Watchword accepts it: one `@`, a dotted domain, no spaces.
pub fn email_ok(email: &str) -> bool {
    email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.contains('@') && domain.contains('.') && !domain.ends_with('.')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A BCP 47 tag's shape: a 2–8 letter language, then subtags of 1–8 letters or digits.
/// An underscore (`de_CH`, as some systems write it) becomes a hyphen.
fn locale_ok(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    tag.len() <= 35
        && (2..=8).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// An IANA time zone name's shape: `UTC`, `Europe/Zurich`, `America/Argentina/Salta`.
fn zoneinfo_ok(zone: &str) -> bool {
    zone.len() <= 64
        && zone.split('/').all(|part| {
            !part.is_empty()
                && part.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && part.chars().all(|c| c.is_ascii_alphanumeric() || "_+-".contains(c))
        })
}

/// A phone number's shape: an optional `+`, digits with spaces, dots, hyphens or
/// parentheses between them (at least 3 digits, at most 20), an optional `;ext=` and digits.
fn phone_ok(phone: &str) -> bool {
    let (number, extension) = match phone.split_once(";ext=") {
        Some((number, ext)) => (number, Some(ext)),
        None => (phone, None),
    };
    let body = number.strip_prefix('+').unwrap_or(number);
    let digits = body.chars().filter(char::is_ascii_digit).count();
    (3..=20).contains(&digits)
        && body.chars().all(|c| c.is_ascii_digit() || " .-()".contains(c))
        && extension.is_none_or(|e| (1..=10).contains(&e.len()) && e.chars().all(|c| c.is_ascii_digit()))
}

impl Profile {
    /// The profile `user` holds.
    pub fn of(user: &User) -> Self {
        let stored = &user.profile;
        Self {
            display_name: user.display_name.clone(),
            given_name: stored.given_name.clone(),
            family_name: stored.family_name.clone(),
            email: user.email.clone(),
            locale: stored.locale.clone(),
            zoneinfo: stored.zoneinfo.clone(),
            phone_number: stored.phone_number.clone(),
            address: stored.address.as_deref().and_then(|raw| serde_json::from_str(raw).ok()),
        }
    }

    /// The profile as it will be kept: trimmed, empty fields absent, each field checked.
    pub fn checked(self) -> Result<Self, Refusal> {
        let email = text("email", self.email, 1)?;
        if email.as_deref().is_some_and(|e| !email_ok(e)) {
            return Err(refused("email", "refusal-profile-email"));
        }
        let locale = text("locale", self.locale, 1)?.map(|l| l.replace('_', "-"));
        if locale.as_deref().is_some_and(|l| !locale_ok(l)) {
            return Err(refused("locale", "refusal-profile-locale"));
        }
        let zoneinfo = text("zoneinfo", self.zoneinfo, 1)?;
        if zoneinfo.as_deref().is_some_and(|z| !zoneinfo_ok(z)) {
            return Err(refused("zoneinfo", "refusal-profile-zoneinfo"));
        }
        let phone_number = text("phone_number", self.phone_number, 1)?;
        if phone_number.as_deref().is_some_and(|p| !phone_ok(p)) {
            return Err(refused("phone_number", "refusal-profile-phone"));
        }
        let address = match self.address {
            None => None,
            Some(a) => Some(Address {
                street_address: text("street_address", a.street_address, MAX_STREET_LINES)?,
                locality: text("locality", a.locality, 1)?,
                region: text("region", a.region, 1)?,
                postal_code: text("postal_code", a.postal_code, 1)?,
                country: text("country", a.country, 1)?,
            })
            .filter(|a| !a.is_empty()),
        };
        Ok(Self {
            display_name: text("display_name", self.display_name, 1)?,
            given_name: text("given_name", self.given_name, 1)?,
            family_name: text("family_name", self.family_name, 1)?,
            email,
            locale,
            zoneinfo,
            phone_number,
            address,
        })
    }

    /// The names of the fields in which `self` and `other` differ.
    pub fn changes(&self, other: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut field = |name, differs: bool| {
            if differs {
                changed.push(name);
            }
        };
        field("display_name", self.display_name != other.display_name);
        field("given_name", self.given_name != other.given_name);
        field("family_name", self.family_name != other.family_name);
        field("email", self.email != other.email);
        field("locale", self.locale != other.locale);
        field("zoneinfo", self.zoneinfo != other.zoneinfo);
        field("phone_number", self.phone_number != other.phone_number);
        field("address", self.address != other.address);
        changed
    }

    fn stored(&self) -> users::Profile {
        users::Profile {
            given_name: self.given_name.clone(),
            family_name: self.family_name.clone(),
            locale: self.locale.clone(),
            zoneinfo: self.zoneinfo.clone(),
            phone_number: self.phone_number.clone(),
            address: self.address.as_ref().and_then(|a| serde_json::to_string(a).ok()),
            profile_updated_at: None,
        }
    }
}

/// Why a user's own profile change failed.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{0}")]
    Invalid(Refusal),
    #[error("no such user")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for ProfileError {
    fn from(err: diesel::result::Error) -> Self {
        Self::Store(err.into())
    }
}

/// Writes `profile` (already checked) over the user's and audits the change; the names of
/// the fields that changed (nothing is written when none did). The changes are taken
/// against the row as it is inside the transaction, locked: of two edits at once, each
/// audits what it really changed.
pub(super) fn write(
    conn: &mut DbConn,
    user_id: &str,
    profile: &Profile,
    origin: &Origin,
    now: i64,
) -> Result<Vec<&'static str>, StoreError> {
    conn.write(|conn| {
        let user = users::find_locked(conn, user_id)?.ok_or(StoreError::Gone)?;
        let changed = Profile::of(&user).changes(profile);
        if changed.is_empty() {
            return Ok(changed);
        }
        let (name, email) = (profile.display_name.as_deref(), profile.email.as_deref());
        users::set_profile(conn, &user.id, name, email, &profile.stored(), now)?;
        let detail = json!({ "fields": changed });
        audit::record(conn, &user.tenant_id, origin, Some(&user.id), "user.profile_updated", detail, now)?;
        Ok(changed)
    })
}

/// The user `user_id` changes its own profile.
pub fn update_own(
    conn: &mut DbConn,
    user_id: &str,
    profile: Profile,
    origin: &Origin,
    now: i64,
) -> Result<Vec<&'static str>, ProfileError> {
    let profile = profile.checked().map_err(ProfileError::Invalid)?;
    match write(conn, user_id, &profile, origin, now) {
        Err(StoreError::Gone) => Err(ProfileError::NotFound),
        written => Ok(written?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn a_profile_is_trimmed_and_its_empty_fields_dropped() {
        let typed = Profile {
            display_name: some("  Ada Lovelace "),
            given_name: some(""),
            locale: some("de_CH"),
            address: Some(Address {
                street_address: some("12 St James's Square\r\nFlat 3 "),
                ..Address::default()
            }),
            ..Profile::default()
        };
        let kept = typed.checked().unwrap();
        assert_eq!(kept.display_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(kept.given_name, None);
        assert_eq!(kept.locale.as_deref(), Some("de-CH"));
        assert_eq!(kept.address.unwrap().street_address.as_deref(), Some("12 St James's Square\nFlat 3"));
        let blank = Profile {
            address: Some(Address { country: some(" "), ..Address::default() }),
            ..Profile::default()
        };
        assert_eq!(blank.checked().unwrap().address, None);
    }

    #[test]
    fn each_field_refuses_what_it_cannot_be() {
        let bad = [
            Profile { email: some("not-an-address"), ..Profile::default() },
            Profile { locale: some("english please"), ..Profile::default() },
            Profile { zoneinfo: some("../etc/passwd"), ..Profile::default() },
            Profile { phone_number: some("call me"), ..Profile::default() },
            Profile { phone_number: some("+1 (425) 555-1212;ext=abc"), ..Profile::default() },
            Profile { family_name: some(&"x".repeat(MAX_CHARS + 1)), ..Profile::default() },
            Profile { given_name: some("Ada\nLovelace"), ..Profile::default() },
            Profile { display_name: some("bell\u{7}"), ..Profile::default() },
        ];
        for profile in bad {
            assert!(profile.clone().checked().is_err(), "{profile:?}");
        }
        let good = Profile {
            email: some("ada@example.org"),
            locale: some("en-GB"),
            zoneinfo: some("America/Argentina/Salta"),
            phone_number: some("+1 (425) 555-1212;ext=42"),
            ..Profile::default()
        };
        assert_eq!(good.clone().checked().unwrap(), good);
    }
}
