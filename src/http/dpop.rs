//! DPoP at the edges (RFC 9449; the proof rules are [`crate::oidc::dpop`]): the token
//! endpoint's proof, and access tokens presented as `Authorization: Bearer` or `DPoP`
//! at `/userinfo` and the admin API — a DPoP-bound token only with a proof by its key,
//! never as a bearer token.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::http::state::AppState;
use crate::oidc::dpop::{self, Expected};
use crate::oidc::grants::TokenError;
use crate::oidc::tokens::AccessClaims;

/// How an access token was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Dpop,
}

/// The access token in `Authorization: Bearer …` or `Authorization: DPoP …`.
pub fn authorization(req: &HttpRequest) -> Option<(Scheme, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    Some((scheme, token.trim().to_owned()))
}

/// The request's one `DPoP` header: `Ok(None)` without one, an error with several.
fn proof_header(req: &HttpRequest) -> Result<Option<&str>, &'static str> {
    let mut all = req.headers().get_all("dpop");
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(one), None) => one.to_str().map(Some).map_err(|_| "the DPoP header is not text"),
        (Some(_), Some(_)) => Err("one DPoP header at most"),
    }
}

/// The token endpoint's proof, if the request has one: the thumbprint of its key, or the
/// `invalid_dpop_proof` answer.
pub async fn token_proof(state: &AppState, req: &HttpRequest) -> Result<Option<String>, TokenError> {
    let proof = match proof_header(req) {
        Ok(None) => return Ok(None),
        Ok(Some(proof)) => proof,
        Err(reason) => return Err(TokenError::InvalidDpopProof(reason)),
    };
    let url = state.issuer.endpoint("/token");
    let expected = Expected { method: "POST", url: &url, access_token: None };
    match dpop::check(&state.ephemeral, proof, &expected, state.clock.now()).await {
        Ok(Ok(jkt)) => Ok(Some(jkt)),
        Ok(Err(reason)) => Err(TokenError::InvalidDpopProof(reason)),
        Err(err) => Err(TokenError::Unavailable(err.to_string())),
    }
}

/// Whether a valid access token may be used as presented: a DPoP-bound one only with
/// the DPoP scheme and a proof by its key for this request (method, URL, `ath`), an
/// unbound one only as a bearer token. The refusal's reason otherwise.
pub async fn binding_holds(
    state: &AppState,
    req: &HttpRequest,
    scheme: Scheme,
    token: &str,
    claims: &AccessClaims,
) -> Result<Result<(), &'static str>, TokenError> {
    let bound = claims.cnf.as_ref().map(|c| c.jkt.as_str());
    match (scheme, bound) {
        (Scheme::Bearer, None) => return Ok(Ok(())),
        (Scheme::Bearer, Some(_)) => {
            return Ok(Err("the token is bound to a DPoP key: present it with a proof"));
        }
        (Scheme::Dpop, None) => return Ok(Err("the token is not bound to a DPoP key")),
        (Scheme::Dpop, Some(_)) => {}
    }
    let proof = match proof_header(req) {
        Ok(Some(proof)) => proof,
        Ok(None) => return Ok(Err("a DPoP proof is required")),
        Err(reason) => return Ok(Err(reason)),
    };
    let url = state.issuer.endpoint(req.path());
    let expected = Expected { method: req.method().as_str(), url: &url, access_token: Some(token) };
    match dpop::check(&state.ephemeral, proof, &expected, state.clock.now()).await {
        Ok(Ok(jkt)) if Some(jkt.as_str()) == bound => Ok(Ok(())),
        Ok(Ok(_)) => Ok(Err("the DPoP proof is by another key than the token's")),
        Ok(Err(reason)) => Ok(Err(reason)),
        Err(err) => Err(TokenError::Unavailable(err.to_string())),
    }
}

/// 401 for a token whose DPoP binding does not hold (RFC 9449 §7.1).
pub fn refused(reason: &str) -> HttpResponse {
    let challenge = format!("DPoP algs=\"{}\"", dpop::ALGS.join(" "));
    crate::http::oauth::resource_error(StatusCode::UNAUTHORIZED, &challenge, Some("invalid_token"), reason)
}
