//! Durable state through diesel: one [`DbConn`] over PostgreSQL and SQLite, an r2d2
//! pool, embedded migrations for both backends, and one module per table group.
//!
//! Every query is blocking diesel code; [`Db::run`] moves it onto tokio's blocking
//! pool so that no async executor thread ever waits on the database.

pub mod audit;
pub mod clients;
pub mod logouts;
pub mod prepared;
pub mod remembered;
pub mod schema;
pub mod sealed;
pub mod sessions;
pub mod tenants;
pub mod tokens;
pub mod totp;
pub mod users;

mod database_url;

pub use database_url::DatabaseUrl;

use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, ManageConnection, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// One connection type for both backends; queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs a query against the concrete connection of whichever backend `conn` holds:
/// `native!(conn, |c| query.load(c))`. The body is written once and compiled for each
/// backend. Used on the hot paths, because through `DbConn` diesel rebuilds a query's
/// SQL on every call and, on SQLite, prepares it again (measured: a user-and-tenant
/// lookup 19–40 µs through `DbConn`, 5 µs on the `SqliteConnection` itself, whose
/// statement cache keys queries by their type).
#[macro_export]
macro_rules! native {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Pg($c) => $body,
            $crate::store::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Errors of the storage layer, sorted by what the caller can do about them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (or the pool is exhausted): a 503, try later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A unique constraint refused the write.
    #[error("already exists")]
    Conflict,
    #[error("not found")]
    NotFound,
    /// A write referred to a row deleted meanwhile (a foreign key refused it): the thing
    /// asked for is gone — a client deleted during a sign-in, say. Nothing was written.
    #[error("what this refers to was deleted meanwhile")]
    Gone,
    /// Another writer held the database past the busy timeout (SQLite), or PostgreSQL
    /// broke a deadlock or a serialization conflict: nothing was written; a 503.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("database error: {0}")]
    Query(DieselError),
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Self::Conflict,
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => Self::Gone,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(kind, info) if is_contention(kind, info.message()) => {
                Self::Busy(info.message().to_owned())
            }
            other => Self::Query(other),
        }
    }
}

/// Lock contention that a retry (or a later request) can get past: SQLite's
/// `SQLITE_BUSY` after the busy timeout, PostgreSQL's serialization failure (40001)
/// and deadlock (40P01, which diesel reports only by its message).
fn is_contention(kind: DatabaseErrorKind, message: &str) -> bool {
    matches!(kind, DatabaseErrorKind::SerializationFailure)
        || message.contains("database is locked")
        || message.contains("database table is locked")
        || message.contains("deadlock detected")
}

/// Errors that can say "the database was busy": [`DbConn::write`] retries those once.
pub trait Contended: From<DieselError> {
    fn is_busy(&self) -> bool;
}

impl Contended for StoreError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Busy(_))
    }
}

impl DbConn {
    /// Runs `f` in a write transaction, committed when it returns `Ok`.
    ///
    /// On SQLite the transaction begins `IMMEDIATE`: it takes the write lock first, so
    /// concurrent writers queue on the busy timeout. A deferred transaction that reads
    /// and then writes would instead get `SQLITE_BUSY` at once when it tries to upgrade
    /// its lock (SQLite refuses to wait there, to avoid deadlock) — the 500s under load.
    /// One serialized writer would also work, but would not cover the CLI writing from
    /// another process; `IMMEDIATE` does, and keeps PostgreSQL's ordinary transactions.
    ///
    /// When the transaction fails on contention (SQLite still busy after the timeout,
    /// a PostgreSQL deadlock or serialization failure) everything was rolled back, so
    /// it runs once more. `f` must therefore act on the database only — no effect
    /// outside the transaction that a second run would repeat.
    pub fn write<T, E, F>(&mut self, mut f: F) -> Result<T, E>
    where
        E: Contended,
        F: FnMut(&mut DbConn) -> Result<T, E>,
    {
        match self.write_once(&mut f) {
            Err(err) if err.is_busy() => {
                tracing::warn!("database busy; retrying the transaction once");
                self.write_once(&mut f)
            }
            other => other,
        }
    }

    fn write_once<T, E, F>(&mut self, f: &mut F) -> Result<T, E>
    where
        E: Contended,
        F: FnMut(&mut DbConn) -> Result<T, E>,
    {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        type Manager = <DbConn as Connection>::TransactionManager;
        let outermost =
            Manager::transaction_manager_status_mut(self).transaction_depth().map_err(E::from)?.is_none();
        match self {
            DbConn::Sqlite(sqlite) if outermost => {
                AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE").map_err(E::from)?
            }
            _ => Manager::begin_transaction(self).map_err(E::from)?,
        }
        // The same commit and rollback as diesel's own `Connection::transaction`.
        match f(self) {
            Ok(value) => {
                Manager::commit_transaction(self).map_err(E::from)?;
                Ok(value)
            }
            Err(err) => match Manager::rollback_transaction(self) {
                Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(err),
                Err(rollback) => Err(rollback.into()),
            },
        }
    }
}

/// A pooled connection and when a query on it last succeeded.
pub struct Pooled {
    conn: DbConn,
    worked_at: Option<Instant>,
}

/// A connection that answered this recently is handed out without a validity check.
const RECENTLY_USED: Duration = Duration::from_secs(2);

/// diesel's r2d2 manager, with a cheaper check-out: r2d2 checks every connection it
/// hands out, and diesel's check is a `SELECT 1` round trip — 15 of the ~57 statements
/// a login sent to PostgreSQL. A connection whose last query succeeded within
/// [`RECENTLY_USED`] is handed out as it is; an idler one (where a database restart
/// would show) is still checked.
#[derive(Debug)]
/// Makes the pool's connections. It connects to the backend its URL names directly, not
/// through `DbConn::establish`: that tries each backend in turn and, when all fail, says
/// only "Invalid connection url", hiding why PostgreSQL refused (down, a wrong password, a
/// TLS certificate that does not verify).
struct Manager {
    inner: ConnectionManager<DbConn>,
    url: String,
    postgres: bool,
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        use diesel::Connection;
        let conn = if self.postgres {
            diesel::PgConnection::establish(&self.url).map(DbConn::Pg)
        } else {
            diesel::SqliteConnection::establish(&self.url).map(DbConn::Sqlite)
        };
        Ok(Pooled { conn: conn.map_err(diesel::r2d2::Error::ConnectionError)?, worked_at: None })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        if pooled.worked_at.is_some_and(|at| at.elapsed() < RECENTLY_USED) {
            return Ok(());
        }
        self.inner.is_valid(&mut pooled.conn)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        self.inner.has_broken(&mut pooled.conn)
    }
}

/// SQLite needs a few pragmas on every new connection; PostgreSQL needs none.
#[derive(Debug)]
struct ConnectionSetup;

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(sqlite) = &mut pooled.conn {
            // WAL lets readers proceed during a write; busy_timeout makes writers queue
            // instead of failing at once; foreign keys are off by default in SQLite.
            sqlite
                .batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// Makes the SQLite file (created empty when absent) and any `-wal`/`-shm` beside it
/// readable by the owner only. SQLite gives the WAL and shared-memory files the mode of
/// the database file, so creating that one 0600 first covers the others; files of an
/// older run (0644) are narrowed.
fn private_database_files(path: &std::path::Path) -> std::io::Result<()> {
    // Created here only when missing. An existing database is never opened here: closing
    // any descriptor of the file drops every POSIX lock this process holds on it (SQLite's
    // own connections' included), so a second pool made in a process whose first pool is
    // in use — a second instance in the tests — broke the first one's locking: "disk I/O
    // error" and writes of other processes not seen.
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file)
            && meta.permissions().mode() & 0o077 != 0
        {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// A cloneable handle on the connection pool.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: &'static str,
}

impl Db {
    /// Builds the pool without connecting eagerly, so that a server can start (and
    /// report "not ready") while the database is still down.
    pub fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", dir.display())))?;
        }
        if let DatabaseUrl::Sqlite(path) = url {
            private_database_files(path)
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        }
        let (backend, max_size) = match url {
            DatabaseUrl::Postgres(_) => ("postgres", 10),
            DatabaseUrl::Sqlite(_) => ("sqlite", 4),
        };
        let manager = Manager {
            inner: ConnectionManager::<DbConn>::new(url.connection_string()),
            url: url.connection_string(),
            postgres: matches!(url, DatabaseUrl::Postgres(_)),
        };
        let pool = Pool::builder()
            .max_size(max_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(5))
            .connection_customizer(Box::new(ConnectionSetup))
            .build_unchecked(manager);
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut pooled = pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let result = f(&mut pooled.conn);
            if result.is_ok() {
                pooled.worked_at = Some(Instant::now());
            }
            result
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("database task failed: {e}")))?
    }

    /// Runs `f` on the calling thread: for the CLI and start-up, never from async code.
    pub fn run_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut pooled = self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let result = f(&mut pooled.conn);
        if result.is_ok() {
            pooled.worked_at = Some(Instant::now());
        }
        result
    }

    /// Applies every pending migration of this backend; returns the versions applied.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        self.run_blocking(|conn| -> Result<_, StoreError> {
            let applied = match conn {
                DbConn::Pg(pg) => pg.run_pending_migrations(PG_MIGRATIONS),
                DbConn::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS),
            }
            .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))?;
            Ok(applied.iter().map(ToString::to_string).collect())
        })
    }

    /// A cheap round trip, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.run(|conn| -> Result<(), StoreError> {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// A fresh random identifier for a row (128 bits, URL-safe).
pub fn new_id() -> String {
    crate::random::token(16)
}
