//! Changing a registered client: its settings, disabling and enabling it, deleting it.
//! Every change is audited. Who may is the caller's question: the CLI is the operator;
//! the API and the admin pages need a tenant administrator
//! ([`crate::tenancy::permissions::Action::EditPolicy`]).

use serde::Deserialize;
use serde_json::json;

use crate::oidc::clients::{
    self as registry, BackchannelUri, CreatedClient, NewClient, RedirectUri, scope_list, to_json, via,
};
pub use crate::oidc::clients::{NAME_MAX, client_in, client_name, remembered_rule};
use crate::oidc::keys::SigningAlg;
use crate::store::audit::{self, Origin};
use crate::store::clients::{self, Client};
use crate::store::{DbConn, tenants, tokens};
use crate::tenancy::Slug;
use crate::tenancy::service::TenancyError;

/// Redirect URIs as registered, each checked.
pub fn parse_uris(raw: &[String]) -> Result<Vec<RedirectUri>, TenancyError> {
    raw.iter().map(|u| RedirectUri::parse(u).map_err(TenancyError::Invalid)).collect()
}

/// A registration as the CLI, the API (`POST /api/v1/clients`) and the admin pages take
/// it: plain values, checked by [`Registration::into_new`]. Left out of a JSON body: no
/// post-logout URIs, confidential, not trusted, no MFA demand, remembered devices
/// allowed (not as multi-factor), RS256, no client_credentials scopes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Registration {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub public: bool,
    pub require_mfa: bool,
    pub trusted: bool,
    pub allow_remembered_devices: bool,
    pub remembered_device_mfa: bool,
    pub id_token_alg: String,
    pub access_token_alg: String,
    pub client_scopes: Vec<String>,
    /// Where it hears that a session it got tokens in has ended (none: not told).
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: bool,
}

impl Default for Registration {
    fn default() -> Self {
        Self {
            name: String::new(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            public: false,
            require_mfa: false,
            trusted: false,
            allow_remembered_devices: true,
            remembered_device_mfa: false,
            id_token_alg: SigningAlg::Rs256.as_str().to_owned(),
            access_token_alg: SigningAlg::Rs256.as_str().to_owned(),
            client_scopes: Vec::new(),
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
        }
    }
}

impl Registration {
    /// The registration for `tenant`, its URIs and algorithms checked (the rest is
    /// checked by [`registry::create_client`]).
    pub fn into_new(self, tenant: Slug) -> Result<NewClient, TenancyError> {
        let alg = |raw: &str| SigningAlg::parse(raw).map_err(TenancyError::Invalid);
        Ok(NewClient {
            tenant,
            redirect_uris: parse_uris(&self.redirect_uris)?,
            post_logout_redirect_uris: parse_uris(&self.post_logout_redirect_uris)?,
            id_token_alg: alg(&self.id_token_alg)?,
            access_token_alg: alg(&self.access_token_alg)?,
            name: self.name,
            public: self.public,
            require_mfa: self.require_mfa,
            trusted: self.trusted,
            allow_remembered_devices: self.allow_remembered_devices,
            remembered_device_mfa: self.remembered_device_mfa,
            client_scopes: self.client_scopes,
            backchannel_logout_uri: backchannel_uri(self.backchannel_logout_uri.as_deref())?,
            backchannel_logout_session_required: self.backchannel_logout_session_required,
        })
    }
}

/// A back-channel logout URI as given: none (or empty) for none, else checked.
fn backchannel_uri(raw: Option<&str>) -> Result<Option<BackchannelUri>, TenancyError> {
    raw.map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| BackchannelUri::parse(u).map_err(TenancyError::Invalid))
        .transpose()
}

/// Registers a client in the tenant `tenant_id` (for callers that know the tenant by id).
pub fn register(
    conn: &mut DbConn,
    tenant_id: &str,
    registration: Registration,
    origin: &Origin,
    now: i64,
) -> Result<CreatedClient, TenancyError> {
    let tenant =
        tenants::find(conn, tenant_id)?.ok_or_else(|| TenancyError::UnknownTenant(tenant_id.to_owned()))?;
    let slug = Slug::parse(&tenant.slug).map_err(|e| TenancyError::Invalid(e.to_string()))?;
    registry::create_client(conn, &registration.into_new(slug)?, origin, now)
}

/// What an update may change; a field left out stays as it is. Whether a client is
/// public (has a secret) is fixed at creation.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientChanges {
    pub name: Option<String>,
    /// Replaces the list (at least one).
    pub redirect_uris: Option<Vec<String>>,
    /// Replaces the list (may be empty).
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub require_mfa: Option<bool>,
    pub trusted: Option<bool>,
    pub allow_remembered_devices: Option<bool>,
    pub remembered_device_mfa: Option<bool>,
    pub id_token_alg: Option<String>,
    pub access_token_alg: Option<String>,
    /// Replaces the list of scopes a client_credentials grant may ask for.
    pub client_scopes: Option<Vec<String>>,
    /// Sets the back-channel logout URI; an empty string removes it.
    pub backchannel_logout_uri: Option<String>,
    pub backchannel_logout_session_required: Option<bool>,
}

fn uris(raw: &[String]) -> Result<String, TenancyError> {
    Ok(to_json(&parse_uris(raw)?))
}

fn alg(raw: &str) -> Result<String, TenancyError> {
    Ok(SigningAlg::parse(raw).map_err(TenancyError::Invalid)?.as_str().to_owned())
}

impl ClientChanges {
    /// Applies the changes to `client`, checked as creation checks them; the names of
    /// the settings that changed.
    pub fn apply(&self, client: &mut Client) -> Result<Vec<&'static str>, TenancyError> {
        let mut changed = Vec::new();
        let mut set = |field: &'static str, slot: &mut String, value: String| {
            if *slot != value {
                *slot = value;
                changed.push(field);
            }
        };
        if let Some(name) = &self.name {
            set("name", &mut client.name, client_name(name)?);
        }
        if let Some(list) = &self.redirect_uris {
            if list.is_empty() {
                return Err(TenancyError::Invalid("a client needs at least one redirect URI".to_owned()));
            }
            set("redirect_uris", &mut client.redirect_uris, uris(list)?);
        }
        if let Some(list) = &self.post_logout_redirect_uris {
            set("post_logout_redirect_uris", &mut client.post_logout_redirect_uris, uris(list)?);
        }
        if let Some(raw) = &self.id_token_alg {
            set("id_token_alg", &mut client.id_token_alg, alg(raw)?);
        }
        if let Some(raw) = &self.access_token_alg {
            set("access_token_alg", &mut client.access_token_alg, alg(raw)?);
        }
        if let Some(list) = &self.client_scopes {
            set("client_scopes", &mut client.client_scopes, scope_list(list)?);
        }
        if let Some(raw) = &self.backchannel_logout_uri {
            let uri = backchannel_uri(Some(raw))?.map(|u| u.as_str().to_owned());
            if client.backchannel_logout_uri != uri {
                client.backchannel_logout_uri = uri;
                changed.push("backchannel_logout_uri");
            }
        }
        let mut flag = |field: &'static str, slot: &mut bool, value: Option<bool>| {
            if let Some(value) = value.filter(|v| v != slot) {
                *slot = value;
                changed.push(field);
            }
        };
        flag("require_mfa", &mut client.require_mfa, self.require_mfa);
        flag("trusted", &mut client.trusted, self.trusted);
        flag("allow_remembered_devices", &mut client.allow_remembered_devices, self.allow_remembered_devices);
        flag("remembered_device_mfa", &mut client.remembered_device_mfa, self.remembered_device_mfa);
        flag(
            "backchannel_logout_session_required",
            &mut client.backchannel_logout_session_required,
            self.backchannel_logout_session_required,
        );
        remembered_rule(client.allow_remembered_devices, client.remembered_device_mfa)?;
        Ok(changed)
    }
}

/// A client's settings as the CLI and the API show them: never a secret.
pub fn view(c: &Client, tenant: &str) -> serde_json::Value {
    json!({
        "client_id": c.id, "tenant": tenant, "name": c.name,
        "public": c.secret_hash.is_none(),
        "redirect_uris": registry::redirect_uris(c),
        "post_logout_redirect_uris": registry::post_logout_redirect_uris(c),
        "require_mfa": c.require_mfa, "trusted": c.trusted, "id_token_alg": c.id_token_alg,
        "access_token_alg": c.access_token_alg,
        "allow_remembered_devices": c.allow_remembered_devices,
        "remembered_device_mfa": c.remembered_device_mfa,
        "client_scopes": registry::client_scopes(c).collect::<Vec<_>>(),
        "backchannel_logout_uri": c.backchannel_logout_uri,
        "backchannel_logout_session_required": c.backchannel_logout_session_required,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        // A rotated secret still accepted until then (Unix time), if any.
        "previous_secret_valid_until": c.previous_secret_until.filter(|_| c.previous_secret_hash.is_some()),
        "disabled": c.disabled_at.is_some(),
        "disabled_at": c.disabled_at,
    })
}

/// Changes a client's settings (audited as `client.updated`, with the names of what
/// changed; nothing is written when nothing changes).
pub fn update_client(
    conn: &mut DbConn,
    tenant_id: &str,
    client_id: &str,
    changes: &ClientChanges,
    origin: &Origin,
    now: i64,
) -> Result<Client, TenancyError> {
    conn.write(|conn| {
        let mut client = client_in(conn, tenant_id, client_id)?;
        let changed = changes.apply(&mut client)?;
        if changed.is_empty() {
            return Ok(client);
        }
        clients::save_settings(conn, &client, now)?;
        client.updated_at = now;
        let detail = json!({ "via": via(origin), "client_id": client.id, "changed": changed });
        audit::record(conn, tenant_id, origin, None, "client.updated", detail, now)?;
        Ok(client)
    })
}

/// Disables a client — refused everywhere from then on, its refresh tokens revoked —
/// or enables it again (audited as `client.disabled` / `client.enabled`).
pub fn set_disabled(
    conn: &mut DbConn,
    tenant_id: &str,
    client_id: &str,
    disabled: bool,
    origin: &Origin,
    now: i64,
) -> Result<Client, TenancyError> {
    conn.write(|conn| {
        let mut client = client_in(conn, tenant_id, client_id)?;
        if client.disabled_at.is_some() == disabled {
            return Ok(client);
        }
        client.disabled_at = disabled.then_some(now);
        clients::set_disabled(conn, &client.id, client.disabled_at, now)?;
        client.updated_at = now;
        let mut detail = json!({ "via": via(origin), "client_id": client.id });
        if disabled {
            detail["refresh_tokens_revoked"] = tokens::revoke_by_client(conn, &client.id, now)?.into();
        }
        let event = if disabled { "client.disabled" } else { "client.enabled" };
        audit::record(conn, tenant_id, origin, None, event, detail, now)?;
        Ok(client)
    })
}

/// Deletes a client with its codes, refresh tokens and consents (audited as
/// `client.deleted`, with its name).
pub fn delete_client(
    conn: &mut DbConn,
    tenant_id: &str,
    client_id: &str,
    origin: &Origin,
    now: i64,
) -> Result<(), TenancyError> {
    conn.write(|conn| {
        let client = client_in(conn, tenant_id, client_id)?;
        clients::delete(conn, &client.id)?;
        let detail = json!({ "via": via(origin), "client_id": client.id, "name": client.name });
        audit::record(conn, tenant_id, origin, None, "client.deleted", detail, now)?;
        Ok(())
    })
}
