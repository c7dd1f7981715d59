//! The I/O around the login state machine: flows in the ephemeral store, the password
//! step, and finishing a login (SSO session + authorization code, in one transaction).

use serde::{Deserialize, Serialize};

use crate::auth::credentials::Guard;
use crate::auth::errors::LoginError;
use crate::auth::flow::{Amr, LoginState, PasswordCheck};
use crate::auth::gate;
use crate::auth::keyring::Keyring;
use crate::auth::password::{Password, Verification};
use crate::auth::random::secret_hash;
use crate::auth::remembered;
use crate::ephemeral::Ephemeral;
use crate::ephemeral::limiter::{Decision, Rule};
use crate::store::audit::{self, Origin};
use crate::store::sessions::{self, Session};
use crate::store::{Db, StoreError, users};
use crate::tenancy::policy::{self, LoginFacts};

/// A login flow lives this long after it starts.
pub const FLOW_TTL: i64 = 600;
/// An authorization code must be redeemed within this many seconds.
pub const CODE_TTL: i64 = 60;
/// An SSO session lasts this long.
pub const SESSION_TTL: i64 = 12 * 3600;

pub const ACR_SINGLE_FACTOR: &str = "urn:watchword:acr:single-factor";
pub const ACR_MULTI_FACTOR: &str = "urn:watchword:acr:multi-factor";

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
            csrf: crate::auth::random::token(32),
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
    if let Some(ip) = client_ip
        && let Decision::Refused { retry_after } =
            guard.ephemeral.hit(&format!("attempts:flows:{ip}"), &guard.limits.flow_starts, now).await?
    {
        return Err(LoginError::Throttled { retry_after });
    }
    guard
        .ephemeral
        .put_new(&flow_key(id), encode(flow)?, u64::try_from(FLOW_TTL).unwrap_or(600), now)
        .await?;
    Ok(())
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

/// Counts one check in step `step` (`password`, `code`) of the flow `id`; false when
/// the step's checks are spent (the flow is then over).
pub async fn spend_flow_check(store: &Ephemeral, id: &str, step: &str, now: i64) -> Result<bool, LoginError> {
    Ok(matches!(
        store.hit(&format!("attempts:flow:{id}:{step}"), &FLOW_STEP, now).await?,
        Decision::Allowed { .. }
    ))
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

/// Checks a username and password in `tenant_id` and decides, by policy, what comes
/// next. Unknown users cost one dummy hash, so timing does not tell them apart. No
/// database connection is held while hashing: the hash runs on the bounded pool.
async fn check_password_inner(
    guard: Guard<'_>,
    flow: &Flow,
    attempt: Attempt,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<Checked, LoginError> {
    let Attempt { username, password, origin, remembered, .. } = attempt;
    let tenant_id = flow.tenant_id.clone();
    let demand = flow.demand();
    let client_requires_mfa = demand.mfa;
    let key = username.trim().to_lowercase();
    let user = if key.is_empty() {
        None
    } else {
        let tenant_id = tenant_id.clone();
        guard.db.run(move |conn| users::find_by_username_key(conn, &tenant_id, &key)).await?
    };
    let password = Password::parse(password).ok();
    let verification = match (&user, &password) {
        (Some(user), Some(password)) => {
            guard.hasher.verify(password.clone(), user.password_hash.clone()).await?
        }
        (None, Some(password)) => {
            guard.hasher.verify_dummy(password.clone()).await?;
            Verification::Mismatch
        }
        (_, None) => Verification::Mismatch,
    };
    // A stored hash with older parameters is replaced now, when the pool has room (not
    // for a disabled user, who is refused below anyway).
    let enabled = user.as_ref().is_some_and(|u| !u.disabled);
    let new_hash = match (&verification, password) {
        (Verification::Match { rehash: true }, Some(password)) if enabled => {
            guard.hasher.hash(password).await.ok()
        }
        _ => None,
    };
    guard
        .db
        .run(move |conn| {
            let user = match (user, verification) {
                (Some(user), Verification::Match { .. }) if !user.disabled => {
                    if let Some(hash) = &new_hash {
                        users::set_password_hash(conn, &user.id, hash, now)?;
                    }
                    user
                }
                (user, _) => {
                    let target = user.as_ref().map(|u| u.id.as_str());
                    let reason = if user.is_some() { "wrong_password_or_disabled" } else { "unknown_user" };
                    audit::record(
                        conn,
                        &tenant_id,
                        &origin,
                        target,
                        "password.failed",
                        serde_json::json!({ "reason": reason }),
                        now,
                    )?;
                    return Ok(Checked { check: PasswordCheck::Wrong, stamp: None });
                }
            };
            // Tenant and "has an active credential" in the gate's one query (was two).
            let standing = gate::load(conn, &user.id)?.ok_or(StoreError::NotFound)?;
            let has_active_totp = standing.has_active_totp;
            let facts = LoginFacts::of(&user, &standing.tenant, totp_globally_enabled, client_requires_mfa);
            // A remembered browser may stand in for the code (never after a temporary password).
            let may_skip = has_active_totp
                && !user.password_temporary
                && standing.tenant.remember_device_days.is_some()
                && demand.devices.allow(demand.mfa);
            let device = match remembered.as_deref() {
                Some(token) if may_skip => {
                    remembered::recognise(conn, token, &tenant_id, &user.id, &demand.devices, now)?
                }
                _ => None,
            };
            let detail = match &device {
                Some(device) => serde_json::json!({ "remembered_device": device.id }),
                None => serde_json::json!({}),
            };
            audit::record(conn, &tenant_id, &origin, Some(&user.id), "password.ok", detail, now)?;
            // A rehash above keeps the password: the stamp is of the hash now stored.
            let stored = new_hash.as_deref().unwrap_or(&user.password_hash);
            Ok(Checked {
                stamp: Some(crate::auth::passwords::stamp(stored)),
                check: PasswordCheck::Right {
                    user_id: user.id.clone(),
                    has_active_totp,
                    requirement: policy::resolve(&facts),
                    temporary: user.password_temporary,
                    remembered: device.is_some(),
                },
            })
        })
        .await
}

/// The password step's result, and the fingerprint of the hash it checked.
pub struct Checked {
    pub check: PasswordCheck,
    pub stamp: Option<String>,
}

/// One submitted sign-in form.
// No Debug: it holds a secret that must never reach a log.
pub struct Attempt {
    pub username: String,
    pub password: String,
    pub origin: Origin,
    /// The browser's device cookie, when it names this user ([`crate::auth::devices`]).
    pub device: Option<crate::auth::devices::Device>,
    /// The browser's remember-this-device token, if it sent one ([`remembered`]).
    pub remembered: Option<String>,
}

/// The budgets one password attempt is counted against: a known browser's own, or —
/// for an unknown one — its address's, the (username, address) pair's and the
/// username's across addresses. The first is the one whose count tells when delays start.
fn budgets<'a>(
    guard: &Guard<'a>,
    tenant_id: &str,
    attempt: &Attempt,
) -> Vec<(String, &'a crate::ephemeral::limiter::Rule)> {
    let user = attempt.username.trim().to_lowercase();
    match (&attempt.device, &attempt.origin.ip) {
        (Some(device), _) => vec![(format!("attempts:pw:dev:{}", device.id), &guard.limits.password_device)],
        (None, Some(ip)) => vec![
            // The address comes first (it cannot hold '|'), so the key is unambiguous.
            (format!("attempts:pwip:{tenant_id}:{ip}|{user}"), &guard.limits.password_user_ip),
            (format!("attempts:ip:{ip}"), &guard.limits.password_ip),
            (format!("attempts:pw:{tenant_id}:{user}"), &guard.limits.password_user),
        ],
        (None, None) => vec![(format!("attempts:pw:{tenant_id}:{user}"), &guard.limits.password_user)],
    }
}

/// Checks a username and password with the attempt limits: per (tenant, username) —
/// known or not, so throttling tells nothing — and per client IP, both counted before
/// the check. A success clears the username's count and gives the IP its attempt back.
pub async fn check_password(
    guard: Guard<'_>,
    flow: &Flow,
    attempt: Attempt,
    totp_globally_enabled: bool,
    now: i64,
) -> Result<Checked, LoginError> {
    let budgets = budgets(&guard, &flow.tenant_id, &attempt);
    let counted: Vec<(&str, &Rule)> = budgets.iter().map(|(key, rule)| (key.as_str(), *rule)).collect();
    let mut started = false;
    for (n, decision) in guard.ephemeral.hit_each(&counted, now).await?.into_iter().enumerate() {
        match decision {
            Decision::Refused { retry_after } => return Err(LoginError::Throttled { retry_after }),
            Decision::Allowed { count, .. } => started |= n == 0 && count == counted[0].1.free + 1,
        }
    }
    let (origin, tenant_id) = (attempt.origin.clone(), flow.tenant_id.clone());
    let result = check_password_inner(guard, flow, attempt, totp_globally_enabled, now).await;
    if let (Err(LoginError::Overloaded { .. }), Some(refused)) = (&result, guard.hasher.report_due(now)) {
        // At most one audit line a minute per instance: a flood must not become a write flood.
        tracing::warn!(refused, "password hashing at capacity: sign-ins refused with 503");
        let (origin, tenant_id) = (origin.clone(), tenant_id.clone());
        let detail = serde_json::json!({ "refused_since_last_report": refused });
        guard
            .db
            .run(move |conn| {
                audit::record(conn, &tenant_id, &origin, None, "password.hashing_overloaded", detail, now)
            })
            .await?;
    }
    let checked = result?;
    match &checked.check {
        PasswordCheck::Right { .. } => {
            // A success clears the counts and gives the address its attempt back.
            let settled: Vec<(&str, Option<&Rule>)> = counted
                .iter()
                .map(|&(key, rule)| (key, key.starts_with("attempts:ip:").then_some(rule)))
                .collect();
            guard.ephemeral.release(&settled, now).await?;
        }
        PasswordCheck::Wrong if started => {
            // The first delayed attempt: worth an audit line (no username: it may be a typo'd password).
            let detail =
                serde_json::json!({ "free_attempts": budgets.first().map_or(0, |(_, rule)| rule.free) });
            guard
                .db
                .run(move |conn| {
                    audit::record(conn, &tenant_id, &origin, None, "password.throttled", detail, now)
                })
                .await?;
        }
        PasswordCheck::Wrong => {}
    }
    Ok(checked)
}

/// A finished login: the new SSO session and the cookie value that names it.
// No Debug: it holds a secret that must never reach a log.
pub struct Completed {
    pub session_token: String,
    pub session_id: String,
    /// The remember-this-device token for the browser's cookie, and its days.
    pub remembered: Option<(String, i32)>,
    /// What the caller's `then` made in the same transaction (an authorization code).
    pub code: Option<String>,
}

/// What [`complete`]'s transaction made besides the session.
struct Admitted {
    remembered: Option<(String, i32)>,
    code: Option<String>,
}

/// The browser a sign-in finishes in, as the session (and a remembered device) records it.
pub struct Browser {
    /// From its User-Agent ([`remembered::label_of`]).
    pub label: String,
    pub origin: Origin,
}

/// What finishing a login asks of the gate.
pub struct Finishing {
    pub user_id: String,
    pub amr: Amr,
    pub auth_time: i64,
    pub demand: gate::Demand,
    /// The fingerprint of the password hash the flow checked (none for a step-up, whose
    /// session proved the password): a password changed since ends the sign-in.
    pub password_stamp: Option<String>,
    pub browser: Browser,
    /// "Don't ask for a code on this device" (honoured only after a TOTP code, when the
    /// tenant allows).
    pub remember: bool,
}

/// Creates the SSO session of a finished login (and records the login time) — if the
/// gate admits the user as it is now; `Ok(None)` when it does not. `then` runs in the
/// same transaction with the user's and the new session's ids: the authorization the
/// login answers issues its code there (one trip, one commit), unless it must ask first.
pub async fn complete<F>(
    db: &Db,
    finishing: Finishing,
    totp_globally_enabled: bool,
    now: i64,
    then: F,
) -> Result<Option<Completed>, LoginError>
where
    F: Fn(&mut crate::store::DbConn, &str, &str) -> Result<Option<String>, LoginError> + Send + 'static,
{
    let Finishing { user_id, amr, auth_time, demand, password_stamp, browser, remember } = finishing;
    let session_token = crate::auth::random::token(32);
    let session = Session {
        id: secret_hash(&session_token),
        user_id: user_id.clone(),
        amr: amr.to_stored(),
        acr: if amr.is_multi_factor() { ACR_MULTI_FACTOR } else { ACR_SINGLE_FACTOR }.to_owned(),
        auth_time,
        created_at: now,
        expires_at: now + SESSION_TTL,
        revoked_at: None,
        label: browser.label.clone(),
        ip: browser.origin.ip.clone(),
        last_seen_at: Some(now),
    };
    let session_id = session.id.clone();
    let admitted = db
        .run(move |conn| {
            conn.write(|conn| -> Result<Option<Admitted>, LoginError> {
                let standing = match gate::check(conn, &user_id, amr, demand, totp_globally_enabled, now)? {
                    Ok(standing) => standing,
                    Err(_) => return Ok(None),
                };
                if password_stamp
                    .as_deref()
                    .is_some_and(|stamp| stamp != crate::auth::passwords::stamp(&standing.user.password_hash))
                {
                    return Ok(None);
                }
                sessions::insert(conn, &session)?;
                users::set_last_login(conn, &user_id, now)?;
                let remembered = match (remember, standing.tenant.remember_device_days) {
                    (true, Some(days)) if amr == Amr::PwdOtp => {
                        let tenant = &standing.tenant.id;
                        let label = browser.label.clone();
                        Some((
                            remembered::remember(conn, tenant, &user_id, days, label, &browser.origin, now)?,
                            days,
                        ))
                    }
                    _ => None,
                };
                let code = then(conn, &user_id, &session.id)?;
                Ok(Some(Admitted { remembered, code }))
            })
        })
        .await?;
    Ok(admitted.map(|Admitted { remembered, code }| Completed {
        session_token,
        session_id,
        remembered,
        code,
    }))
}
