//! Fast shared state with a time to live: login flows, attempt counters and TOTP
//! replay marks. In-process memory is the embedded default (valid for one instance
//! only); the Redis store implements the same operations for many instances.

pub mod limiter;
pub mod memory;
pub mod redis;

pub use memory::MemoryStore;
pub use redis::RedisStore;

/// Errors of the ephemeral store. Callers fail closed on them: no decision is made.
#[derive(Debug, thiserror::Error)]
pub enum EphemeralError {
    #[error("ephemeral store unavailable: {0}")]
    Unavailable(String),
}

/// The configured store. The memory store expires entries by the caller's `now`; Redis
/// by its own clock.
#[derive(Debug, Clone)]
pub enum Ephemeral {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Ephemeral {
    /// Gives the calling server worker thread a connection of its own, where the store
    /// has connections (see [`RedisStore::bind_to_this_thread`]).
    pub fn bind_to_this_thread(&self) {
        if let Self::Redis(r) = self {
            r.bind_to_this_thread();
        }
    }

    /// Whether this store is shared between instances.
    pub fn is_shared(&self) -> bool {
        match self {
            Self::Memory(_) => false,
            Self::Redis(_) => true,
        }
    }

    pub async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<(), EphemeralError> {
        match self {
            Self::Memory(m) => {
                m.put(key, value, ttl_secs, now);
                Ok(())
            }
            Self::Redis(r) => r.put(key, value, ttl_secs).await,
        }
    }

    /// Stores a new entry under a fresh key. In memory such entries are capped (the
    /// oldest is evicted); Redis bounds them by TTL and its own `maxmemory`.
    pub async fn put_new(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<(), EphemeralError> {
        match self {
            Self::Memory(m) => {
                m.put_new(key, value, ttl_secs, now);
                Ok(())
            }
            Self::Redis(r) => r.put_new(key, value, ttl_secs, now).await,
        }
    }

    /// Counts an attempt against `budget` and, only when it is allowed, stores a new
    /// entry as [`Ephemeral::put_new`] does: atomically, in one round trip.
    pub async fn put_new_within(
        &self,
        budget: (&str, &limiter::Rule),
        key: &str,
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<limiter::Decision, EphemeralError> {
        let decision = match self {
            Self::Memory(m) => m.put_new_within(budget, key, value, ttl_secs, now),
            Self::Redis(r) => r.put_new_within(budget, key, value, ttl_secs, now).await?,
        };
        match decision {
            Some(decision @ limiter::Decision::Refused { .. }) => {
                self.refusals().count(budget.0);
                Ok(decision)
            }
            Some(decision) => Ok(decision),
            None => Err(EphemeralError::Unavailable("the limiter answered nothing".into())),
        }
    }

    /// How many entries made by [`Ephemeral::put_new`] — sign-in flows — are live.
    pub async fn live_new(&self, now: i64) -> Result<usize, EphemeralError> {
        match self {
            Self::Memory(m) => Ok(m.live_new(now)),
            Self::Redis(r) => r.live_new(now).await,
        }
    }

    /// What the limiter refused since start, by kind of budget (this instance's count).
    pub fn refusals(&self) -> &limiter::Refusals {
        match self {
            Self::Memory(m) => m.refusals(),
            Self::Redis(r) => r.refusals(),
        }
    }

    /// Compare-and-set: replaces `key`'s value only while it is still `expected` (so
    /// that a read-modify-write cannot overwrite another's write); false when it was not.
    pub async fn swap(
        &self,
        key: &str,
        expected: &[u8],
        value: Vec<u8>,
        ttl_secs: u64,
        now: i64,
    ) -> Result<bool, EphemeralError> {
        match self {
            Self::Memory(m) => Ok(m.swap(key, expected, value, ttl_secs, now)),
            Self::Redis(r) => r.swap(key, expected, value, ttl_secs).await,
        }
    }

    pub async fn get(&self, key: &str, now: i64) -> Result<Option<Vec<u8>>, EphemeralError> {
        match self {
            Self::Memory(m) => Ok(m.get(key, now)),
            Self::Redis(r) => r.get(key).await,
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), EphemeralError> {
        match self {
            Self::Memory(m) => {
                m.delete(key);
                Ok(())
            }
            Self::Redis(r) => r.delete(key).await,
        }
    }

    /// Sets `key` only when absent: true when this caller claimed it.
    pub async fn claim(&self, key: &str, ttl_secs: u64, now: i64) -> Result<bool, EphemeralError> {
        match self {
            Self::Memory(m) => Ok(m.claim(key, ttl_secs, now)),
            Self::Redis(r) => r.claim(key, ttl_secs).await,
        }
    }

    /// Counts an attempt against `key` and decides, atomically (see [`limiter`]).
    pub async fn hit(
        &self,
        key: &str,
        rule: &limiter::Rule,
        now: i64,
    ) -> Result<limiter::Decision, EphemeralError> {
        let decisions = self.hit_each(&[(key, rule)], now).await?;
        decisions
            .first()
            .copied()
            .ok_or_else(|| EphemeralError::Unavailable("the limiter answered nothing".into()))
    }

    /// Counts an attempt against each budget in turn, each atomically, in one round
    /// trip; stops at the first that refuses, so the later ones are not counted. The
    /// decisions made, a refusal last if there was one.
    pub async fn hit_each(
        &self,
        budgets: &[(&str, &limiter::Rule)],
        now: i64,
    ) -> Result<Vec<limiter::Decision>, EphemeralError> {
        let decisions = match self {
            Self::Memory(m) => m.hit_each(budgets, now),
            Self::Redis(r) => r.hit_each(budgets, now).await?,
        };
        // One decision per budget, or fewer ending with the refusal that stopped the count.
        let refused = matches!(decisions.last(), Some(limiter::Decision::Refused { .. }));
        match budgets.get(decisions.len().wrapping_sub(1)) {
            Some((key, _)) if refused => self.refusals().count(key),
            Some(_) if decisions.len() == budgets.len() => {}
            None if budgets.is_empty() => {}
            _ => {
                let mismatch = "the limiter's answer does not match the budgets";
                return Err(EphemeralError::Unavailable(mismatch.into()));
            }
        }
        Ok(decisions)
    }

    /// Takes back one counted attempt (a success that should not spend a budget).
    pub async fn forgive(&self, key: &str, rule: &limiter::Rule, now: i64) -> Result<(), EphemeralError> {
        self.release(&[(key, Some(rule))], now).await
    }

    /// Settles budgets after a success, in one round trip: each is cleared (`None`) or
    /// given its attempt back (`Some(rule)`).
    pub async fn release(
        &self,
        budgets: &[(&str, Option<&limiter::Rule>)],
        now: i64,
    ) -> Result<(), EphemeralError> {
        match self {
            Self::Memory(m) => {
                m.release(budgets, now);
                Ok(())
            }
            Self::Redis(r) => r.release(budgets).await,
        }
    }

    /// Reachability, for `/readyz`.
    pub async fn ping(&self) -> Result<(), EphemeralError> {
        match self {
            Self::Memory(_) => Ok(()),
            Self::Redis(r) => r.ping().await,
        }
    }
}
