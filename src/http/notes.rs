//! Post/redirect/get for the signed-in pages (`/account`, `/admin`): a form answers
//! with a 303 to a page, and what that page must say — "Password changed", "Invalid
//! code", what was typed into a refused form, a secret to show once — waits for it in
//! the ephemeral store as a *note*, named in the URL (`?note=…`) and bound to the
//! session that wrote it (the key hashes both), for a few minutes. A reload of the page
//! sends no form again; the note is said once (or, for recovery codes, until saved).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use crate::auth::errors::LoginError;
use crate::auth::keyring::Sealed;
use crate::http::see_other;
use crate::http::state::AppState;
use crate::random::{secret_hash, token};

/// How long a note waits for its page.
const NOTE_TTL: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tone {
    Success,
    Error,
}

/// What a page says after a form.
#[derive(Clone, Serialize, Deserialize)]
pub struct Note {
    pub tone: Tone,
    pub text: String,
    /// What the refused form had typed (never a secret), to type again.
    #[serde(default)]
    pub typed: BTreeMap<String, String>,
    /// Secrets to show (recovery codes, a temporary password), sealed.
    #[serde(default)]
    held: Option<(String, Vec<u8>)>,
}

impl Note {
    pub fn success(text: impl Into<String>) -> Self {
        Self { tone: Tone::Success, text: text.into(), typed: BTreeMap::new(), held: None }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self { tone: Tone::Error, text: text.into(), typed: BTreeMap::new(), held: None }
    }

    pub fn typed(mut self, field: &str, value: &str) -> Self {
        self.typed.insert(field.to_owned(), value.to_owned());
        self
    }

    /// The error text, for the page's error line.
    pub fn error_text(note: Option<&Self>) -> Option<&str> {
        note.filter(|n| n.tone == Tone::Error).map(|n| n.text.as_str())
    }

    /// The success text, for the page's status line.
    pub fn success_text(note: Option<&Self>) -> Option<&str> {
        note.filter(|n| n.tone == Tone::Success).map(|n| n.text.as_str())
    }
}

#[derive(Deserialize)]
struct Named {
    note: Option<String>,
}

fn key_of(session_id: &str, id: &str) -> String {
    format!("note:{}", secret_hash(&format!("{session_id}:{id}")))
}

/// `to` with the note `id` in its query.
fn with_id(to: &str, id: &str) -> String {
    let joiner = if to.contains('?') { '&' } else { '?' };
    format!("{to}{joiner}note={id}")
}

/// Stores `note` (with `secrets`, sealed, when given) and redirects to `to`, which
/// shows it.
pub async fn redirect(
    state: &AppState,
    session_id: &str,
    to: &str,
    mut note: Note,
    secrets: &[String],
) -> Result<HttpResponse, LoginError> {
    let id = token(12);
    let key = key_of(session_id, &id);
    if !secrets.is_empty() {
        let sealed = state.keyring.seal(secrets.join("\n").as_bytes(), key.as_bytes());
        note.held = Some((sealed.key_id, sealed.bytes));
    }
    let bytes = serde_json::to_vec(&note).map_err(|e| LoginError::Internal(e.to_string()))?;
    state.ephemeral.put(&key, bytes, NOTE_TTL, state.clock.now()).await?;
    Ok(see_other(&with_id(to, &id)))
}

/// A note read from the request's `?note=`: the note, its secrets, and its id.
#[derive(Clone)]
pub struct Found {
    pub note: Note,
    pub secrets: Vec<String>,
    pub id: String,
}

/// The note the request names, if this session wrote it and it has not expired;
/// `keep` leaves it for a reload (recovery codes until saved), else it is said once.
pub async fn read(
    state: &AppState,
    session_id: &str,
    req: &HttpRequest,
    keep: bool,
) -> Result<Option<Found>, LoginError> {
    let Some(id) = web::Query::<Named>::from_query(req.query_string()).ok().and_then(|q| q.into_inner().note)
    else {
        return Ok(None);
    };
    if id.is_empty() || id.len() > 32 {
        return Ok(None);
    }
    let key = key_of(session_id, &id);
    let Some(bytes) = state.ephemeral.get(&key, state.clock.now()).await? else { return Ok(None) };
    if !keep {
        state.ephemeral.delete(&key).await?;
    }
    let Ok(note) = serde_json::from_slice::<Note>(&bytes) else { return Ok(None) };
    let secrets = note
        .held
        .as_ref()
        .and_then(|(key_id, bytes)| {
            let sealed = Sealed { key_id: key_id.clone(), bytes: bytes.clone() };
            state.keyring.open(&sealed, key.as_bytes()).ok()
        })
        .and_then(|plain| String::from_utf8(plain).ok())
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(Some(Found { note, secrets, id }))
}

impl Found {
    /// A note shown at once, not kept (see [`redirect_or_show`]).
    fn unkept(note: Note, secrets: &[String]) -> Self {
        Self { note, secrets: secrets.to_vec(), id: String::new() }
    }
}

/// [`redirect`] for a note that carries a secret just made (a password, recovery
/// codes): when the store cannot keep it, `show` answers with the page at once
/// instead — a form answer that a reload would send again, the lesser harm than a
/// secret set and never shown.
pub async fn redirect_or_show<E>(
    state: &AppState,
    session_id: &str,
    to: &str,
    note: Note,
    secrets: &[String],
    show: impl AsyncFnOnce(Found) -> Result<HttpResponse, E>,
) -> Result<HttpResponse, E> {
    let kept = note.clone();
    match redirect(state, session_id, to, note, secrets).await {
        Ok(response) => Ok(response),
        Err(err) => {
            tracing::warn!(error = %err, "a note with a secret could not be kept; shown at once");
            show(Found::unkept(kept, secrets)).await
        }
    }
}

/// Forgets the note `id` (its secrets have been saved).
pub async fn forget(state: &AppState, session_id: &str, id: &str) -> Result<(), LoginError> {
    if !id.is_empty() && id.len() <= 32 {
        state.ephemeral.delete(&key_of(session_id, id)).await?;
    }
    Ok(())
}
