//! The argon2id pool: every password hash the server computes (checks, the dummy
//! check for unknown usernames, rehashes, new users' passwords) runs here.
//!
//! argon2id is the one expensive thing a stranger can make the server do, and each
//! hash holds 19 MiB. Unbounded (one blocking thread per request) 95 concurrent wrong
//! passwords took the server to 748 MB. Here a fixed set of workers (one per core by
//! default) each reuse one memory block, behind a bounded queue: when the queue is
//! full the caller is told at once ([`HashError::Busy`]), before anything is hashed,
//! so memory is bounded by `workers × 19 MiB` whatever arrives. A worker idle for
//! [`IDLE_RELEASE`] gives its block back, so an idle server stays small.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;
use tokio::sync::oneshot;

use crate::auth::password::{self, Password, PasswordError, Verification};

/// A worker keeps its memory block this long after its last job.
pub const IDLE_RELEASE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// The queue is full: nothing was hashed; the caller answers 503 with `Retry-After`.
    #[error("password hashing is at capacity")]
    Busy,
    /// The pool has stopped (only while the server shuts down).
    #[error("password hashing has stopped")]
    Stopped,
    #[error(transparent)]
    Password(#[from] PasswordError),
}

// No Debug: jobs carry passwords.
enum Job {
    Verify {
        password: Password,
        stored: String,
        reply: oneshot::Sender<Verification>,
    },
    /// Costs what a verification costs, against a hash of a random password.
    Dummy {
        password: Password,
        reply: oneshot::Sender<()>,
    },
    Hash {
        password: Password,
        reply: oneshot::Sender<Result<String, PasswordError>>,
    },
}

/// A cloneable handle on the pool; the workers stop when the last handle is dropped.
#[derive(Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

/// The bounded queue the workers wait on. A condition variable rather than a shared
/// channel receiver: every idle worker waits (with its own timeout) at once, where with
/// a receiver behind a mutex one worker could be starved of the lock and never notice it
/// is idle (keeping its 19 MiB).
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    /// Told how long each job waited for a worker (the metrics).
    observer: OnceLock<WaitObserver>,
}

type WaitObserver = Box<dyn Fn(Duration) + Send + Sync>;

#[derive(Default)]
struct QueueState {
    /// Each job and when it was queued.
    jobs: VecDeque<(Job, Instant)>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, QueueState> {
        // A job is pushed or popped in one step: a poisoned queue is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Inner {
    queue: Arc<Queue>,
    workers: usize,
    capacity: usize,
    /// Requests refused because the queue was full, since start.
    refused: AtomicU64,
    /// How many of them were reported, and when last (Unix seconds).
    reported: AtomicU64,
    last_report: AtomicI64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.queue.lock().closed = true;
        self.queue.ready.notify_all();
    }
}

impl std::fmt::Debug for HashPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashPool")
            .field("workers", &self.inner.workers)
            .field("queue", &self.inner.capacity)
            .finish()
    }
}

/// The hash of a random password that unknown usernames are checked against, made
/// by the first worker that needs it (and at start, see [`HashPool::start`]).
static DUMMY_HASH: OnceLock<String> = OnceLock::new();

impl HashPool {
    /// Starts `workers` threads (at least one) behind a queue of `capacity` jobs.
    pub fn start(workers: usize, capacity: usize) -> Self {
        let workers = workers.max(1);
        let queue = Arc::new(Queue::default());
        for n in 0..workers {
            let queue = Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || work(&queue));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "could not start a password-hashing worker");
            }
        }
        let pool = Self {
            inner: Arc::new(Inner {
                queue,
                workers,
                capacity,
                refused: AtomicU64::new(0),
                reported: AtomicU64::new(0),
                last_report: AtomicI64::new(i64::MIN),
            }),
        };
        // Make the dummy hash now, so that the first unknown username costs no more
        // than a known one; nobody waits for the answer.
        if DUMMY_HASH.get().is_none() {
            let (reply, _) = oneshot::channel();
            let _ = pool.submit(Job::Dummy { password: dummy_password(), reply });
        }
        pool
    }

    /// One worker per core and 64 queued jobs per worker: the defaults.
    pub fn default_workers() -> usize {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }

    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// Tells `observe` how long each job waited for a worker (set once; later calls are
    /// ignored).
    pub fn observe_waits(&self, observe: impl Fn(Duration) + Send + Sync + 'static) {
        let _ = self.inner.queue.observer.set(Box::new(observe));
    }

    /// How many jobs wait for a worker now.
    pub fn queued(&self) -> usize {
        self.inner.queue.lock().jobs.len()
    }

    /// How many requests the full queue refused since start.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// The refusals not yet reported, when the last report is a minute old (so that a
    /// flood is reported once a minute, not once a request).
    pub fn report_due(&self, now: i64) -> Option<u64> {
        let last = self.inner.last_report.load(Ordering::Relaxed);
        if last != i64::MIN && now - last < 60 {
            return None;
        }
        self.inner.last_report.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).ok()?;
        let refused = self.inner.refused.load(Ordering::Relaxed);
        let before = self.inner.reported.swap(refused, Ordering::Relaxed);
        Some(refused.saturating_sub(before))
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        let mut state = self.inner.queue.lock();
        if state.closed {
            return Err(HashError::Stopped);
        }
        if state.jobs.len() >= self.inner.capacity {
            drop(state);
            self.inner.refused.fetch_add(1, Ordering::Relaxed);
            return Err(HashError::Busy);
        }
        state.jobs.push_back((job, Instant::now()));
        drop(state);
        self.inner.queue.ready.notify_one();
        Ok(())
    }

    /// Checks `password` against the PHC string `stored`.
    pub async fn verify(&self, password: Password, stored: String) -> Result<Verification, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Verify { password, stored, reply })?;
        answer.await.map_err(|_| HashError::Stopped)
    }

    /// Spends the time of one verification, for a username that does not exist.
    pub async fn verify_dummy(&self, password: Password) -> Result<(), HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Dummy { password, reply })?;
        answer.await.map_err(|_| HashError::Stopped)
    }

    /// Hashes `password` into a PHC string with a fresh salt.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Hash { password, reply })?;
        Ok(answer.await.map_err(|_| HashError::Stopped)??)
    }
}

fn dummy_password() -> Password {
    // A random 24-character token is always a valid password.
    Password::parse(crate::random::token(24)).unwrap_or_else(|_| unreachable_password())
}

#[expect(clippy::unwrap_used, reason = "a constant, valid password")]
fn unreachable_password() -> Password {
    Password::parse("x").unwrap()
}

/// A worker: takes jobs until every handle is gone, keeping one memory block while
/// busy and giving it back after [`IDLE_RELEASE`] without work.
fn work(queue: &Queue) {
    let mut memory: Option<Vec<Block>> = None;
    loop {
        let job = {
            let mut state = queue.lock();
            loop {
                if let Some((job, queued_at)) = state.jobs.pop_front() {
                    if let Some(observe) = queue.observer.get() {
                        observe(queued_at.elapsed());
                    }
                    break Some(job);
                }
                if state.closed {
                    return;
                }
                if memory.is_some() {
                    let (next, waited) =
                        queue.ready.wait_timeout(state, IDLE_RELEASE).unwrap_or_else(PoisonError::into_inner);
                    state = next;
                    if waited.timed_out() && state.jobs.is_empty() {
                        break None;
                    }
                } else {
                    state = queue.ready.wait(state).unwrap_or_else(PoisonError::into_inner);
                }
            }
        };
        match job {
            Some(job) => run(job, memory.get_or_insert_with(password::memory_block)),
            None => {
                // Idle: the block goes back, and what the burst left in glibc's arenas.
                memory = None;
                crate::memory::trim();
            }
        }
    }
}

fn run(job: Job, blocks: &mut [Block]) {
    // A caller that went away (a closed connection) is no reason to stop.
    match job {
        Job::Verify { password, stored, reply } => {
            let _ = reply.send(password::verify_with(&password, &stored, blocks));
        }
        Job::Dummy { password, reply } => {
            let stored =
                DUMMY_HASH.get_or_init(|| password::hash_with(&dummy_password(), blocks).unwrap_or_default());
            let _ = password::verify_with(&password, stored, blocks);
            let _ = reply.send(());
        }
        Job::Hash { password, reply } => {
            let _ = reply.send(password::hash_with(&password, blocks));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::parse(s).unwrap()
    }

    #[tokio::test]
    async fn hashes_and_verifies_through_the_workers() {
        let pool = HashPool::start(2, 8);
        let stored = pool.hash(pw("correct horse")).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(
            pool.verify(pw("correct horse"), stored.clone()).await.unwrap(),
            Verification::Match { rehash: false }
        );
        assert_eq!(pool.verify(pw("correct horsf"), stored).await.unwrap(), Verification::Mismatch);
        pool.verify_dummy(pw("anything")).await.unwrap();
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        // One worker and a queue of one: of many jobs submitted together, some must be
        // refused without waiting, and every accepted one is answered.
        let pool = HashPool::start(1, 1);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.hash(pw("pw")).await })
            })
            .collect();
        let mut busy = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(hash) => assert!(hash.starts_with("$argon2id$")),
                Err(HashError::Busy) => busy += 1,
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert!(busy > 0, "eight jobs against a queue of one: some must be refused");
        assert_eq!(pool.refused(), busy);
    }
}
