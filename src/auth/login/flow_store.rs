//! A login flow and its storage in the ephemeral store: saved only over the copy it was
//! read from, so that parallel requests in one sign-in never undo one another.

use serde::{Deserialize, Serialize};

use super::FLOW_TTL;
use crate::auth::credentials::Guard;
use crate::auth::errors::LoginError;
use crate::auth::flow::LoginState;
use crate::auth::gate;
use crate::auth::keyring::Keyring;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::limiter::Decision;

/// The OAuth request a login will answer (absent for a sign-in to the account page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub require_mfa: bool,
    /// The user claims its `claims` parameter asked for, as stored
    /// ([`crate::oidc::claims::Requested`]).
    #[serde(default)]
    pub claims: Option<String>,
}

/// One login in progress, stored under a random id held in a cookie.
// No Debug: it holds the flow's CSRF token. No PartialEq: two copies of one state differ
// in `loaded`.
#[derive(Clone, Serialize, Deserialize)]
pub struct Flow {
    /// The synchronizer token every form of this flow must send back.
    pub csrf: String,
    pub tenant_id: String,
    pub request: Option<AuthRequest>,
    pub login_hint: Option<String>,
    pub state: LoginState,
    /// Set when the login is done: the SSO session the authorization will use.
    #[serde(default)]
    pub session_id: Option<String>,
    /// `prompt=consent`: ask even when consent was given before.
    #[serde(default)]
    pub consent_asked: bool,
    /// For a sign-in without a client: where to go afterwards (a local path).
    #[serde(default)]
    pub return_to: Option<String>,
    /// A second factor is needed whatever the policy (admin pages).
    #[serde(default)]
    pub step_up: bool,
    /// The fingerprint of the password hash the password step checked
    /// ([`crate::auth::passwords::stamp`]): a later step that finds another one knows
    /// the password was changed or reset in between.
    #[serde(default)]
    pub password_stamp: Option<String>,
    /// What the client says about remembered devices ([`crate::auth::remembered`]).
    #[serde(default)]
    pub devices: crate::auth::remembered::Terms,
    /// What the page says the next time it is shown (post/redirect/get: a POST that did
    /// not advance leaves it, the GET that follows shows it once).
    #[serde(default)]
    pub notice: Option<Notice>,
    /// The client's `ui_locales`: the languages its user prefers for these pages.
    #[serde(default)]
    pub ui_locales: Option<String>,
    /// The recovery codes issued in this sign-in, sealed, until the user has saved them
    /// (so that a reload shows them again; gone with the flow).
    #[serde(default)]
    codes: Option<HeldCodes>,
    pub created_at: i64,
    /// Counts the saves, so that a flow's stored bytes never repeat (see [`save_flow`]).
    #[serde(default)]
    revision: u64,
    /// The bytes this copy was read from (or last written as): a save succeeds only
    /// while the store still holds them.
    #[serde(skip)]
    loaded: Vec<u8>,
}

/// A message for the next showing of a sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The page's title, for a sign-in that has ended ("Too many attempts").
    pub title: Option<String>,
    pub text: String,
    /// What was typed in the username field, typed again for the user.
    pub username: Option<String>,
}

impl Notice {
    pub fn error(text: impl Into<String>) -> Self {
        Self { title: None, text: text.into(), username: None }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
struct HeldCodes {
    key_id: String,
    sealed: Vec<u8>,
}

impl Flow {
    pub fn new(
        tenant_id: String,
        request: Option<AuthRequest>,
        login_hint: Option<String>,
        now: i64,
    ) -> Self {
        Self {
            csrf: crate::random::token(32),
            tenant_id,
            request,
            login_hint,
            state: LoginState::AwaitingPassword { failures: 0 },
            session_id: None,
            consent_asked: false,
            return_to: None,
            step_up: false,
            password_stamp: None,
            devices: crate::auth::remembered::Terms::default(),
            notice: None,
            ui_locales: None,
            codes: None,
            created_at: now,
            revision: 0,
            loaded: Vec::new(),
        }
    }

    /// Keeps `codes` (sealed under the keyring, bound to the flow's store key) until
    /// [`Flow::held_codes`] is no longer needed.
    pub fn hold_codes(&mut self, keyring: &Keyring, key: &str, codes: &[String]) {
        let sealed = keyring.seal(codes.join("\n").as_bytes(), &codes_aad(key));
        self.codes = Some(HeldCodes { key_id: sealed.key_id, sealed: sealed.bytes });
    }

    /// The codes [`Flow::hold_codes`] kept (none when they cannot be opened).
    pub fn held_codes(&self, keyring: &Keyring, key: &str) -> Vec<String> {
        let Some(held) = &self.codes else { return Vec::new() };
        let sealed = crate::auth::keyring::Sealed { key_id: held.key_id.clone(), bytes: held.sealed.clone() };
        keyring
            .open(&sealed, &codes_aad(key))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(|text| text.lines().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Forgets the codes (the user has saved them).
    pub fn drop_codes(&mut self) {
        self.codes = None;
    }

    /// What this sign-in must satisfy: multi-factor when the client or its request asks
    /// (or for a step-up), and the client's terms for remembered devices.
    pub fn demand(&self) -> gate::Demand {
        gate::Demand {
            mfa: self.step_up || self.request.as_ref().is_some_and(|r| r.require_mfa),
            devices: self.devices,
        }
    }
}

fn codes_aad(key: &str) -> Vec<u8> {
    format!("flow-codes:{key}").into_bytes()
}

fn flow_key(id: &str) -> String {
    format!("flow:{id}")
}

fn encode(flow: &Flow) -> Result<Vec<u8>, LoginError> {
    serde_json::to_vec(flow).map_err(|e| LoginError::Internal(e.to_string()))
}

/// Saves this copy of the flow for the rest of its lifetime — unless another request
/// saved (or deleted) the flow since this copy was loaded: then nothing is written and
/// the answer is false. Each request loads the flow, changes it and saves it; without
/// this check a slow request (a password being hashed) would write back an older state
/// over a newer one, and a sign-in stopped meanwhile would start again.
pub async fn save_flow(store: &Ephemeral, id: &str, flow: &mut Flow, now: i64) -> Result<bool, LoginError> {
    let remaining = (flow.created_at + FLOW_TTL - now).max(1);
    flow.revision += 1;
    let bytes = encode(flow)?;
    let saved = store
        .swap(&flow_key(id), &flow.loaded, bytes.clone(), u64::try_from(remaining).unwrap_or(1), now)
        .await?;
    if saved {
        flow.loaded = bytes;
    } else {
        flow.revision -= 1;
    }
    Ok(saved)
}

/// Makes `change` hold in the stored flow whatever other requests did meanwhile: saves
/// `flow` with `change` applied and, each time another request got there first, applies
/// it again to the flow as that request left it. `change` answers false when there is
/// nothing (more) to do — the flow has ended, say. The flow may also have expired.
/// Returns whether the stored flow now has the change.
pub async fn settle_flow(
    store: &Ephemeral,
    id: &str,
    flow: &mut Flow,
    now: i64,
    change: impl Fn(&mut Flow) -> bool,
) -> Result<bool, LoginError> {
    // Each lost race means another request saved; the flow's few steps bound them.
    for _ in 0..16 {
        if !change(flow) {
            return Ok(false);
        }
        if save_flow(store, id, flow, now).await? {
            return Ok(true);
        }
        let Some(fresh) = load_flow(store, id, now).await? else { return Ok(false) };
        *flow = fresh;
    }
    // Busy, not broken: the sign-in may be tried again (503 with Retry-After, never a 500).
    Err(LoginError::Busy("a sign-in kept changing while it was being saved".into()))
}

/// Stores a flow that has just started, under a fresh id. Every client address may
/// start `limits.flow_starts` of them per window (counted before storing), so that
/// unauthenticated requests cannot fill the store.
pub async fn create_flow(
    guard: Guard<'_>,
    id: &str,
    flow: &Flow,
    client_ip: Option<&str>,
    now: i64,
) -> Result<(), LoginError> {
    let (key, value, ttl) = (flow_key(id), encode(flow)?, u64::try_from(FLOW_TTL).unwrap_or(600));
    let Some(ip) = client_ip else { return Ok(guard.ephemeral.put_new(&key, value, ttl, now).await?) };
    // Counted and stored in one round trip; a refused start stores nothing.
    let budget = format!("attempts:flows:{ip}");
    match guard.ephemeral.put_new_within((&budget, &guard.limits.flow_starts), &key, value, ttl, now).await? {
        Decision::Refused { retry_after } => Err(LoginError::Throttled { retry_after }),
        Decision::Allowed { .. } => Ok(()),
    }
}

/// The checks one step of a flow may make (a password, a code): counted atomically
/// before each check, so parallel submissions in one sign-in — say forty passwords for
/// forty usernames — get no more than [`crate::auth::flow::MAX_FAILURES`] between them.
const FLOW_STEP: crate::ephemeral::limiter::Rule = crate::ephemeral::limiter::Rule {
    free: crate::auth::flow::MAX_FAILURES as u32 - 1,
    window: FLOW_TTL,
    base: FLOW_TTL,
    max: FLOW_TTL,
};

/// The budget of checks of step `step` (`password`, `code`) of the flow `id`: its key
/// and rule, for a caller that counts it with other budgets in one call.
pub fn flow_check_budget(id: &str, step: &str) -> (String, &'static crate::ephemeral::limiter::Rule) {
    (format!("attempts:flow:{id}:{step}"), &FLOW_STEP)
}

/// Counts one check in step `step` of the flow `id` ([`flow_check_budget`]); false when
/// the step's checks are spent (the flow is then over).
pub async fn spend_flow_check(store: &Ephemeral, id: &str, step: &str, now: i64) -> Result<bool, LoginError> {
    let (key, rule) = flow_check_budget(id, step);
    Ok(matches!(store.hit(&key, rule, now).await?, Decision::Allowed { .. }))
}

/// The flow under `id`, if it exists and has not expired.
pub async fn load_flow(store: &Ephemeral, id: &str, now: i64) -> Result<Option<Flow>, LoginError> {
    let Some(bytes) = store.get(&flow_key(id), now).await? else { return Ok(None) };
    // An unreadable flow (say, from an older version) is treated as expired.
    let Some(mut flow) =
        serde_json::from_slice::<Flow>(&bytes).ok().filter(|f| f.created_at + FLOW_TTL > now)
    else {
        return Ok(None);
    };
    flow.loaded = bytes;
    Ok(Some(flow))
}

pub async fn delete_flow(store: &Ephemeral, id: &str) -> Result<(), LoginError> {
    Ok(store.delete(&flow_key(id)).await?)
}
