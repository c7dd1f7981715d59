//! The `clients` table: relying parties registered in a tenant.

use diesel::prelude::*;

use super::schema::clients;
use super::{DbConn, StoreError};

/// A client row. Redirect URIs are a JSON array of exact strings; a public client
/// has no `secret_hash`.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = clients, treat_none_as_default_value = false)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub require_mfa: bool,
    pub trusted: bool,
    pub id_token_alg: String,
    pub allow_refresh: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// RS256 (what most resource servers expect), ES256 or EdDSA.
    pub access_token_alg: String,
    /// Users of this client may skip the code on a remembered device (tenant permitting).
    pub allow_remembered_devices: bool,
    /// A remembered device counts as multi-factor for this client.
    pub remembered_device_mfa: bool,
    /// The scopes it may ask for in a client_credentials grant, space-separated.
    pub client_scopes: String,
    /// The secret before the last rotation, valid until `previous_secret_until`.
    pub previous_secret_hash: Option<String>,
    pub previous_secret_until: Option<i64>,
    /// When it was disabled; a disabled client is refused everywhere.
    pub disabled_at: Option<i64>,
    /// Where it is told, by a logout token, that a session it got tokens in has ended.
    pub backchannel_logout_uri: Option<String>,
    /// It needs `sid` in logout tokens (Watchword always sends it).
    pub backchannel_logout_session_required: bool,
}

pub fn insert(conn: &mut DbConn, client: &Client) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(clients::table).values(client).execute(c))?;
    Ok(())
}

pub fn list_by_tenant(conn: &mut DbConn, tenant_id: &str) -> Result<Vec<Client>, StoreError> {
    Ok(crate::native!(conn, |c| clients::table
        .filter(clients::tenant_id.eq(tenant_id))
        .order((clients::name, clients::id))
        .select(Client::as_select())
        .load(c))?)
}

/// Replaces the secret: the current one stays valid until `until`.
pub fn rotate_secret(
    conn: &mut DbConn,
    id: &str,
    new_hash: &str,
    until: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let updated = crate::native!(conn, |c| diesel::update(
        clients::table.find(id).filter(clients::secret_hash.is_not_null())
    )
    .set((
        clients::previous_secret_hash.eq(clients::secret_hash),
        clients::previous_secret_until.eq(Some(until)),
        clients::secret_hash.eq(Some(new_hash)),
        clients::updated_at.eq(now),
    ))
    .execute(c))?;
    Ok(updated == 1)
}

/// Saves a client's settings (everything but its id, tenant, secrets and creation).
pub fn save_settings(conn: &mut DbConn, client: &Client, now: i64) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(clients::table.find(&client.id))
        .set((
            clients::name.eq(&client.name),
            clients::redirect_uris.eq(&client.redirect_uris),
            clients::post_logout_redirect_uris.eq(&client.post_logout_redirect_uris),
            clients::require_mfa.eq(client.require_mfa),
            clients::trusted.eq(client.trusted),
            clients::id_token_alg.eq(&client.id_token_alg),
            clients::access_token_alg.eq(&client.access_token_alg),
            clients::allow_remembered_devices.eq(client.allow_remembered_devices),
            clients::remembered_device_mfa.eq(client.remembered_device_mfa),
            clients::client_scopes.eq(&client.client_scopes),
            clients::backchannel_logout_uri.eq(&client.backchannel_logout_uri),
            clients::backchannel_logout_session_required.eq(client.backchannel_logout_session_required),
            clients::updated_at.eq(now),
        ))
        .execute(c))?;
    Ok(())
}

/// Disables a client (`Some(now)`) or enables it (`None`).
pub fn set_disabled(
    conn: &mut DbConn,
    id: &str,
    disabled_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::update(clients::table.find(id))
        .set((clients::disabled_at.eq(disabled_at), clients::updated_at.eq(now)))
        .execute(c))?;
    Ok(())
}

/// Deletes a client; its codes, refresh tokens and consents go with it (ON DELETE CASCADE).
pub fn delete(conn: &mut DbConn, id: &str) -> Result<bool, StoreError> {
    Ok(crate::native!(conn, |c| diesel::delete(clients::table.find(id)).execute(c))? == 1)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<Client>, StoreError> {
    Ok(crate::native!(conn, |c| clients::table.find(id).select(Client::as_select()).load(c))?
        .into_iter()
        .next())
}
