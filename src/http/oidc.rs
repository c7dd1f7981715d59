//! The OpenID Connect back channel: discovery, JWKS, token, userinfo, revocation
//! (RFC 7009), introspection (RFC 7662).

use crate::http::dpop::{self, Scheme};
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use openidconnect::core::{
    CoreClaimName, CoreClientAuthMethod, CoreGrantType, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AuthUrl, IssuerUrl, JsonWebKeySetUrl, ResponseTypes, Scope, TokenUrl, UserInfoUrl};
use serde::Deserialize;
use serde_json::json;

use crate::auth::flow::Amr;
use crate::auth::gate;
use crate::auth::login::{ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR};
use crate::http::oauth::{self, authenticate, presented};
use crate::http::state::AppState;
use crate::oidc::authorize::SCOPES;
use crate::oidc::grants::{self, TokenError, TokenRequest};
use crate::oidc::has_scope;
use crate::oidc::tokens::AccessClaims;
use crate::random::secret_hash;
use crate::store::tokens;
use crate::store::users::User;

/// `/.well-known/openid-configuration` (and RFC 8414's
/// `/.well-known/oauth-authorization-server`): what is supported, and nothing else.
pub async fn get_discovery(state: web::Data<AppState>) -> HttpResponse {
    let issuer = state.issuer_str().to_owned();
    let url = |path: &str| state.issuer.endpoint(path);
    let built = (|| -> Result<serde_json::Value, String> {
        let metadata = CoreProviderMetadata::new(
            IssuerUrl::new(issuer.clone()).map_err(|e| e.to_string())?,
            AuthUrl::new(url("/authorize")).map_err(|e| e.to_string())?,
            JsonWebKeySetUrl::new(url("/jwks")).map_err(|e| e.to_string())?,
            vec![ResponseTypes::new(vec![CoreResponseType::Code])],
            vec![CoreSubjectIdentifierType::Public],
            vec![
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::EdDsa,
            ],
            Default::default(),
        )
        .set_token_endpoint(Some(TokenUrl::new(url("/token")).map_err(|e| e.to_string())?))
        .set_userinfo_endpoint(Some(UserInfoUrl::new(url("/userinfo")).map_err(|e| e.to_string())?))
        .set_scopes_supported(Some(SCOPES.iter().map(|s| Scope::new((*s).to_owned())).collect()))
        .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
        .set_grant_types_supported(Some(vec![
            CoreGrantType::AuthorizationCode,
            CoreGrantType::RefreshToken,
            CoreGrantType::ClientCredentials,
        ]))
        .set_token_endpoint_auth_methods_supported(Some(vec![
            CoreClientAuthMethod::ClientSecretBasic,
            CoreClientAuthMethod::ClientSecretPost,
            CoreClientAuthMethod::None,
        ]))
        .set_acr_values_supported(Some(vec![
            openidconnect::AuthenticationContextClass::new(ACR_SINGLE_FACTOR.to_owned()),
            openidconnect::AuthenticationContextClass::new(ACR_MULTI_FACTOR.to_owned()),
        ]))
        .set_claims_supported(Some(
            ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "azp", "sid", "at_hash"]
                .iter()
                .chain(crate::oidc::claims::USER_CLAIMS.iter().map(|(claim, _)| claim))
                .map(|c| CoreClaimName::new((*c).to_owned()))
                .collect(),
        ))
        .set_claims_parameter_supported(Some(true))
        .set_request_parameter_supported(Some(false))
        .set_request_uri_parameter_supported(Some(false));
        let mut value = serde_json::to_value(&metadata).map_err(|e| e.to_string())?;
        // Fields openidconnect's metadata type has no setter for.
        let extra = json!({
            "end_session_endpoint": url("/end_session"),
            "revocation_endpoint": url("/revoke"),
            "introspection_endpoint": url("/introspect"),
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": crate::oidc::dpop::ALGS,
            "authorization_response_iss_parameter_supported": true,
            // RFC 9126 (crate::http::par); optional for every client.
            "pushed_authorization_request_endpoint": url("/par"),
            "require_pushed_authorization_requests": false,
            // OpenID Connect Back-Channel Logout 1.0 (crate::oidc::backchannel).
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "prompt_values_supported": ["none", "login", "consent"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
            "userinfo_signing_alg_values_supported": [],
        });
        if let (Some(target), Some(extra)) = (value.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "userinfo_signing_alg_values_supported" {
                    continue;
                }
                target.insert(k.clone(), v.clone());
            }
        }
        Ok(value)
    })();
    match built {
        Ok(value) => {
            HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=300")).json(value)
        }
        Err(detail) => {
            tracing::error!(%detail, "discovery document could not be built");
            HttpResponse::InternalServerError().json(json!({ "error": "server_error" }))
        }
    }
}

pub async fn get_jwks(state: web::Data<AppState>) -> HttpResponse {
    match state.keys().await {
        Ok(keys) => {
            HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "public, max-age=60")).json(&keys.jwks)
        }
        Err(err) => oauth::token_error(&TokenError::from(err)),
    }
}

pub async fn post_token(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<TokenRequest>, actix_web::Error>,
) -> HttpResponse {
    let Ok(form) = form else {
        return oauth::token_error(&TokenError::InvalidRequest("the request body is not a valid form"));
    };
    let mut form = form.into_inner();
    let grant = match form.grant_type.as_deref() {
        Some("authorization_code") => "authorization_code",
        Some("refresh_token") => "refresh_token",
        Some("client_credentials") => "client_credentials",
        _ => "other",
    };
    let result = async {
        let presented = presented(&req, form.client_id.as_deref(), form.client_secret.as_deref())?;
        let client = authenticate(&state, &presented).await?;
        form.dpop_jkt = dpop::token_proof(&state, &req).await?;
        let keys = state.keys().await?;
        let tokens = grants::token(
            &state.db,
            &keys,
            state.issuer_str(),
            &client,
            form,
            &state.instance,
            state.clock.now(),
        )
        .await?;
        // A redeemed code of such a client wrote a back-channel logout notice.
        if grant == "authorization_code" && client.backchannel_logout_uri.is_some() {
            state.logout_notices.notify_one();
        }
        Ok(tokens)
    };
    match result.await {
        Ok(tokens) => {
            state.metrics.token(grant);
            HttpResponse::Ok().insert_header((header::PRAGMA, "no-cache")).json(tokens)
        }
        Err(err) => oauth::token_error(&err),
    }
}

/// RFC 6750 §3 errors.
fn bearer_error(status: StatusCode, error: Option<&str>, description: &str) -> HttpResponse {
    oauth::resource_error(status, "Bearer realm=\"watchword\"", error, description)
}

// No Debug: it holds a secret that must never reach a log.
#[derive(Default, Deserialize)]
pub struct UserinfoForm {
    access_token: Option<String>,
}

/// A valid, unrevoked access token of a live user, with its claims.
pub(crate) async fn check_access_token(
    state: &AppState,
    token: &str,
) -> Result<Option<(AccessClaims, Option<User>)>, TokenError> {
    let keys = state.keys().await?;
    let Some(claims) = keys.verify::<AccessClaims>(token, "at+jwt", false) else { return Ok(None) };
    if claims.iss != state.issuer_str() {
        return Ok(None);
    }
    // A disabled or deleted client's tokens end with it.
    if state.client(&claims.client_id).await?.is_none() {
        return Ok(None);
    }
    let Some(family) = claims.fam.clone() else { return Ok(Some((claims, None))) };
    let sub = claims.sub.clone();
    // The gate, with the methods the token says its sign-in used.
    let amr = claims.amr.as_ref().and_then(|values| Amr::from_stored(&values.join(" "))).unwrap_or(Amr::Pwd);
    let (totp_enabled, now) = (state.totp_enabled, state.clock.now());
    let live = state
        .db
        .run(move |conn| -> Result<Option<User>, crate::store::StoreError> {
            if tokens::family_revoked(conn, &family)? {
                return Ok(None);
            }
            Ok(gate::check(conn, &sub, amr, crate::auth::gate::Demand::default(), totp_enabled, now)?
                .ok()
                .map(|s| s.user))
        })
        .await?;
    Ok(live.map(|user| (claims, Some(user))))
}

async fn userinfo(state: &AppState, req: &HttpRequest, body_token: Option<String>) -> HttpResponse {
    let header_token = dpop::authorization(req);
    let (scheme, token) =
        match (header_token, body_token.filter(|t| !t.is_empty()).map(|t| (Scheme::Bearer, t))) {
            (Some(_), Some(_)) => {
                return bearer_error(
                    StatusCode::BAD_REQUEST,
                    Some("invalid_request"),
                    "use one way to send the token",
                );
            }
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => {
                return bearer_error(StatusCode::UNAUTHORIZED, None, "an access token is required");
            }
        };
    match check_access_token(state, &token).await {
        Ok(Some((claims, Some(user)))) => {
            match dpop::binding_holds(state, req, scheme, &token, &claims).await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return dpop::refused(reason),
                Err(err) => return oauth::token_error(&err),
            }
            if !has_scope(&claims.scope, "openid") {
                return bearer_error(
                    StatusCode::FORBIDDEN,
                    Some("insufficient_scope"),
                    "the token lacks the openid scope",
                );
            }
            let mut body = crate::oidc::claims::user_claims(&user, &claims.scope, &claims.uic);
            body.insert("sub".to_owned(), json!(user.id));
            HttpResponse::Ok().json(body)
        }
        Ok(_) => bearer_error(
            StatusCode::UNAUTHORIZED,
            Some("invalid_token"),
            "the access token is invalid, expired or revoked",
        ),
        Err(err) => oauth::token_error(&err),
    }
}

pub async fn get_userinfo(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    userinfo(&state, &req, None).await
}

pub async fn post_userinfo(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<UserinfoForm>, actix_web::Error>,
) -> HttpResponse {
    let token = form.ok().and_then(|f| f.into_inner().access_token);
    userinfo(&state, &req, token).await
}

// No Debug: it holds a secret that must never reach a log.
#[derive(Default, Deserialize)]
pub struct TokenForm {
    token: Option<String>,
    #[expect(dead_code, reason = "accepted per RFC 7009 §2.1; every token type is looked up anyway")]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The authenticated client of a revocation or introspection request, and its token.
async fn client_and_token(
    state: &AppState,
    req: &HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> Result<(crate::store::clients::Client, String), TokenError> {
    let form =
        form.map_err(|_| TokenError::InvalidRequest("the request body is not a valid form"))?.into_inner();
    let client =
        authenticate(state, &presented(req, form.client_id.as_deref(), form.client_secret.as_deref())?)
            .await?;
    let token = form.token.filter(|t| !t.is_empty()).ok_or(TokenError::InvalidRequest("token is missing"))?;
    Ok((client, token))
}

/// RFC 7009: revokes a refresh token's family, or an access token's grant; always 200
/// for a token that is unknown or not the client's.
pub async fn post_revoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> HttpResponse {
    let result = async {
        let (client, token) = client_and_token(&state, &req, form).await?;
        let now = state.clock.now();
        let family = match state.keys().await?.verify::<AccessClaims>(&token, "at+jwt", true) {
            Some(claims) if claims.client_id == client.id => claims.fam,
            Some(_) => None,
            None => {
                let (hash, client_id) = (secret_hash(&token), client.id.clone());
                state
                    .db
                    .run(move |conn| tokens::find(conn, &hash))
                    .await?
                    .filter(|row| row.client_id == client_id)
                    .map(|row| row.family_id)
            }
        };
        if let Some(family) = family {
            state.db.run(move |conn| tokens::revoke_family(conn, &family, now)).await?;
        }
        Ok::<_, TokenError>(())
    };
    match result.await {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(err) => oauth::token_error(&err),
    }
}

/// RFC 7662, for confidential clients.
pub async fn post_introspect(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: Result<web::Form<TokenForm>, actix_web::Error>,
) -> HttpResponse {
    let result = async {
        let (client, token) = client_and_token(&state, &req, form).await?;
        if client.secret_hash.is_none() {
            return Err(TokenError::InvalidClient);
        }
        // Access tokens of this client's tenant only: a client of one organisation learns
        // nothing about another's tokens.
        let same_tenant = |claims: &AccessClaims| {
            let (state, id) = (state.clone(), claims.client_id.clone());
            async move {
                Ok::<_, TokenError>(state.client(&id).await?.is_some_and(|c| c.tenant_id == client.tenant_id))
            }
        };
        if let Some((claims, user)) = check_access_token(&state, &token).await?
            && same_tenant(&claims).await?
        {
            let token_type = if claims.cnf.is_some() { "DPoP" } else { "Bearer" };
            let mut body = json!({
                "active": true, "token_type": token_type, "scope": claims.scope, "client_id": claims.client_id,
                "sub": claims.sub, "aud": claims.aud, "iss": claims.iss, "exp": claims.exp, "iat": claims.iat, "jti": claims.jti,
            });
            if let Some(user) = user {
                body["username"] = json!(user.username);
            }
            if let Some(cnf) = &claims.cnf {
                body["cnf"] = json!({ "jkt": cnf.jkt });
            }
            return Ok(body);
        }
        let (hash, now) = (secret_hash(&token), state.clock.now());
        let row = state.db.run(move |conn| tokens::find(conn, &hash)).await?;
        Ok(match row {
            Some(row)
                if row.client_id == client.id
                    && row.revoked_at.is_none()
                    && row.rotated_at.is_none()
                    && row.expires_at > now =>
            {
                json!({ "active": true, "token_type": "refresh_token", "scope": row.scope, "client_id": row.client_id,
                        "sub": row.user_id, "exp": row.expires_at, "iat": row.created_at, "iss": state.issuer_str() })
            }
            _ => json!({ "active": false }),
        })
    };
    match result.await {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(err) => oauth::token_error(&err),
    }
}
