//! The Redis store: every key under a configurable prefix and with a TTL, every call
//! bounded by a timeout so that a hung Redis cannot hang a request. The connection
//! manager reconnects by itself when Redis comes back.
//!
//! A connection is driven by a task on the runtime that first used it, and a call from
//! another thread hops there and back (two wake-ups, two context switches). Each server
//! worker thread therefore gets its own connection ([`RedisStore::bind_to_this_thread`]);
//! any other caller shares one.

use std::cell::RefCell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::EphemeralError;

/// No single Redis call may take longer than this.
const CALL_TIMEOUT: Duration = Duration::from_millis(1500);

#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    conn: ConnectionManager,
    /// Tells this store's per-thread connections from another store's.
    id: u64,
    prefix: String,
    refusals: std::sync::Arc<super::limiter::Refusals>,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish()
    }
}

/// The sorted set of live new entries (sign-in flows), scored by their expiry.
const LIVE_NEW: &str = "live-new";

thread_local! {
    /// The connections bound to this thread, by store.
    static THREAD_CONNECTIONS: RefCell<Vec<(u64, ConnectionManager)>> = const { RefCell::new(Vec::new()) };
}

/// A connection that connects on first use and reconnects by itself.
fn lazy_connection(client: &redis::Client) -> Result<ConnectionManager, EphemeralError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(CALL_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500));
    ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(unavailable)
}

fn unavailable(err: impl std::fmt::Display) -> EphemeralError {
    EphemeralError::Unavailable(err.to_string())
}

impl RedisStore {
    /// Prepares a lazily connecting store; it must be called inside a tokio runtime.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, EphemeralError> {
        static STORES: AtomicU64 = AtomicU64::new(0);
        let client = redis::Client::open(url).map_err(unavailable)?;
        let conn = lazy_connection(&client)?;
        Ok(Self {
            client,
            conn,
            id: STORES.fetch_add(1, Ordering::Relaxed),
            prefix: prefix.to_owned(),
            refusals: std::sync::Arc::default(),
        })
    }

    /// Gives the calling thread a connection of its own, driven by this thread's runtime,
    /// so that its calls need no other thread. For threads that live as long as their
    /// runtime (server workers); must be called inside that runtime.
    pub fn bind_to_this_thread(&self) {
        match lazy_connection(&self.client) {
            Ok(conn) => THREAD_CONNECTIONS.with_borrow_mut(|bound| {
                bound.retain(|(id, _)| *id != self.id);
                bound.push((self.id, conn));
            }),
            Err(err) => tracing::warn!(error = %err, "no redis connection of this thread's own"),
        }
    }

    /// This thread's own connection, or the shared one.
    fn connection(&self) -> ConnectionManager {
        THREAD_CONNECTIONS
            .with_borrow(|bound| bound.iter().find(|(id, _)| *id == self.id).map(|(_, c)| c.clone()))
            .unwrap_or_else(|| self.conn.clone())
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, EphemeralError> {
        self.call(|mut conn| async move { cmd.query_async::<T>(&mut conn).await }).await
    }

    /// Runs one call with the timeout. A call that failed because the connection was
    /// broken (Redis restarted, an idle connection cut) runs once more on the fresh
    /// connection the manager makes: without that the first request after a restart
    /// failed. A timeout is not retried (Redis is down or hung: fail closed at once).
    /// Retrying is safe for every call here: a `SET NX` or a counted attempt that did
    /// land the first time only makes the answer stricter (a replay refused, one more
    /// attempt counted, a compare-and-set answered "changed meanwhile" — its caller then
    /// reloads, see `login::settle_flow`).
    async fn call<T, F, Fut>(&self, mut call: F) -> Result<T, EphemeralError>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(CALL_TIMEOUT, call(self.connection())).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(err))
                if err.is_io_error() || err.is_connection_dropped() || err.is_connection_refusal() =>
            {
                tracing::info!(error = %err, "redis connection broken; retrying once on a fresh one");
            }
            Ok(Err(err)) => return Err(unavailable(err)),
            Err(_) => return Err(unavailable("redis call timed out")),
        }
        match tokio::time::timeout(CALL_TIMEOUT, call(self.connection())).await {
            Ok(result) => result.map_err(unavailable),
            Err(_) => Err(unavailable("redis call timed out")),
        }
    }

    pub async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) -> Result<(), EphemeralError> {
        let cmd = redis::cmd("SET").arg(self.key(key)).arg(value).arg("EX").arg(ttl_secs.max(1)).clone();
        self.query::<()>(&cmd).await
    }

    /// What the limiter refused, by kind of budget (counted by this instance).
    pub fn refusals(&self) -> &super::limiter::Refusals {
        &self.refusals
    }

    /// As [`RedisStore::put`], and listed (until `now + ttl`) among the live new
    /// entries, sign-in flows, that [`RedisStore::live_new`] counts.
    pub async fn put_new(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<(), EphemeralError> {
        let (ttl, until) = lifetime(ttl_secs, now);
        let mut pipe = redis::pipe();
        pipe.cmd("SET").arg(self.key(key)).arg(value).arg("EX").arg(ttl).ignore();
        // Listed, and the list kept to the live ones (whether or not anyone scrapes the
        // metrics), living as long as its newest entry.
        pipe.cmd("ZREMRANGEBYSCORE").arg(self.key(LIVE_NEW)).arg("-inf").arg(now).ignore();
        pipe.cmd("ZADD").arg(self.key(LIVE_NEW)).arg(until).arg(key).ignore();
        // (Flows share one lifetime, so the newest one's is the longest.)
        pipe.cmd("EXPIRE").arg(self.key(LIVE_NEW)).arg(ttl).ignore();
        let pipe = &pipe;
        self.call(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await
    }

    /// How many live new entries (sign-in flows) all instances hold at `now`.
    pub async fn live_new(&self, now: i64) -> Result<usize, EphemeralError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZREMRANGEBYSCORE").arg(self.key(LIVE_NEW)).arg("-inf").arg(now).ignore();
        pipe.cmd("ZCARD").arg(self.key(LIVE_NEW));
        let pipe = &pipe;
        let (count,): (usize,) =
            self.call(|mut conn| async move { pipe.query_async(&mut conn).await }).await?;
        Ok(count)
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, EphemeralError> {
        self.query(redis::cmd("GET").arg(self.key(key))).await
    }

    pub async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        let mut pipe = redis::pipe();
        pipe.cmd("DEL").arg(self.key(key)).ignore();
        pipe.cmd("ZREM").arg(self.key(LIVE_NEW)).arg(key).ignore();
        let pipe = &pipe;
        self.call(|mut conn| async move { pipe.query_async::<()>(&mut conn).await }).await
    }

    /// `SET NX EX`: exactly one caller across all instances gets `true`.
    pub async fn claim(&self, key: &str, ttl_secs: u64) -> Result<bool, EphemeralError> {
        let cmd =
            redis::cmd("SET").arg(self.key(key)).arg(1).arg("NX").arg("EX").arg(ttl_secs.max(1)).clone();
        let reply: Option<String> = self.query(&cmd).await?;
        Ok(reply.is_some())
    }

    /// Readiness: a write with a TTL, not only a `PING` — a Redis that refuses writes
    /// (`maxmemory` reached, a read-only replica) answers `PING` but cannot keep a
    /// flow or count an attempt.
    pub async fn ping(&self) -> Result<(), EphemeralError> {
        let cmd = redis::cmd("SET").arg(self.key("readyz")).arg(1).arg("EX").arg(10).clone();
        self.query::<()>(&cmd).await
    }
}

/// The limiter step of [`super::limiter::step`] in Lua, for the scripts below (each
/// atomic in Redis): `step` counts one attempt against `key` (a hash {c, s, b}) and
/// answers allowed (1 or 0), blocked until (or, refused, retry after), and the count.
macro_rules! lua_limit_step {
    () => {
        r#"
local function step(key, now, free, window, base, max)
  local c = tonumber(redis.call('HGET', key, 'c') or '0')
  local s = tonumber(redis.call('HGET', key, 's') or tostring(now))
  local b = tonumber(redis.call('HGET', key, 'b') or '0')
  if b > now then return 0, b - now, c end
  if now >= s + window then c = 0; s = now; b = 0 end
  c = c + 1
  if c > free then
    local block = base * (2 ^ math.min(c - free - 1, 40))
    if block > max then block = max end
    b = now + block
  else
    b = 0
  end
  redis.call('HSET', key, 'c', c, 's', s, 'b', b)
  local keep = math.max(s + window, b) - now
  if keep < 1 then keep = 1 end
  redis.call('EXPIRE', key, keep)
  return 1, b, c
end
"#
    };
}

/// Each of KEYS in turn until one refuses; ARGV now, then free, window, base, max for
/// each key. Answers {allowed, blocked until or retry after, count} for each key it reached.
const HIT_EACH: &str = concat!(
    lua_limit_step!(),
    r#"
local now = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local at = 2 + (i - 1) * 4
  local allowed, x, c = step(key, now, tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3]))
  table.insert(out, allowed); table.insert(out, x); table.insert(out, c)
  if allowed == 0 then return out end
end
return out
"#
);

/// An attempt counted against KEYS[1] (ARGV now, free, window, base, max) and, when it
/// is allowed, a new entry: KEYS[2] takes ARGV[6] for ARGV[7] seconds and is listed in
/// KEYS[3] as ARGV[9] until ARGV[8]. Answers as one key of [`HIT_EACH`].
const PUT_NEW_WITHIN: &str = concat!(
    lua_limit_step!(),
    r#"
local now = tonumber(ARGV[1])
local allowed, x, c = step(KEYS[1], now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
if allowed == 0 then return {0, x, c} end
redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], ARGV[8], ARGV[9])
redis.call('EXPIRE', KEYS[3], ARGV[7])
return {1, x, c}
"#
);

/// Settles budgets after a success: each of KEYS is deleted (ARGV -1) or given one
/// attempt back (ARGV its free attempts; the block ends once the count is within them).
const RELEASE: &str = r#"
for i, key in ipairs(KEYS) do
  local free = tonumber(ARGV[i])
  if free < 0 then
    redis.call('DEL', key)
  elseif redis.call('EXISTS', key) == 1 then
    local c = tonumber(redis.call('HGET', key, 'c') or '0')
    if c > 0 then c = c - 1 end
    redis.call('HSET', key, 'c', c)
    if c <= free then redis.call('HSET', key, 'b', 0) end
  end
end
return 0
"#;

/// Compare-and-set: KEYS[1] takes ARGV[2] (for ARGV[3] seconds) only while it holds
/// exactly ARGV[1].
const SWAP: &str = r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"#;

// Each script hashed once: redis-rs sends EVALSHA (and the script itself once, after a
// NOSCRIPT from a Redis that restarted or flushed its script cache).
static SWAP_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(SWAP));
static HIT_EACH_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(HIT_EACH));
static PUT_NEW_WITHIN_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(PUT_NEW_WITHIN));
static RELEASE_SCRIPT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(RELEASE));

/// A new entry's time to live (at least a second) and the time it ends.
fn lifetime(ttl_secs: u64, now: i64) -> (u64, i64) {
    let ttl = ttl_secs.max(1);
    (ttl, now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX)))
}

impl RedisStore {
    /// Replaces `key`'s value only while it is still `expected` (see [`SWAP`]).
    pub async fn swap(
        &self,
        key: &str,
        expected: &[u8],
        value: Vec<u8>,
        ttl_secs: u64,
    ) -> Result<bool, EphemeralError> {
        let mut invocation = SWAP_SCRIPT.key(self.key(key));
        invocation.arg(expected).arg(value).arg(ttl_secs.max(1));
        let invocation = &invocation;
        let swapped: i64 =
            self.call(|mut conn| async move { invocation.invoke_async(&mut conn).await }).await?;
        Ok(swapped == 1)
    }

    pub async fn hit_each(
        &self,
        budgets: &[(&str, &super::limiter::Rule)],
        now: i64,
    ) -> Result<Vec<super::limiter::Decision>, EphemeralError> {
        let mut invocation = HIT_EACH_SCRIPT.prepare_invoke();
        invocation.arg(now);
        for (key, rule) in budgets {
            invocation.key(self.key(key)).arg(rule.free).arg(rule.window).arg(rule.base).arg(rule.max);
        }
        let invocation = &invocation;
        let reply: Vec<i64> =
            self.call(|mut conn| async move { invocation.invoke_async(&mut conn).await }).await?;
        Ok(decisions(&reply))
    }

    /// As [`RedisStore::put_new`], only when an attempt counted against `budget` is
    /// allowed: both in one atomic call (see [`PUT_NEW_WITHIN`]).
    pub async fn put_new_within(
        &self,
        budget: (&str, &super::limiter::Rule),
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<Option<super::limiter::Decision>, EphemeralError> {
        let (budget_key, rule) = budget;
        let (ttl, until) = lifetime(ttl_secs, now);
        let mut invocation = PUT_NEW_WITHIN_SCRIPT.prepare_invoke();
        invocation.key(self.key(budget_key)).key(self.key(key)).key(self.key(LIVE_NEW));
        invocation.arg(now).arg(rule.free).arg(rule.window).arg(rule.base).arg(rule.max);
        invocation.arg(value).arg(ttl).arg(until).arg(key);
        let invocation = &invocation;
        let reply: Vec<i64> =
            self.call(|mut conn| async move { invocation.invoke_async(&mut conn).await }).await?;
        Ok(decisions(&reply).into_iter().next())
    }

    /// Each budget deleted (`None`) or given an attempt back (`Some(rule)`), in one call.
    pub async fn release(
        &self,
        budgets: &[(&str, Option<&super::limiter::Rule>)],
    ) -> Result<(), EphemeralError> {
        let mut invocation = RELEASE_SCRIPT.prepare_invoke();
        for (key, rule) in budgets {
            invocation.key(self.key(key)).arg(rule.map_or(-1, |r| i64::from(r.free)));
        }
        let invocation = &invocation;
        self.call(|mut conn| async move { invocation.invoke_async::<i64>(&mut conn).await }).await.map(|_| ())
    }
}

/// The limiter scripts' answers, three numbers per key reached.
fn decisions(reply: &[i64]) -> Vec<super::limiter::Decision> {
    reply
        .chunks_exact(3)
        .filter_map(|answer| match *answer {
            [1, blocked_until, count] => Some(super::limiter::Decision::Allowed {
                count: u32::try_from(count).unwrap_or(u32::MAX),
                blocked_until,
            }),
            [_, retry_after, _] => Some(super::limiter::Decision::Refused { retry_after }),
            _ => None,
        })
        .collect()
}
