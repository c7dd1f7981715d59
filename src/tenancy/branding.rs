//! A tenant's branding: its display name (the issuer authenticator apps show, and the
//! name on every page), a logo, a primary colour and the pages' default language. The colour must keep white button
//! text readable (WCAG 2.2 AA, 4.5:1); it applies to the light theme, the dark theme
//! keeps its own accessible accent.

use serde::{Deserialize, Serialize};

use crate::store::tenants::{self, Tenant};
use crate::store::{DbConn, audit};
use crate::tenancy::Permission;
use crate::tenancy::admin::{Admin, AdminError};
use crate::tenancy::permissions::{Action, Denied};
use crate::text::{LANGUAGES, Refusal};

/// Text on buttons in the brand colour is white; it needs this contrast.
const MIN_CONTRAST: f64 = 4.5;
const MAX_LOGO_URL: usize = 512;

/// A change to a tenant's branding: each field left `None` stays; `Some("")` clears
/// the logo or the colour.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandingChange {
    pub name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_colour: Option<String>,
    /// One of [`LANGUAGES`] (`""` clears it: English).
    pub default_language: Option<String>,
}

/// The branding as pages use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Brand {
    pub name: String,
    pub logo_url: Option<String>,
    pub primary_colour: Option<String>,
    /// The pages' language for a browser that asks for none they have.
    pub default_language: Option<String>,
}

impl Brand {
    pub fn of(tenant: &Tenant) -> Self {
        Self {
            name: tenant.name.clone(),
            logo_url: tenant.logo_url.clone(),
            primary_colour: tenant.primary_colour.clone(),
            default_language: tenant.default_language.clone(),
        }
    }

    /// The stylesheet that applies the colour (none without one).
    pub fn css(&self) -> Option<String> {
        let colour = self.primary_colour.as_deref()?;
        Some(format!(
            ":root {{ --accent: {colour}; }}\n@media (prefers-color-scheme: dark) {{ :root {{ --accent: #8ab4f8; }} }}\n"
        ))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BrandingError {
    #[error("{0}")]
    Invalid(Refusal),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A display name: 1 to 100 characters, no control characters.
pub fn name(raw: &str) -> Result<String, BrandingError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(BrandingError::Invalid(Refusal::new("refusal-tenant-name")));
    }
    Ok(name.to_owned())
}

/// A logo URL: https, at most 512 characters (`""` clears it).
pub fn logo_url(raw: &str) -> Result<Option<String>, BrandingError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let parsed = url::Url::parse(raw)
        .map_err(|_| BrandingError::Invalid(Refusal::new("refusal-logo-not-url").with("raw", raw)))?;
    if parsed.scheme() != "https" || raw.len() > MAX_LOGO_URL || parsed.host_str().is_none() {
        return Err(BrandingError::Invalid(Refusal::new("refusal-logo-https").with("max", MAX_LOGO_URL)));
    }
    Ok(Some(parsed.to_string()))
}

/// A primary colour `#rrggbb` dark enough for white text (`""` clears it).
pub fn primary_colour(raw: &str) -> Result<Option<String>, BrandingError> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() {
        return Ok(None);
    }
    let Some(rgb) = parse_hex(&raw) else {
        return Err(BrandingError::Invalid(Refusal::new("refusal-colour-form").with("raw", raw)));
    };
    let contrast = contrast_with_white(rgb);
    if contrast < MIN_CONTRAST {
        return Err(BrandingError::Invalid(
            Refusal::new("refusal-colour-light")
                .with("raw", &raw)
                .with("contrast", format!("{contrast:.2}"))
                .with("min", MIN_CONTRAST),
        ));
    }
    Ok(Some(raw))
}

/// A default language: one the pages have (`""` clears it).
pub fn default_language(raw: &str) -> Result<Option<String>, BrandingError> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() {
        return Ok(None);
    }
    match LANGUAGES.iter().find(|l| **l == raw) {
        Some(known) => Ok(Some((*known).to_owned())),
        None => Err(BrandingError::Invalid(
            Refusal::new("refusal-language").with("raw", &raw).with("languages", LANGUAGES.join(", ")),
        )),
    }
}

fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let hex = s.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

/// WCAG 2.x contrast ratio of a colour with white.
fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
    };
    let luminance = 0.2126 * channel(rgb[0]) + 0.7152 * channel(rgb[1]) + 0.0722 * channel(rgb[2]);
    1.05 / (luminance + 0.05)
}

/// Applies `change` to the tenant `tenant_id`, audited (`tenant.branding_changed`, with
/// `via` — cli, admin or api — and the actor).
pub fn update(
    conn: &mut DbConn,
    tenant_id: &str,
    change: &BrandingChange,
    via: &str,
    origin: &audit::Origin,
    now: i64,
) -> Result<Tenant, BrandingError> {
    let name = change.name.as_deref().map(name).transpose()?;
    let logo = change.logo_url.as_deref().map(logo_url).transpose()?;
    let colour = change.primary_colour.as_deref().map(primary_colour).transpose()?;
    let language = change.default_language.as_deref().map(default_language).transpose()?;
    let tenant = conn.write(|conn| -> Result<Tenant, crate::store::StoreError> {
        let mut tenant = tenants::find(conn, tenant_id)?.ok_or(crate::store::StoreError::NotFound)?;
        let before = Brand::of(&tenant);
        if let Some(name) = name.clone() {
            tenant.name = name;
        }
        if let Some(logo) = logo.clone() {
            tenant.logo_url = logo;
        }
        if let Some(colour) = colour.clone() {
            tenant.primary_colour = colour;
        }
        if let Some(language) = language.clone() {
            tenant.default_language = language;
        }
        tenants::save_branding(conn, &tenant, now)?;
        let mut event = audit::system_event(&tenant.id, None, "tenant.branding_changed", now);
        event.actor_user_id = origin.actor_user_id.clone();
        event.ip = origin.ip.clone();
        event.detail =
            serde_json::json!({ "via": via, "before": before, "after": Brand::of(&tenant) }).to_string();
        audit::insert(conn, &event)?;
        Ok(tenant)
    })?;
    Ok(tenant)
}

/// The branding of the administrator's tenant (read permission, as the policy).
pub fn get_for(conn: &mut DbConn, admin: &Admin) -> Result<Brand, AdminError> {
    if admin.permission() < Permission::Read {
        return Err(Denied::Permission.into());
    }
    let tenant = tenants::find(conn, &admin.user.tenant_id)?.ok_or(AdminError::NotFound)?;
    Ok(Brand::of(&tenant))
}

/// Changes the administrator's tenant's branding (the right to edit the policy), via
/// the admin pages or the API.
pub fn update_for(
    conn: &mut DbConn,
    admin: &Admin,
    change: &BrandingChange,
    via: &str,
    origin: &audit::Origin,
    now: i64,
) -> Result<Brand, AdminError> {
    admin.may(Action::EditPolicy, None)?;
    let origin = audit::Origin { actor_user_id: Some(admin.user.id.clone()), ip: origin.ip.clone() };
    match update(conn, &admin.user.tenant_id, change, via, &origin, now) {
        Ok(tenant) => Ok(Brand::of(&tenant)),
        Err(BrandingError::Invalid(refusal)) => Err(AdminError::Invalid(refusal)),
        Err(BrandingError::Store(store)) => Err(store.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_must_keep_white_text_readable() {
        assert_eq!(primary_colour("#1F5FBF").unwrap().as_deref(), Some("#1f5fbf"));
        assert_eq!(primary_colour("").unwrap(), None);
        assert!(primary_colour("#ffff00").unwrap_err().to_string().contains("too light"));
        assert!(primary_colour("#767676").is_ok(), "4.54:1 is enough");
        assert!(primary_colour("#777777").is_err(), "4.48:1 is not");
        for bad in ["red", "#12345", "#12345g", "1f5fbf"] {
            assert!(primary_colour(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_languages_are_those_the_pages_have() {
        assert_eq!(default_language(" DE ").unwrap().as_deref(), Some("de"));
        assert_eq!(default_language("").unwrap(), None);
        for bad in ["fr", "de-CH", "english"] {
            assert!(default_language(bad).unwrap_err().to_string().contains("en, de"), "{bad}");
        }
    }

    #[test]
    fn logos_are_https_urls() {
        assert_eq!(
            logo_url("https://cdn.example/logo.svg").unwrap().as_deref(),
            Some("https://cdn.example/logo.svg")
        );
        assert_eq!(logo_url(" ").unwrap(), None);
        for bad in
            ["http://cdn.example/logo.svg", "javascript:alert(1)", "not a url", "data:image/png;base64,AA"]
        {
            assert!(logo_url(bad).is_err(), "{bad}");
        }
    }
}
