//! The state every request handler shares: storage, keys, caches, limits and the
//! hashing pool. `startup` builds it; handlers only read it.

use std::sync::Arc;

use crate::config::Issuer;

use crate::auth::credentials::Guard;
use crate::auth::hashing::HashPool;
use crate::auth::keyring::Keyring;
use crate::cache::TtlCache;
use crate::clock::SharedClock;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::limiter::Limits;
use crate::oidc::grants::Instance;
use crate::oidc::keys::{KeyCache, KeyError, KeySet};
use crate::store::clients::Client;
use crate::store::{Db, StoreError};
use crate::tenancy::branding::Brand;

/// Everything a request handler may need, shared by all workers.
#[derive(Debug, Clone)]
pub struct AppState {
    pub issuer: Issuer,
    pub db: Db,
    pub keyring: Arc<Keyring>,
    pub ephemeral: Ephemeral,
    pub clock: SharedClock,
    /// The installation-wide TOTP switch.
    pub totp_enabled: bool,
    pub keys: KeyCache,
    pub clients: TtlCache<Client>,
    /// Tenants' branding by tenant id (every sign-in page shows it).
    pub brands: TtlCache<Brand>,
    /// Seconds a published `next` signing key waits before it signs.
    pub key_rotation_delay: i64,
    pub limits: Limits,
    /// Take the client address from `X-Forwarded-For` (a proxy in front overwrites it).
    pub trust_forwarded: bool,
    /// Every argon2id hash the server computes runs on this bounded pool.
    pub hasher: HashPool,
    /// False while `serve` waits for an unreachable database to migrate it: every
    /// request but the health checks gets a 503 until then.
    pub schema_ready: Arc<std::sync::atomic::AtomicBool>,
    /// This server process (a random id, and when it started).
    pub instance: Instance,
    /// What `/metrics` on the management listener shows.
    pub metrics: crate::metrics::Metrics,
    /// Wakes this instance's back-channel logout notifier when a notice is written.
    pub logout_notices: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// What second-factor and password checks need.
    pub fn guard(&self) -> Guard<'_> {
        Guard {
            db: &self.db,
            ephemeral: &self.ephemeral,
            keyring: &self.keyring,
            limits: &self.limits,
            hasher: &self.hasher,
        }
    }

    /// The issuer as it appears in tokens and metadata: exactly as configured.
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str()
    }

    /// The signing keys, reloaded (and rotated when due) once the cache is stale or the
    /// keys changed elsewhere (see [`KeyCache`]).
    pub async fn keys(&self) -> Result<Arc<KeySet>, KeyError> {
        self.keys.current(&self.db, &self.keyring, self.key_rotation_delay, self.clock.now()).await
    }

    /// A client by id as stored now (the cache is refreshed with it).
    pub async fn client_uncached(&self, id: &str) -> Result<Option<Client>, StoreError> {
        self.clients.forget(id);
        self.client(id).await
    }

    /// A client by id, through the cache; a disabled client is not found, so every path
    /// (authorize, token, refresh, introspection, userinfo, logout) refuses it alike.
    pub async fn client(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let now = self.clock.now();
        let found = match self.clients.get(id, now) {
            Some(cached) => cached,
            None => {
                let lookup = id.to_owned();
                let found = self.db.run(move |conn| crate::store::clients::find(conn, &lookup)).await?;
                self.clients.put(id, found.clone(), now);
                found
            }
        };
        Ok(found.filter(|client| client.disabled_at.is_none()))
    }

    /// A tenant's branding by tenant id, through the cache.
    pub async fn brand(&self, tenant_id: &str) -> Result<Option<Brand>, StoreError> {
        let now = self.clock.now();
        if let Some(cached) = self.brands.get(tenant_id, now) {
            return Ok(cached);
        }
        let lookup = tenant_id.to_owned();
        let found = self
            .db
            .run(move |conn| crate::store::tenants::find(conn, &lookup))
            .await?
            .map(|tenant| Brand::of(&tenant));
        self.brands.put(tenant_id, found.clone(), now);
        Ok(found)
    }
}
