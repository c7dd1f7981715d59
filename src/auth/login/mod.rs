//! The I/O around the login state machine: flows in the ephemeral store ([`flow_store`]),
//! the password step ([`password_step`]), and finishing a login (SSO session +
//! authorization code, in one transaction).

mod flow_store;
mod password_step;

pub use flow_store::{
    AuthRequest, Flow, Notice, create_flow, delete_flow, flow_check_budget, load_flow, save_flow,
    settle_flow, spend_flow_check,
};
pub use password_step::{Attempt, Checked, check_password};

use crate::auth::errors::LoginError;
use crate::auth::flow::Amr;
use crate::auth::gate;
use crate::auth::remembered;
use crate::random::secret_hash;
use crate::store::audit::Origin;
use crate::store::sessions::{self, Session};
use crate::store::{Db, users};

/// A login flow lives this long after it starts.
pub const FLOW_TTL: i64 = 600;
/// An authorization code must be redeemed within this many seconds.
pub const CODE_TTL: i64 = 60;
/// An SSO session lasts this long.
pub const SESSION_TTL: i64 = 12 * 3600;

pub const ACR_SINGLE_FACTOR: &str = "urn:watchword:acr:single-factor";
pub const ACR_MULTI_FACTOR: &str = "urn:watchword:acr:multi-factor";

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
    let session_token = crate::random::token(32);
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
