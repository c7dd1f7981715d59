//! Registering relying parties: exact redirect URIs, high-entropy secrets stored as
//! SHA-256 (a fast hash suits 256-bit random secrets; argon2 is for passwords).

use sha2::{Digest, Sha256};
use url::Url;

use crate::store::DbConn;
use crate::store::audit::{self, Origin};
use crate::store::clients::{self, Client};
use crate::tenancy::Slug;
use crate::tenancy::service::{TenancyError, find_tenant};

/// A redirect URI as registered: absolute, without fragment (RFC 6749 §3.1.2), and
/// compared later as an exact string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("malformed redirect URI '{raw}': {e}"))?;
        if url.fragment().is_some() {
            return Err(format!("malformed redirect URI '{raw}': it must not have a fragment"));
        }
        // Matching is by exact string later, so a web URI must already be in the
        // normalised form a browser sends back (lowercase host, a path of at least '/').
        if matches!(url.scheme(), "http" | "https") && url.as_str() != raw {
            return Err(format!("malformed redirect URI '{raw}': write it as '{url}'"));
        }
        if url.cannot_be_a_base() && !url.scheme().contains('.') {
            return Err(format!("malformed redirect URI '{raw}': not an absolute URI"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A back-channel logout URI: an absolute `https` URL (`http` only for a loopback host),
/// without a fragment (Back-Channel Logout 1.0 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackchannelUri(String);

impl BackchannelUri {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|e| format!("malformed back-channel logout URI '{raw}': {e}"))?;
        if url.fragment().is_some() {
            return Err(format!("malformed back-channel logout URI '{raw}': it must not have a fragment"));
        }
        let loopback = match url.host() {
            Some(url::Host::Domain(host)) => host == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            _ => {
                return Err(format!(
                    "back-channel logout URI '{raw}': https is required (http only for a loopback host)"
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!("back-channel logout URI '{raw}': no credentials in the URI"));
        }
        Ok(Self(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What `client create` asks for.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub tenant: Slug,
    pub name: String,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub public: bool,
    pub require_mfa: bool,
    pub trusted: bool,
    /// Whether this client's users may skip the code on a remembered device.
    pub allow_remembered_devices: bool,
    /// Whether a remembered device counts as multi-factor for this client (`acr`,
    /// `require_mfa`, `acr_values`).
    pub remembered_device_mfa: bool,
    pub id_token_alg: crate::oidc::keys::SigningAlg,
    pub access_token_alg: crate::oidc::keys::SigningAlg,
    /// The scopes it may ask for in a client_credentials grant (none: only scope-less
    /// tokens); user scopes (`openid`, `offline_access`) cannot be among them.
    pub client_scopes: Vec<String>,
    /// Where it hears that a session ended (OpenID Connect Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<BackchannelUri>,
    pub backchannel_logout_session_required: bool,
}

/// A client name: trimmed, not empty, at most this many characters.
pub const NAME_MAX: usize = 200;

pub fn client_name(raw: &str) -> Result<String, TenancyError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(TenancyError::Invalid("the client name is empty".to_owned()));
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(TenancyError::Invalid(format!(
            "the client name must be at most {NAME_MAX} printable characters"
        )));
    }
    Ok(name.to_owned())
}

/// A remembered device cannot count as multi-factor for a client that refuses them.
pub fn remembered_rule(
    allow_remembered_devices: bool,
    remembered_device_mfa: bool,
) -> Result<(), TenancyError> {
    if remembered_device_mfa && !allow_remembered_devices {
        return Err(TenancyError::Invalid(
            "a remembered device cannot count as multi-factor for a client that refuses remembered devices"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The client `client_id` of the tenant `tenant_id` (a client of another tenant is not found).
pub fn client_in(conn: &mut DbConn, tenant_id: &str, client_id: &str) -> Result<Client, TenancyError> {
    clients::find(conn, client_id)?
        .filter(|c| c.tenant_id == tenant_id)
        .ok_or_else(|| TenancyError::UnknownClient(client_id.to_owned()))
}

/// Who made a change, for the audit detail: an administrator, or the operator (CLI).
pub(crate) fn via(origin: &Origin) -> &'static str {
    if origin.actor_user_id.is_some() { "admin" } else { "system" }
}

/// A new client and, for a confidential one, its secret, shown once.
#[derive(Debug)]
pub struct CreatedClient {
    pub client: Client,
    pub secret: Option<String>,
}

pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn to_json(uris: &[RedirectUri]) -> String {
    serde_json::Value::from(uris.iter().map(|u| u.0.clone()).collect::<Vec<_>>()).to_string()
}

/// Registers a client (audited as `client.created`, by `origin`'s actor if any).
pub fn create_client(
    conn: &mut DbConn,
    new: &NewClient,
    origin: &Origin,
    now: i64,
) -> Result<CreatedClient, TenancyError> {
    let name = client_name(&new.name)?;
    remembered_rule(new.allow_remembered_devices, new.remembered_device_mfa)?;
    if new.redirect_uris.is_empty() {
        return Err(TenancyError::Invalid("a client needs at least one redirect URI".to_owned()));
    }
    let client_scopes = scope_list(&new.client_scopes)?;
    let secret = (!new.public).then(|| crate::random::token(32));
    conn.write(|conn| {
        let tenant = find_tenant(conn, &new.tenant)?;
        let client = Client {
            id: crate::random::token(16),
            tenant_id: tenant.id.clone(),
            name: name.clone(),
            secret_hash: secret.as_deref().map(hash_secret),
            redirect_uris: to_json(&new.redirect_uris),
            post_logout_redirect_uris: to_json(&new.post_logout_redirect_uris),
            require_mfa: new.require_mfa,
            trusted: new.trusted,
            id_token_alg: new.id_token_alg.as_str().to_owned(),
            access_token_alg: new.access_token_alg.as_str().to_owned(),
            allow_refresh: true,
            allow_remembered_devices: new.allow_remembered_devices,
            remembered_device_mfa: new.remembered_device_mfa,
            client_scopes: client_scopes.clone(),
            previous_secret_hash: None,
            previous_secret_until: None,
            disabled_at: None,
            backchannel_logout_uri: new.backchannel_logout_uri.as_ref().map(|u| u.as_str().to_owned()),
            backchannel_logout_session_required: new.backchannel_logout_session_required,
            created_at: now,
            updated_at: now,
        };
        clients::insert(conn, &client)?;
        let detail = serde_json::json!({ "via": via(origin), "client_id": client.id });
        audit::record(conn, &tenant.id, origin, None, "client.created", detail, now)?;
        Ok(CreatedClient { client, secret: secret.clone() })
    })
}

/// Scopes as registered: RFC 6749 §3.3 scope tokens, no user scopes, space-separated.
pub(crate) fn scope_list(scopes: &[String]) -> Result<String, TenancyError> {
    let mut out: Vec<&str> = Vec::new();
    for scope in scopes.iter().flat_map(|s| s.split(' ')).filter(|s| !s.is_empty()) {
        let token = scope.len() <= 128
            && scope.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
        if !token {
            return Err(TenancyError::Invalid(format!("'{scope}' is not a scope (RFC 6749 §3.3)")));
        }
        if matches!(scope, "openid" | "offline_access") {
            return Err(TenancyError::Invalid(format!(
                "'{scope}' is a user scope: client credentials carry none"
            )));
        }
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Ok(out.join(" "))
}

/// The scopes a client may ask for in a client_credentials grant.
pub fn client_scopes(client: &Client) -> impl Iterator<Item = &str> {
    client.client_scopes.split(' ').filter(|s| !s.is_empty())
}

/// The registered redirect URIs of a client row.
pub fn redirect_uris(client: &Client) -> Vec<String> {
    serde_json::from_str(&client.redirect_uris).unwrap_or_default()
}

/// The registered post-logout redirect URIs of a client row.
pub fn post_logout_redirect_uris(client: &Client) -> Vec<String> {
    serde_json::from_str(&client.post_logout_redirect_uris).unwrap_or_default()
}

pub fn list_clients(conn: &mut DbConn, tenant: &Slug) -> Result<Vec<Client>, TenancyError> {
    let tenant = find_tenant(conn, tenant)?;
    Ok(clients::list_by_tenant(conn, &tenant.id)?)
}

/// One client of `tenant` (a client of another tenant is not found).
pub fn show_client(conn: &mut DbConn, tenant: &Slug, client_id: &str) -> Result<Client, TenancyError> {
    let tenant = find_tenant(conn, tenant)?;
    client_in(conn, &tenant.id, client_id)
}

/// Whether `secret` is this client's secret — or, within the grace period of the last
/// rotation, its previous one (constant-time over the hashes, both always compared). A
/// public client has no secret and authenticates with none.
pub fn secret_matches(client: &Client, secret: Option<&str>, now: i64) -> bool {
    use subtle::ConstantTimeEq;
    match (&client.secret_hash, secret) {
        (Some(stored), Some(given)) => {
            let given = hash_secret(given);
            let current = given.as_bytes().ct_eq(stored.as_bytes());
            let previous = match (&client.previous_secret_hash, client.previous_secret_until) {
                (Some(previous), Some(until)) if now < until => given.as_bytes().ct_eq(previous.as_bytes()),
                _ => subtle::Choice::from(0),
            };
            bool::from(current | previous)
        }
        (None, None) => true,
        _ => false,
    }
}

/// How long a rotated secret stays valid by default: one hour.
pub const SECRET_GRACE: i64 = 3600;

/// A confidential client's new secret, shown once; the old one stays valid for `grace`
/// seconds (audited as `client.secret_rotated`).
pub fn rotate_secret(
    conn: &mut DbConn,
    tenant_id: &str,
    client_id: &str,
    grace: i64,
    origin: &Origin,
    now: i64,
) -> Result<(String, i64), TenancyError> {
    if !(0..=30 * 86_400).contains(&grace) {
        return Err(TenancyError::Invalid("the grace period is 0 to 30 days, in seconds".to_owned()));
    }
    let secret = crate::random::token(32);
    let until = now.saturating_add(grace);
    conn.write(|conn| {
        let client = client_in(conn, tenant_id, client_id)?;
        if !clients::rotate_secret(conn, &client.id, &hash_secret(&secret), until, now)? {
            return Err(TenancyError::Invalid("a public client has no secret to rotate".to_owned()));
        }
        let detail =
            serde_json::json!({ "via": via(origin), "client_id": client.id, "previous_valid_until": until });
        audit::record(conn, tenant_id, origin, None, "client.secret_rotated", detail, now)?;
        Ok((secret.clone(), until))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backchannel_logout_uris_are_https_or_loopback_without_fragment_or_credentials() {
        for ok in [
            "https://rp.example/logout?x=1",
            "http://127.0.0.1:9000/bc",
            "http://localhost/bc",
            "http://[::1]/bc",
        ] {
            assert!(BackchannelUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://rp.example/logout",
            "https://rp.example/logout#f",
            "https://user:pw@rp.example/logout",
            "ftp://rp.example/",
            "/relative",
        ] {
            assert!(BackchannelUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_are_absolute_without_fragment() {
        assert!(RedirectUri::parse("https://app.example.com/cb").is_ok());
        assert!(RedirectUri::parse("http://127.0.0.1:3000/cb?x=1").is_ok());
        assert!(
            RedirectUri::parse("https://App.example.com").unwrap_err().contains("'https://app.example.com/'")
        );
        assert!(RedirectUri::parse("com.example.app:/oauth").is_ok());
        for bad in ["", "/cb", "not a uri", "https://a.example/cb#frag", "http:///cb"] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_hash_to_hex() {
        assert_eq!(hash_secret("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
