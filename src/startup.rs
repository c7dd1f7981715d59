//! Builds the application state and the actix server from [`Settings`]: keyring,
//! database (migrated), first-run bootstrap, ephemeral store, then the bound socket.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::auth::hashing::HashPool;
use crate::auth::keyring::{Keyring, KeyringError};
use crate::auth::password::Password;
use crate::cache::TtlCache;
use crate::clock::SharedClock;
use crate::config::Settings;
use crate::ephemeral::{Ephemeral, EphemeralError, MemoryStore, RedisStore};
use crate::http::state::AppState;
use crate::oidc::backchannel::{Notifier, NotifierParts};
use crate::oidc::grants::Instance;
use crate::oidc::keys::{self, KeyCache, KeyError};
use crate::store::{Db, StoreError};
use crate::tenancy::{self, NewUser, Permission, Slug, TenancyError, UserKind, Username};

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend()).finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("secret keys: {0}")]
    Keyring(#[from] KeyringError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("first-run set-up: {0}")]
    Bootstrap(#[from] TenancyError),
    #[error("redis: {0}")]
    Redis(#[from] EphemeralError),
    #[error("signing keys: {0}")]
    Keys(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// The keyring from `WATCHWORD_SECRET_KEYS`, or the data dir's key file.
pub fn load_keyring(settings: &Settings) -> Result<Keyring, KeyringError> {
    match &settings.secret_keys {
        Some(spec) => Keyring::parse(spec),
        None => Keyring::load_or_create(&settings.data_dir),
    }
}

/// Connects and applies pending migrations (blocking: call before the server runs).
pub fn open_database(settings: &Settings) -> Result<Db, StoreError> {
    let db = connect_database(settings)?;
    db.migrate()?;
    Ok(db)
}

/// The pool, without touching the database (it may be down).
pub fn connect_database(settings: &Settings) -> Result<Db, StoreError> {
    crate::auth::keyring::create_private_dir(&settings.data_dir)
        .map_err(|e| StoreError::Unavailable(format!("data dir {}: {e}", settings.data_dir.display())))?;
    Db::connect(&settings.database_url)
}

/// Migrates, bootstraps and prepares keys: what `serve` does before answering, run
/// again and again (blocking) while the database is unreachable at start.
pub fn prepare(
    settings: &Settings,
    db: &Db,
    keyring: &Keyring,
    now: i64,
) -> Result<Option<FirstRun>, StartupError> {
    db.migrate()?;
    // The first tenant is named after the issuer's host: the issuer authenticator apps
    // show ("id.example.com"), not a placeholder ("Default"); `tenant update` renames it.
    let name = settings.issuer.as_ref().and_then(|i| i.url().host_str().map(str::to_owned));
    let first_run = bootstrap(db, name.as_deref().unwrap_or("Watchword"), now)?;
    prepare_keys(settings, db, keyring, now).map_err(|e| StartupError::Keys(e.to_string()))?;
    Ok(first_run)
}

/// The administrator made on first run; its password is shown once.
#[derive(Debug)]
pub struct FirstRun {
    pub tenant: String,
    pub username: String,
    pub password: String,
}

/// On an empty database: tenant `default` named `name`, and user `admin` (permission
/// admin, TOTP required) with a random password. Does nothing when any tenant exists.
pub fn bootstrap(db: &Db, name: &str, now: i64) -> Result<Option<FirstRun>, TenancyError> {
    let invalid = |e: String| TenancyError::Invalid(e);
    let password = crate::random::password();
    let new = NewUser {
        tenant: Slug::parse("default").map_err(invalid)?,
        username: Username::parse("admin").map_err(invalid)?,
        password: crate::tenancy::InitialPassword::Plain(
            Password::parse(password.clone()).map_err(|e| invalid(e.to_string()))?,
        ),
        parent: None,
        kind: UserKind::Internal,
        email: None,
        display_name: Some("Administrator".to_owned()),
        totp_required: true,
        permission: Permission::Admin,
        // Printed at start-up (a terminal, a log): replaced at the first sign-in.
        password_temporary: true,
    };
    db.run_blocking(|conn| {
        conn.write(|conn| {
            if crate::store::tenants::count(conn)? > 0 {
                return Ok(None);
            }
            tenancy::create_tenant(conn, &new.tenant, Some(name), now)?;
            tenancy::create_user(conn, &new, now)?;
            Ok(Some(FirstRun {
                tenant: "default".to_owned(),
                username: "admin".to_owned(),
                password: password.clone(),
            }))
        })
    })
}

/// Redis when `WATCHWORD_REDIS_URL` is set, else the in-process store. Call it inside
/// a tokio runtime (the Redis connection is made lazily on it).
pub fn ephemeral_store(settings: &Settings) -> Result<Ephemeral, EphemeralError> {
    Ok(match &settings.redis_url {
        Some(url) => Ephemeral::Redis(RedisStore::connect(url, &settings.redis_prefix)?),
        None => Ephemeral::Memory(MemoryStore::new()),
    })
}

/// Creates any missing signing key and promotes due ones, before the server answers.
pub fn prepare_keys(settings: &Settings, db: &Db, keyring: &Keyring, now: i64) -> Result<(), KeyError> {
    db.run_blocking(|conn| keys::maintain(conn, keyring, settings.key_rotation_delay, now))
}

/// A bound, not yet running server.
pub struct Application {
    server: Server,
    addr: SocketAddr,
    /// `/metrics` and `/health/*`, on their own address (none when switched off).
    management: Option<(Server, SocketAddr)>,
    state: AppState,
    /// Delivers back-channel logout notices while the server runs.
    notifier: Notifier,
}

impl Application {
    /// Binds `settings.listen` (port 0 picks a free port) and prepares the server.
    pub fn build(
        settings: &Settings,
        db: Db,
        keyring: Keyring,
        clock: SharedClock,
    ) -> Result<Self, StartupError> {
        let ephemeral = ephemeral_store(settings)?;
        Self::build_with(settings, db, keyring, clock, ephemeral)
    }

    /// As [`Application::build`] with a given ephemeral store (instances that share one).
    pub fn build_with(
        settings: &Settings,
        db: Db,
        keyring: Keyring,
        clock: SharedClock,
        ephemeral: Ephemeral,
    ) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(settings.listen)
            .map_err(|source| StartupError::Bind { addr: settings.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartupError::Bind { addr: settings.listen, source })?;
        // Keys are made now so the first login pays nothing; if the database is down the
        // server still starts (and reports not ready), and keys are made on first use.
        if let Err(err) = prepare_keys(settings, &db, &keyring, clock.now()) {
            tracing::warn!(error = %err, "signing keys could not be prepared at start");
        }
        let started_at = clock.now();
        let metrics = crate::metrics::Metrics::new();
        let hasher = HashPool::start(settings.hash_workers, settings.hash_queue);
        let observed = metrics.clone();
        hasher.observe_waits(move |waited| observed.hash_wait(waited));
        let state = AppState {
            issuer: settings.issuer_for(addr),
            db,
            keyring: Arc::new(keyring),
            ephemeral,
            clock,
            totp_enabled: settings.totp_enabled,
            keys: KeyCache::new(60),
            clients: TtlCache::new(30),
            brands: TtlCache::new(30),
            key_rotation_delay: settings.key_rotation_delay,
            limits: settings.limits,
            trust_forwarded: settings.trust_forwarded,
            hasher,
            schema_ready: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            instance: Instance {
                id: crate::random::token(12),
                started_at,
                totp_enabled: settings.totp_enabled,
            },
            metrics,
            logout_notices: Notifier::waker(),
        };
        let notifier = Notifier::new(NotifierParts {
            db: state.db.clone(),
            keyring: state.keyring.clone(),
            keys: state.keys.clone(),
            key_rotation_delay: state.key_rotation_delay,
            clock: state.clock.clone(),
            issuer: state.issuer_str().to_owned(),
            every: settings.backchannel_poll,
            ready: state.schema_ready.clone(),
            wake: state.logout_notices.clone(),
        });
        let https = state.issuer.is_https();
        let data = web::Data::new(state.clone());
        let management_data = data.clone();
        let server = HttpServer::new(move || {
            // Called once on each worker thread, inside its runtime.
            data.ephemeral.bind_to_this_thread();
            App::new()
                .wrap(actix_web::middleware::from_fn(crate::http::ops::measure))
                .wrap(actix_web::middleware::from_fn(crate::http::health::until_ready))
                .wrap(actix_web::middleware::from_fn(crate::http::input::refuse_nul))
                .wrap(crate::http::security_headers(https))
                .wrap(TracingLogger::<crate::http::logging::RequestSpan>::new())
                .app_data(data.clone())
                .configure(crate::http::configure)
                .default_service(web::to(crate::http::not_found))
        })
        .shutdown_timeout(10)
        .listen(listener)
        .map_err(|source| StartupError::Bind { addr, source })?
        .run();
        let management = match settings.management_listen {
            None => None,
            Some(wanted) => {
                let bind_err = |source| StartupError::Bind { addr: wanted, source };
                let listener = TcpListener::bind(wanted).map_err(bind_err)?;
                let bound = listener.local_addr().map_err(bind_err)?;
                let data = management_data;
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .configure(crate::http::ops::configure)
                        .default_service(web::to(actix_web::HttpResponse::NotFound))
                })
                .workers(1)
                .shutdown_timeout(2)
                .listen(listener)
                .map_err(|source| StartupError::Bind { addr: bound, source })?
                .run();
                Some((server, bound))
            }
        };
        Ok(Self { server, addr, management, state, notifier })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where `/metrics` and `/health/*` are served.
    pub fn management_addr(&self) -> Option<SocketAddr> {
        self.management.as_ref().map(|(_, addr)| *addr)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (graceful).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let notifier = tokio::spawn(self.notifier.run());
        let served = match self.management {
            None => self.server.await,
            Some((management, _)) => {
                let (public, management) = tokio::join!(self.server, management);
                public.and(management)
            }
        };
        notifier.abort();
        served
    }
}
