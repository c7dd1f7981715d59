//! Pushed Authorization Requests (RFC 9126): a checked authorization request kept in the
//! ephemeral store for [`PUSHED_TTL`] seconds under a random id, and given back once, to
//! the client that pushed it, when `/authorize` names it in `request_uri`.

use crate::ephemeral::{Ephemeral, EphemeralError};
use crate::oidc::authorize::AuthorizeParams;

/// A pushed request stands for this many seconds (RFC 9126 §2.2: short-lived).
pub const PUSHED_TTL: i64 = 60;
/// What a `request_uri` from `/par` begins with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A pushed request as stored.
#[derive(serde::Serialize, serde::Deserialize)]
struct Kept {
    at: i64,
    request: AuthorizeParams,
}

fn key(id: &str) -> String {
    format!("par:{id}")
}

/// Keeps a checked request (its `client_id` set to the authenticated client); its id.
pub async fn push(store: &Ephemeral, request: &AuthorizeParams, now: i64) -> Result<String, EphemeralError> {
    let id = crate::random::token(32);
    // With its time: the store's own expiry runs on the wall clock, the domain's on `now`.
    let kept = Kept { at: now, request: request.clone() };
    let bytes = serde_json::to_vec(&kept).map_err(|e| EphemeralError::Unavailable(e.to_string()))?;
    // put_new: capped in memory as sign-in flows are (the oldest goes first).
    store.put_new(&key(&id), bytes, PUSHED_TTL.unsigned_abs(), now).await?;
    Ok(id)
}

/// Why a `request_uri` at `/authorize` could not be used (a message key for the page).
pub enum Unusable {
    /// Not one of ours, unknown, expired or already used.
    Gone,
    /// Pushed by another client than the one named.
    OtherClient,
}

/// The request a `/authorize` with `request_uri` stands for: the pushed one, once, and
/// only for the client that pushed it; the other parameters sent along are ignored
/// (RFC 9126 §4). Without a `request_uri` of ours, the parameters as sent.
pub async fn resolve(
    store: &Ephemeral,
    params: AuthorizeParams,
    now: i64,
) -> Result<Result<AuthorizeParams, Unusable>, EphemeralError> {
    // Another kind of request_uri (a request object by reference, OpenID Connect Core
    // §6.2) goes on as sent, to be refused with request_uri_not_supported.
    let Some(id) = params.request_uri.as_deref().and_then(|uri| uri.strip_prefix(REQUEST_URI_PREFIX)) else {
        return Ok(Ok(params));
    };
    if id.is_empty() || id.len() > 64 {
        return Ok(Err(Unusable::Gone));
    }
    let Some(bytes) = store.get(&key(id), now).await? else { return Ok(Err(Unusable::Gone)) };
    let Some(Kept { request: pushed, .. }) =
        serde_json::from_slice::<Kept>(&bytes).ok().filter(|k| k.at + PUSHED_TTL > now)
    else {
        return Ok(Err(Unusable::Gone));
    };
    if pushed.client_id.is_none() || pushed.client_id != params.client_id {
        return Ok(Err(Unusable::OtherClient));
    }
    // Once: the first use marks it (atomically), a second finds the mark.
    if !store.claim(&format!("par-used:{id}"), PUSHED_TTL.unsigned_abs(), now).await? {
        return Ok(Err(Unusable::Gone));
    }
    store.delete(&key(id)).await?;
    Ok(Ok(pushed))
}
