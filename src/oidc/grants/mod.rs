//! The token endpoint's grants (RFC 6749 §4.1.3, §6, §4.4; RFC 7636 §4.6): the
//! authorization code (single use, bound to client, redirect URI and PKCE verifier),
//! the refresh token (rotation; reuse revokes the family), and client credentials.

use serde::{Deserialize, Serialize};

use crate::auth::flow::Amr;
use crate::auth::login::ACR_MULTI_FACTOR;
use crate::oidc::claims::Requested;
use crate::oidc::has_scope;
use crate::oidc::keys::{KeyError, KeySet, SigningAlg};
use crate::oidc::tokens::{self, Grant, TOKEN_TTL};
use crate::random::secret_hash;
use crate::store::clients::Client;
use crate::store::sessions::Session;
use crate::store::tokens::RefreshToken;
use crate::store::users::User;
use crate::store::{Db, DbConn, StoreError};

mod code;
mod refresh;

pub use code::pkce_matches;
pub use refresh::{Instance, RETRY_GRACE};

/// RFC 6749 §5.2 errors (plus the server's own trouble).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("invalid_scope: {0}")]
    InvalidScope(&'static str),
    /// RFC 9449 §5: a missing, invalid or mismatched DPoP proof.
    #[error("invalid_dpop_proof: {0}")]
    InvalidDpopProof(&'static str),
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// The database stayed busy (lock contention): nothing was written; a 503.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("server error: {0}")]
    Internal(String),
}

impl From<StoreError> for TokenError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(m) => Self::Unavailable(m),
            StoreError::Busy(m) => Self::Busy(m),
            StoreError::Gone => Self::InvalidGrant("what the grant refers to was deleted meanwhile"),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl crate::store::Contended for TokenError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Busy(_))
    }
}

impl From<diesel::result::Error> for TokenError {
    fn from(err: diesel::result::Error) -> Self {
        StoreError::from(err).into()
    }
}

impl From<KeyError> for TokenError {
    fn from(err: KeyError) -> Self {
        match err {
            KeyError::Store(s) => s.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The form of a token request.
// No Debug: it holds a secret that must never reach a log.
#[derive(Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The thumbprint of the key a valid DPoP proof came with (set by the endpoint,
    /// never read from the form).
    #[serde(skip)]
    pub dpop_jkt: Option<String>,
}

/// RFC 6749 §5.1.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
}

/// Everything the signing step needs, gathered by the database step.
pub(super) struct Issue {
    user: User,
    session: Option<Session>,
    scope: String,
    nonce: Option<String>,
    family_id: String,
    refresh_token: Option<String>,
    /// The user claims the grant's `claims` parameter asked for.
    claims: Requested,
}

#[expect(clippy::too_many_arguments, reason = "one row's worth of fields")]
pub(super) fn new_refresh(
    client: &Client,
    user_id: &str,
    session: Option<&Session>,
    family_id: &str,
    code_hash: Option<&str>,
    scope: &str,
    expires_at: i64,
    now: i64,
) -> (String, RefreshToken) {
    let token = crate::random::token(32);
    let row = RefreshToken {
        token_hash: secret_hash(&token),
        family_id: family_id.to_owned(),
        client_id: client.id.clone(),
        user_id: user_id.to_owned(),
        session_id: session.map(|s| s.id.clone()),
        auth_code_hash: code_hash.map(str::to_owned),
        scope: scope.to_owned(),
        offline: has_scope(scope, "offline_access"),
        created_at: now,
        expires_at,
        rotated_at: None,
        revoked_at: None,
        issued_by: None,
        parent_hash: None,
        dpop_jkt: None,
        claims: None,
    };
    (token, row)
}

/// A database step's answer: `Err` aborts the transaction (nothing is written);
/// `Ok(Err(..))` is a refusal whose writes (a burned code, a revoked family) commit.
pub(super) type Step = Result<Result<Issue, TokenError>, StoreError>;

pub(super) fn refuse(err: TokenError) -> Step {
    Ok(Err(err))
}

/// The user, if the gate admits it now for a session signed in as `session` was (a
/// token without a session row counts as password-only).
pub(super) fn admitted_user(
    conn: &mut DbConn,
    user_id: &str,
    session: Option<&Session>,
    client: &Client,
    instance: &Instance,
    now: i64,
) -> Result<Option<User>, StoreError> {
    let amr = session
        .and_then(|s| crate::auth::flow::Amr::from_stored(&s.amr))
        .unwrap_or(crate::auth::flow::Amr::Pwd);
    let demand = crate::auth::gate::Demand::of(client, false);
    Ok(crate::auth::gate::check(conn, user_id, amr, demand, instance.totp_enabled, now)?.ok().map(|s| s.user))
}

fn access_alg(client: &Client) -> SigningAlg {
    SigningAlg::parse(&client.access_token_alg).unwrap_or(SigningAlg::Rs256)
}

/// Answers a token request from an authenticated `client`; `keys` signs; `instance`
/// is this server process (see [`refresh::lost_rotation`]).
pub async fn token(
    db: &Db,
    keys: &KeySet,
    issuer: &str,
    client: &Client,
    req: TokenRequest,
    instance: &Instance,
    now: i64,
) -> Result<TokenResponse, TokenError> {
    let grant_type = req.grant_type.clone().ok_or(TokenError::InvalidRequest("grant_type is missing"))?;
    // Tokens issued with a DPoP proof are bound to its key (RFC 9449 §5).
    let dpop = req.dpop_jkt.clone();
    let token_type = if dpop.is_some() { "DPoP" } else { "Bearer" };
    let issue = match grant_type.as_str() {
        "authorization_code" => {
            let (client, instance) = (client.clone(), instance.clone());
            db.run(move |conn| conn.write(|conn| code::redeem(conn, &client, &req, &instance, now))).await?
        }
        "refresh_token" => {
            if !client.allow_refresh {
                return Err(TokenError::UnauthorizedClient("this client may not use refresh tokens"));
            }
            let (client, instance) = (client.clone(), instance.clone());
            db.run(move |conn| conn.write(|conn| refresh::redeem(conn, &client, &req, &instance, now)))
                .await?
        }
        "client_credentials" => {
            if client.secret_hash.is_none() {
                return Err(TokenError::UnauthorizedClient("public clients cannot use client credentials"));
            }
            let scope = req.scope.unwrap_or_default();
            if scope.split(' ').any(|s| matches!(s, "openid" | "offline_access")) {
                return Err(TokenError::InvalidScope("client credentials carry no user scopes"));
            }
            // Only the scopes registered for the client (`client create --client-scope`).
            if scope
                .split(' ')
                .filter(|s| !s.is_empty())
                .any(|s| !crate::oidc::clients::client_scopes(client).any(|r| r == s))
            {
                return Err(TokenError::InvalidScope("a scope this client is not registered for"));
            }
            let access_token = tokens::client_access_token(
                keys,
                access_alg(client),
                issuer,
                &client.id,
                scope.trim(),
                dpop.as_deref(),
                now,
            )?;
            return Ok(TokenResponse {
                access_token,
                token_type,
                expires_in: TOKEN_TTL,
                id_token: None,
                refresh_token: None,
                scope,
            });
        }
        _ => return Err(TokenError::UnsupportedGrantType),
    };
    let issue = issue?;
    let (amr, acr, auth_time) = match &issue.session {
        // A remembered device is single-factor, unless this client counts it as more.
        Some(s) if client.remembered_device_mfa && Amr::from_stored(&s.amr) == Some(Amr::PwdDevice) => {
            (s.amr.split(' ').map(str::to_owned).collect(), ACR_MULTI_FACTOR.to_owned(), s.auth_time)
        }
        Some(s) => (s.amr.split(' ').map(str::to_owned).collect(), s.acr.clone(), s.auth_time),
        None => (vec!["pwd".to_owned()], crate::auth::login::ACR_SINGLE_FACTOR.to_owned(), now),
    };
    let grant = Grant {
        issuer,
        client_id: &client.id,
        user: &issue.user,
        scope: &issue.scope,
        amr,
        acr,
        auth_time,
        session_id: issue.session.as_ref().map(|s| s.id.as_str()),
        family_id: &issue.family_id,
        nonce: issue.nonce.as_deref(),
        dpop_jkt: dpop.as_deref(),
        claims: &issue.claims,
    };
    let access_token = tokens::access_token(keys, access_alg(client), &grant, now)?;
    let alg = SigningAlg::parse(&client.id_token_alg).unwrap_or(SigningAlg::Rs256);
    let id_token = has_scope(&issue.scope, "openid")
        .then(|| tokens::id_token(keys, alg, &grant, &access_token, now))
        .transpose()?;
    Ok(TokenResponse {
        access_token,
        token_type,
        expires_in: TOKEN_TTL,
        id_token,
        refresh_token: issue.refresh_token,
        scope: issue.scope,
    })
}
