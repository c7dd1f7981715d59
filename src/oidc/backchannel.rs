//! OpenID Connect Back-Channel Logout 1.0. When an SSO session ends — RP-initiated
//! logout, signing out on `/account` or from the device list, a password change or
//! reset, a parent disabling the user — every client that registered a
//! `backchannel_logout_uri` and got tokens in that session is sent a signed logout token
//! (`typ: logout+jwt`, with `sid` and `sub`, never a `nonce`).
//!
//! The notices are rows ([`crate::store::logouts`]): written when the client redeems its
//! code, due once the session is revoked. Each instance looks for due notices every
//! poll interval while any notice is pending (written, not yet delivered or given up),
//! every [`IDLE_EVERY`] while none is — nothing can fall due then until a client redeems
//! a code, and this instance's redemptions wake it at once ([`Notifier::waker`]) — and
//! delivers a bounded batch at a time; an attempt is claimed in the
//! database first, so two instances never send the same attempt, and one that crashed
//! mid-delivery is retried after its lease. A failed delivery is retried with growing
//! waits; the last failure is audited (`logout.backchannel_failed`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;

use crate::auth::keyring::Keyring;
use crate::clock::SharedClock;
use crate::oidc::keys::{KeyCache, KeyError, KeySet, SigningAlg};
use crate::store::audit::{self, Origin};
use crate::store::logouts::{self, Due};
use crate::store::{Db, StoreError};

/// The event a logout token carries (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token is accepted this long after it is made.
const TOKEN_TTL: i64 = 120;
/// The waits after the 1st, 2nd, … failed attempt; after the last, the notice is given up.
const RETRY_AFTER: [i64; 4] = [10, 60, 300, 1800];
/// How long an attempt holds its notice (longer than a delivery may take).
const LEASE: i64 = 60;
/// Notices delivered at once by one instance.
const BATCH: i64 = 32;
/// A client that does not answer within this is treated as failed.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Every this many rounds, notices that no longer matter are pruned.
const PRUNE_EVERY: u64 = 600;
/// How often an instance looks while no notice is pending anywhere: a notice another
/// instance wrote (and that instance delivers itself) is taken over within this if that
/// instance goes away.
pub const IDLE_EVERY: Duration = Duration::from_secs(30);

#[derive(Serialize)]
struct LogoutClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    jti: String,
    sid: &'a str,
    events: serde_json::Value,
}

/// The logout token telling `due.client_id` that session `due.session_id` ended, signed
/// with the algorithm of the client's ID tokens.
pub fn logout_token(keys: &KeySet, issuer: &str, due: &Due, now: i64) -> Result<String, KeyError> {
    let alg = SigningAlg::parse(&due.id_token_alg).unwrap_or(SigningAlg::Rs256);
    let claims = LogoutClaims {
        iss: issuer,
        sub: &due.user_id,
        aud: &due.client_id,
        iat: now,
        exp: now + TOKEN_TTL,
        jti: crate::random::token(16),
        sid: &due.session_id,
        events: json!({ EVENT: {} }),
    };
    keys.sign(alg, "logout+jwt", &claims)
}

/// What one attempt came to.
enum Attempt {
    Delivered,
    /// Worth another try (no answer, 5xx, 408, 429).
    Failed(String),
    /// The client refused the token (another 4xx): trying again would not help.
    Refused(String),
}

/// Delivers the notices of ended sessions; one per server instance.
pub struct Notifier {
    db: Db,
    keyring: Arc<Keyring>,
    keys: KeyCache,
    key_rotation_delay: i64,
    clock: SharedClock,
    issuer: String,
    /// Made at the first delivery: a server whose clients hear nothing pays no memory for it.
    http: std::sync::OnceLock<reqwest::Client>,
    every: Duration,
    ready: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
}

/// Why a round could not run.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] KeyError),
}

/// What a notifier needs from the server it runs in.
pub struct NotifierParts {
    pub db: Db,
    pub keyring: Arc<Keyring>,
    pub keys: KeyCache,
    pub key_rotation_delay: i64,
    pub clock: SharedClock,
    pub issuer: String,
    /// How often it looks for due notices.
    pub every: Duration,
    /// False while the server waits for its database: no rounds until then.
    pub ready: Arc<AtomicBool>,
    /// Woken when this instance writes a notice ([`Notifier::waker`]).
    pub wake: Arc<tokio::sync::Notify>,
}

/// What a round found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Notices it tried to deliver.
    pub tried: usize,
    /// Whether any notice is still pending (so that the next round comes soon).
    pub pending: bool,
}

impl Notifier {
    pub fn new(parts: NotifierParts) -> Self {
        let NotifierParts { db, keyring, keys, key_rotation_delay, clock, issuer, every, ready, wake } =
            parts;
        let http = std::sync::OnceLock::new();
        Self { db, keyring, keys, key_rotation_delay, clock, issuer, http, every, ready, wake }
    }

    /// A fresh wake-up handle: notified when a client with a back-channel URI redeems a
    /// code on this instance, so that a notifier idling at [`IDLE_EVERY`] polls again.
    pub fn waker() -> Arc<tokio::sync::Notify> {
        Arc::new(tokio::sync::Notify::new())
    }

    /// The HTTP client of the deliveries (no redirects followed, a timeout), made once.
    fn http(&self) -> Result<&reqwest::Client, String> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        crate::install_tls_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("Watchword/", env!("CARGO_PKG_VERSION"), " back-channel logout"))
            .build()
            .map_err(|e| format!("the HTTP client could not be made: {e}"))?;
        Ok(self.http.get_or_init(|| client))
    }

    /// Delivers due notices, for as long as the server runs: a round at once, then one
    /// every poll interval while notices are pending, every [`IDLE_EVERY`] (or when woken)
    /// while none is.
    pub async fn run(self) {
        let this = Arc::new(self);
        let mut failing = false;
        let mut idle = false;
        for round in 0_u64.. {
            if round > 0 {
                let wait = if idle { IDLE_EVERY } else { this.every };
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = this.wake.notified() => {}
                }
            }
            if !this.ready.load(Ordering::Relaxed) {
                idle = false;
                continue;
            }
            // Said once when rounds start failing (the database is down, say), and once
            // when they work again — not every poll interval.
            match this.clone().round(round % PRUNE_EVERY == 0).await {
                Err(e) => {
                    idle = false;
                    if !failing {
                        tracing::warn!(error = %e, "back-channel logout: notices wait until this works again");
                        failing = true;
                    }
                }
                Ok(done) => {
                    idle = !done.pending;
                    if failing {
                        tracing::info!("back-channel logout: delivering again");
                        failing = false;
                    }
                }
            }
        }
    }

    /// One round: the due notices (a batch), delivered concurrently.
    pub async fn round(self: Arc<Self>, prune: bool) -> Result<Round, NotifyError> {
        let now = self.clock.now();
        let (due, pending) = self
            .db
            .run(move |conn| -> Result<_, StoreError> {
                if prune {
                    logouts::prune(conn, now)?;
                }
                let due = logouts::due(conn, now, BATCH)?;
                let pending = !due.is_empty() || logouts::any_pending(conn)?;
                Ok((due, pending))
            })
            .await?;
        if due.is_empty() {
            return Ok(Round { tried: 0, pending });
        }
        let keys = self.keys.current(&self.db, &self.keyring, self.key_rotation_delay, now).await?;
        let mut deliveries = tokio::task::JoinSet::new();
        let tried = due.len();
        for notice in due {
            deliveries.spawn(self.clone().deliver(keys.clone(), notice));
        }
        while let Some(done) = deliveries.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::warn!(error = %e, "back-channel logout: a delivery could not be recorded");
            }
        }
        Ok(Round { tried, pending: true })
    }

    async fn deliver(self: Arc<Self>, keys: Arc<KeySet>, due: Due) -> Result<(), NotifyError> {
        let now = self.clock.now();
        let claimed = due.clone();
        if !self.db.run(move |conn| logouts::claim(conn, &claimed, LEASE, now)).await? {
            return Ok(()); // another instance has it
        }
        let token = logout_token(&keys, &self.issuer, &due, now)?;
        let sent = match self.http() {
            Ok(http) => http.post(&due.uri).form(&[("logout_token", token.as_str())]).send().await,
            Err(error) => {
                return self.record(due, Attempt::Failed(error)).await;
            }
        };
        let attempt = match sent {
            Ok(answer) if answer.status().is_success() => Attempt::Delivered,
            Ok(answer) => {
                let status = answer.status();
                let said = format!("answered {status}");
                if status.is_client_error() && !matches!(status.as_u16(), 408 | 429) {
                    Attempt::Refused(said)
                } else {
                    Attempt::Failed(said)
                }
            }
            Err(e) => {
                Attempt::Failed(if e.is_timeout() { "no answer in time".to_owned() } else { e.to_string() })
            }
        };
        self.record(due, attempt).await
    }

    /// Writes down what an attempt came to: delivered, to be tried again, or given up (audited).
    async fn record(&self, due: Due, attempt: Attempt) -> Result<(), NotifyError> {
        // The attempt's time, not the claim's: the delivery may have taken a while.
        let now = self.clock.now();
        self.db
            .run(move |conn| {
                conn.write(|conn| -> Result<(), StoreError> {
                    let (error, next) = match &attempt {
                        Attempt::Delivered => {
                            tracing::info!(client_id = %due.client_id, "back-channel logout delivered");
                            return logouts::delivered(conn, &due, now);
                        }
                        Attempt::Failed(error) => {
                            let wait = usize::try_from(due.attempts).ok().and_then(|n| RETRY_AFTER.get(n));
                            (error.clone(), wait.map(|w| now + w))
                        }
                        Attempt::Refused(error) => (error.clone(), None),
                    };
                    tracing::warn!(client_id = %due.client_id, %error, retry = next.is_some(), "back-channel logout failed");
                    logouts::failed(conn, &due, next, now)?;
                    if next.is_none() {
                        let detail = json!({
                            "client_id": due.client_id, "sid": due.session_id,
                            "attempts": due.attempts + 1, "error": error,
                        });
                        audit::record(
                            conn,
                            &due.tenant_id,
                            &Origin::default(),
                            Some(&due.user_id),
                            "logout.backchannel_failed",
                            detail,
                            now,
                        )?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }
}
