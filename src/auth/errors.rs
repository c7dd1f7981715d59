//! What can go wrong around a sign-in, sorted by what the caller can do about it; the
//! http layer turns each into a page or an OAuth error (`http/errors.rs`).

use crate::auth::hashing::HashError;
use crate::ephemeral::EphemeralError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A dependency is down: no decision is made, the user is asked to retry (503).
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// The database stayed busy (lock contention): nothing was written; a 503.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// What the sign-in was for was deleted meanwhile (its client, say): it cannot
    /// finish, and is started again from the application.
    #[error("gone: {0}")]
    Gone(String),
    /// Too many attempts: refused without a check; try again after this many seconds.
    #[error("too many attempts; retry after {retry_after} s")]
    Throttled { retry_after: i64 },
    /// Password hashing is at capacity: refused before hashing (503, `Retry-After`).
    #[error("password hashing at capacity; retry after {retry_after} s")]
    Overloaded { retry_after: i64 },
}

impl From<HashError> for LoginError {
    fn from(err: HashError) -> Self {
        match err {
            HashError::Busy => Self::Overloaded { retry_after: OVERLOADED_RETRY_AFTER },
            HashError::Stopped => Self::Unavailable(err.to_string()),
            HashError::Password(e) => Self::Internal(e.to_string()),
        }
    }
}

/// What a sign-in refused by a full hashing queue is told to wait, in seconds.
pub const OVERLOADED_RETRY_AFTER: i64 = 2;

impl From<StoreError> for LoginError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Busy(m) => Self::Busy(m),
            StoreError::Gone => Self::Gone(err.to_string()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl crate::store::Contended for LoginError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Busy(_))
    }
}

impl From<diesel::result::Error> for LoginError {
    fn from(err: diesel::result::Error) -> Self {
        StoreError::from(err).into()
    }
}

impl From<EphemeralError> for LoginError {
    fn from(err: EphemeralError) -> Self {
        Self::Unavailable(err.to_string())
    }
}
