//! The Redis store: every key under a configurable prefix and with a TTL, every call
//! bounded by a timeout so that a hung Redis cannot hang a request. The connection
//! manager reconnects by itself when Redis comes back.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::EphemeralError;

/// No single Redis call may take longer than this.
const CALL_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish()
    }
}

fn unavailable(err: impl std::fmt::Display) -> EphemeralError {
    EphemeralError::Unavailable(err.to_string())
}

impl RedisStore {
    /// Prepares a lazily connecting store; it must be called inside a tokio runtime.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, EphemeralError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(CALL_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_lazy_with_config(client, config).map_err(unavailable)?;
        Ok(Self { conn, prefix: prefix.to_owned() })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, EphemeralError> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(CALL_TIMEOUT, cmd.query_async::<T>(&mut conn)).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(unavailable("redis call timed out")),
        }
    }

    pub async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) -> Result<(), EphemeralError> {
        let cmd = redis::cmd("SET").arg(self.key(key)).arg(value).arg("EX").arg(ttl_secs.max(1)).clone();
        self.query::<()>(&cmd).await
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        self.query(redis::cmd("GET").arg(self.key(key))).await
    }

    pub async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        self.query::<i64>(redis::cmd("DEL").arg(self.key(key))).await.map(|_| ())
    }

    /// `SET NX EX`: exactly one caller across all instances gets `true`.
    pub async fn claim(&self, key: &str, ttl_secs: u64) -> Result<bool, EphemeralError> {
        let cmd =
            redis::cmd("SET").arg(self.key(key)).arg(1).arg("NX").arg("EX").arg(ttl_secs.max(1)).clone();
        let reply: Option<String> = self.query(&cmd).await?;
        Ok(reply.is_some())
    }

    pub async fn ping(&self) -> Result<(), EphemeralError> {
        self.query::<String>(&redis::cmd("PING")).await.map(|_| ())
    }
}
