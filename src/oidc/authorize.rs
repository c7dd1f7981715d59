//! The authorization request (OpenID Connect Core §3.1.2): parsing and checking it
//! after the client and redirect URI are known good, deciding whether an existing SSO
//! session satisfies it, consent, and issuing the authorization code.

use diesel::prelude::*;
use serde::Deserialize;

use crate::auth::errors::LoginError;
use crate::auth::flow::Amr;
use crate::auth::login::{self, ACR_MULTI_FACTOR, AuthRequest};
use crate::auth::remembered::Terms;
use crate::store::DbConn;
use crate::store::schema::consents;
use crate::store::sessions::Session;
use crate::store::tokens::{self, AuthorizationCode};

/// Scopes Watchword grants; others are dropped from a request.
pub const SCOPES: &[&str] =
    &["openid", "profile", "email", "phone", "address", "offline_access", "watchword:admin"];

/// Every parameter of an authorization request, as sent (GET query or POST form).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// The end user's preferred languages for the pages (OIDC Core §3.1.2.1).
    pub ui_locales: Option<String>,
}

/// An error to send back to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub error: &'static str,
    pub description: &'static str,
}

/// The longest `state` and `nonce` kept (and echoed); longer ones are refused, never
/// dropped: a client that sent one would otherwise get a code without it.
pub const MAX_STATE: usize = 2048;
pub const MAX_NONCE: usize = 512;

fn refuse(error: &'static str, description: &'static str) -> RedirectError {
    RedirectError { error, description }
}

/// What `prompt` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A checked request, ready to start or resume a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub request: AuthRequest,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// Whether an essential `acr` claim (or `acr_values`) asks for multi-factor.
fn asks_for_mfa(acr_values: Option<&str>, claims: Option<&serde_json::Value>) -> bool {
    let by_values = acr_values.is_some_and(|v| v.split(' ').any(|a| a == ACR_MULTI_FACTOR));
    let Some(parsed) = claims else { return by_values };
    let acr = &parsed["id_token"]["acr"];
    let essential = acr["essential"].as_bool().unwrap_or(false);
    let values: Vec<&str> = match (&acr["value"], &acr["values"]) {
        (serde_json::Value::String(v), _) => vec![v.as_str()],
        (_, serde_json::Value::Array(vs)) => vs.iter().filter_map(|v| v.as_str()).collect(),
        _ => Vec::new(),
    };
    let by_claims = (essential && (values.is_empty() || values.contains(&ACR_MULTI_FACTOR)))
        || (!values.is_empty() && values.iter().all(|v| *v == ACR_MULTI_FACTOR));
    by_values || by_claims
}

/// Checks everything after the client and redirect URI. `public` clients must use PKCE.
pub fn check(
    params: AuthorizeParams,
    client_id: &str,
    redirect_uri: &str,
    public: bool,
    client_requires_mfa: bool,
) -> Result<Checked, RedirectError> {
    if params.request.is_some() {
        return Err(refuse("request_not_supported", "request objects are not supported"));
    }
    if params.request_uri.is_some() {
        return Err(refuse("request_uri_not_supported", "request_uri is not supported"));
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is missing")),
        Some(_) => return Err(refuse("unsupported_response_type", "only response_type=code is supported")),
    }
    if params.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(refuse("invalid_request", "only response_mode=query is supported"));
    }
    let requested = params.scope.unwrap_or_default();
    if !requested.split(' ').any(|s| s == "openid") {
        return Err(refuse("invalid_scope", "the openid scope is required"));
    }
    let mut granted: Vec<&str> =
        SCOPES.iter().copied().filter(|s| requested.split(' ').any(|r| r == *s)).collect();
    granted.dedup();
    let challenge = params.code_challenge.filter(|c| !c.is_empty());
    match (&challenge, params.code_challenge_method.as_deref()) {
        (None, _) if public => {
            return Err(refuse("invalid_request", "public clients must use PKCE with S256"));
        }
        (None, Some(_)) => {
            return Err(refuse("invalid_request", "code_challenge_method without code_challenge"));
        }
        (Some(_), None) => return Err(refuse("invalid_request", "code_challenge_method=S256 is required")),
        (Some(_), Some(m)) if m != "S256" => {
            return Err(refuse("invalid_request", "only the S256 method is supported"));
        }
        (Some(c), _)
            if !(43..=128).contains(&c.len())
                || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) =>
        {
            return Err(refuse("invalid_request", "the code challenge is malformed"));
        }
        _ => {}
    }
    let mut prompt = Prompt::default();
    for value in params.prompt.as_deref().unwrap_or("").split(' ').filter(|v| !v.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return Err(refuse("invalid_request", "unknown prompt value")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(refuse("invalid_request", "prompt=none cannot be combined with other values"));
    }
    let max_age = match params.max_age.as_deref().filter(|m| !m.is_empty()) {
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|m| *m >= 0)
                .ok_or(refuse("invalid_request", "max_age must be a non-negative integer"))?,
        ),
        None => None,
    };
    // The claims parameter, parsed once: for the MFA it may demand and the user claims it asks.
    let claims: Option<serde_json::Value> = params
        .claims
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|_| refuse("invalid_request", "the claims parameter is not JSON"))?;
    let require_mfa = client_requires_mfa || asks_for_mfa(params.acr_values.as_deref(), claims.as_ref());
    let asked = crate::oidc::claims::Requested::from_value(claims.as_ref())
        .map_err(|description| refuse("invalid_request", description))?;
    if params.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(refuse("invalid_request", "state is longer than 2048 characters"));
    }
    if params.nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(refuse("invalid_request", "nonce is longer than 512 characters"));
    }
    let nonce = params.nonce.filter(|n| !n.is_empty());
    let state = params.state;
    Ok(Checked {
        request: AuthRequest {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: granted.join(" "),
            state,
            nonce,
            code_challenge_method: challenge.as_ref().map(|_| "S256".to_owned()),
            code_challenge: challenge,
            require_mfa,
            claims: asked.to_stored(),
        },
        prompt,
        max_age,
        login_hint: params.login_hint.filter(|h| !h.is_empty() && h.len() <= 256),
    })
}

/// Whether a live session may answer this request without a new sign-in. A session
/// that a remembered device signed in is reused only by a client that accepts devices
/// (as multi-factor, when asked for that) and without `max_age`: a new sign-in weighs
/// the device's last code against it.
pub fn session_satisfies(checked: &Checked, devices: &Terms, session: &Session, now: i64) -> bool {
    let fresh = checked.max_age.is_none_or(|max| now - session.auth_time <= max);
    let amr = Amr::from_stored(&session.amr);
    let enough = match amr {
        Some(Amr::PwdDevice) => checked.max_age.is_none() && devices.allow(checked.request.require_mfa),
        Some(amr) => amr.is_multi_factor() || !checked.request.require_mfa,
        None => false,
    };
    !checked.prompt.login && fresh && enough
}

/// Whether the user has already consented to every scope of `scope` for this client.
pub fn has_consent(
    conn: &mut DbConn,
    user_id: &str,
    client_id: &str,
    scope: &str,
) -> Result<bool, LoginError> {
    let granted: Option<String> = crate::native!(conn, |c| consents::table
        .filter(consents::user_id.eq(user_id))
        .filter(consents::client_id.eq(client_id))
        .select(consents::scope)
        .load(c))?
    .into_iter()
    .next();
    Ok(granted.is_some_and(|g| scope.split(' ').all(|s| g.split(' ').any(|x| x == s))))
}

/// Remembers consent to `scope` (adding to what was granted before).
pub fn save_consent(
    conn: &mut DbConn,
    user_id: &str,
    client_id: &str,
    scope: &str,
    now: i64,
) -> Result<(), LoginError> {
    conn.write(|conn| {
        let before: Option<String> = crate::native!(conn, |c| consents::table
            .filter(consents::user_id.eq(user_id))
            .filter(consents::client_id.eq(client_id))
            .select(consents::scope)
            .load(c))?
        .into_iter()
        .next();
        let mut all: Vec<String> = before.iter().flat_map(|b| b.split(' ').map(str::to_owned)).collect();
        for s in scope.split(' ') {
            if !all.iter().any(|a| a == s) {
                all.push(s.to_owned());
            }
        }
        crate::native!(conn, |c| diesel::delete(
            consents::table.filter(consents::user_id.eq(user_id)).filter(consents::client_id.eq(client_id)),
        )
        .execute(c))?;
        crate::native!(conn, |c| diesel::insert_into(consents::table)
            .values((
                consents::user_id.eq(user_id),
                consents::client_id.eq(client_id),
                consents::scope.eq(all.join(" ")),
                consents::granted_at.eq(now),
            ))
            .execute(c))?;
        Ok(())
    })
}

/// The scopes the user consents to for `request`: its scope, and the scopes of the user
/// claims its `claims` parameter names.
pub fn consent_scope(request: &AuthRequest) -> String {
    let asked = crate::oidc::claims::Requested::from_stored(request.claims.as_deref());
    crate::oidc::claims::consent_scope(&request.scope, &asked)
}

/// Whether the user must be asked before the client gets `scope`: never for a trusted
/// client; always when the request said `prompt=consent`; otherwise unless every scope
/// was granted before.
fn consent_needed(
    conn: &mut DbConn,
    trusted: bool,
    asked: bool,
    user_id: &str,
    client_id: &str,
    scope: &str,
) -> Result<bool, LoginError> {
    Ok(!trusted && (asked || !has_consent(conn, user_id, client_id, scope)?))
}

/// The authorization's answer when nothing is left to ask: the code for `request` — or
/// `None` when the user must consent first.
pub fn code_unless_consent(
    conn: &mut DbConn,
    request: &AuthRequest,
    trusted: bool,
    asked: bool,
    user_id: &str,
    session_id: &str,
    now: i64,
) -> Result<Option<String>, LoginError> {
    if consent_needed(conn, trusted, asked, user_id, &request.client_id, &consent_scope(request))? {
        return Ok(None);
    }
    issue_code(conn, request, user_id, session_id, now).map(Some)
}

/// Stores a new authorization code for `request` and returns it.
pub fn issue_code(
    conn: &mut DbConn,
    request: &AuthRequest,
    user_id: &str,
    session_id: &str,
    now: i64,
) -> Result<String, LoginError> {
    let code = crate::random::token(32);
    tokens::insert_code(
        conn,
        &AuthorizationCode {
            code_hash: crate::random::secret_hash(&code),
            client_id: request.client_id.clone(),
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            nonce: request.nonce.clone(),
            code_challenge: request.code_challenge.clone(),
            code_challenge_method: request.code_challenge_method.clone(),
            created_at: now,
            expires_at: now + login::CODE_TTL,
            consumed_at: None,
            claims: request.claims.clone(),
        },
    )?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> AuthorizeParams {
        let mut map = serde_json::Map::new();
        map.insert("response_type".into(), "code".into());
        map.insert("scope".into(), "openid profile".into());
        for (k, v) in pairs {
            map.insert((*k).into(), (*v).into());
        }
        serde_json::from_value(serde_json::Value::Object(map)).unwrap()
    }

    fn run(pairs: &[(&str, &str)], public: bool) -> Result<Checked, RedirectError> {
        check(params(pairs), "c", "https://rp.example/cb", public, false)
    }

    #[test]
    fn checks_in_order_with_the_right_errors() {
        assert_eq!(run(&[("request", "x")], false).unwrap_err().error, "request_not_supported");
        assert_eq!(run(&[("request_uri", "x")], false).unwrap_err().error, "request_uri_not_supported");
        assert_eq!(run(&[("response_type", "token")], false).unwrap_err().error, "unsupported_response_type");
        assert_eq!(run(&[("scope", "profile")], false).unwrap_err().error, "invalid_scope");
        assert_eq!(run(&[], true).unwrap_err().error, "invalid_request", "public clients need PKCE");
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(run(&[("code_challenge", challenge), ("code_challenge_method", "S256")], true).is_ok());
        assert_eq!(
            run(&[("code_challenge", challenge), ("code_challenge_method", "plain")], true)
                .unwrap_err()
                .error,
            "invalid_request"
        );
        assert_eq!(run(&[("prompt", "none login")], false).unwrap_err().error, "invalid_request");
        assert_eq!(run(&[("max_age", "-1")], false).unwrap_err().error, "invalid_request");
        assert_eq!(run(&[("claims", "{not json")], false).unwrap_err().error, "invalid_request");
    }

    #[test]
    fn scopes_are_filtered_and_mfa_requests_recognised() {
        let ok = run(&[("scope", "openid email bogus profile")], false).unwrap();
        assert_eq!(ok.request.scope, "openid profile email");
        assert!(!ok.request.require_mfa);
        assert!(run(&[("acr_values", ACR_MULTI_FACTOR)], false).unwrap().request.require_mfa);
        let essential = r#"{"id_token":{"acr":{"essential":true}}}"#;
        assert!(run(&[("claims", essential)], false).unwrap().request.require_mfa);
        let single =
            r#"{"id_token":{"acr":{"essential":true,"values":["urn:watchword:acr:single-factor"]}}}"#;
        assert!(!run(&[("claims", single)], false).unwrap().request.require_mfa);
        assert_eq!(run(&[("max_age", "10")], false).unwrap().max_age, Some(10));
    }
}
