//! `/authorize` (GET and POST, OpenID Connect Core §3.1.2): the client and the exact
//! redirect URI are checked before anything else — failures there are pages, never
//! redirects — then the request (errors redirected with `error`, `state`, `iss`), then
//! an existing SSO session either answers it or a login flow starts, its sign-in page
//! shown in the same answer ([`crate::http::login::begin`]). After the login,
//! `/authorize/resume` asks for consent where needed and returns the code.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tera::Context;

use crate::auth::errors::LoginError;
use crate::auth::flow::{Amr, LoginState};
use crate::auth::login::{self, AuthRequest, Flow};
use crate::http::redirects::{back_to_client, redirect_error};
use crate::http::state::AppState;
use crate::http::{cookies, errors, flows, i18n, pages};
use crate::oidc::authorize::{self, AuthorizeParams, Checked, RedirectError};
use crate::oidc::{clients, par};
use crate::store::StoreError;

/// A sign-in link that cannot go back to its application; `message` is a message key.
fn bad_request(req: &HttpRequest, message: &str) -> HttpResponse {
    let lang = i18n::negotiate(req, None, None);
    pages::message_in(lang, StatusCode::BAD_REQUEST, &lang.t("link-invalid-title"), &lang.t(message), None)
}

fn store_error(req: &HttpRequest, err: StoreError) -> HttpResponse {
    errors::login_error(req, &LoginError::from(err))
}

pub async fn get_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuthorizeParams>,
) -> HttpResponse {
    authorize(&state, &req, query.into_inner()).await
}

pub async fn post_authorize(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AuthorizeParams>,
) -> HttpResponse {
    authorize(&state, &req, form.into_inner()).await
}

async fn authorize(state: &AppState, req: &HttpRequest, params: AuthorizeParams) -> HttpResponse {
    // A pushed request's URI works once, so its sign-in page must not be at that URL.
    let pushed = params.request_uri.is_some();
    // A pushed request (RFC 9126) stands in for everything but client_id.
    let params = match par::resolve(&state.ephemeral, params, state.clock.now()).await {
        Ok(Ok(params)) => params,
        Ok(Err(par::Unusable::Gone)) => return bad_request(req, "link-request-uri-gone"),
        Ok(Err(par::Unusable::OtherClient)) => return bad_request(req, "link-request-uri-client"),
        Err(err) => return errors::login_error(req, &LoginError::from(err)),
    };
    let Some(client_id) = params.client_id.clone().filter(|c| !c.is_empty() && c.len() <= 128) else {
        return bad_request(req, "link-no-client");
    };
    let client = match state.client(&client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return bad_request(req, "link-unknown-client"),
        Err(err) => return store_error(req, err),
    };
    // Exact string match against the registered URIs (RFC 6749 §3.1.2.3; OIDC Core §3.1.2.1).
    let Some(asked) = params.redirect_uri.clone().filter(|r| !r.is_empty()) else {
        return bad_request(req, "link-no-redirect");
    };
    let Some(redirect_uri) = Some(asked).filter(|r| clients::redirect_uris(&client).iter().any(|u| u == r))
    else {
        return bad_request(req, "link-unregistered-redirect");
    };
    // Echoed in an error only when it is one we would keep (not a huge Location).
    let oauth_state = params.state.clone().filter(|s| s.len() <= authorize::MAX_STATE);
    // A bounded hint, never an error (the pages fall back to other signals).
    let ui_locales = params.ui_locales.clone().filter(|u| u.len() <= 128);
    let checked = match authorize::check(
        params,
        &client.id,
        &redirect_uri,
        client.secret_hash.is_none(),
        client.require_mfa,
    ) {
        Ok(checked) => checked,
        Err(err) => {
            return back_to_client(
                state,
                &redirect_uri,
                oauth_state.as_deref(),
                &[("error", err.error), ("error_description", err.description)],
            );
        }
    };
    let now = state.clock.now();
    let session = match cookies::signed_in(state, req).await {
        Ok(session) => session.filter(|s| s.user.tenant_id == client.tenant_id),
        Err(err) => return errors::login_error(req, &err),
    };
    let devices = crate::auth::remembered::Terms {
        max_age: checked.max_age,
        ..crate::auth::gate::Demand::of(&client, false).devices
    };
    let usable =
        session.as_ref().filter(|s| authorize::session_satisfies(&checked, &devices, &s.session, now));
    if checked.prompt.none {
        let Some(me) = usable else {
            let error = match &session {
                // Signed in, but this request needs more than the session has.
                Some(s)
                    if !checked.prompt.login
                        && checked.max_age.is_none_or(|m| now - s.session.auth_time <= m) =>
                {
                    "interaction_required"
                }
                _ => "login_required",
            };
            return redirect_error(
                state,
                &checked.request,
                RedirectError { error, description: "the user must sign in" },
            );
        };
        return match code_now(state, &checked.request, client.trusted, false, &me.user.id, &me.session.id)
            .await
        {
            Ok(Some(answer)) => answer,
            Ok(None) => redirect_error(
                state,
                &checked.request,
                RedirectError { error: "consent_required", description: "the user must consent" },
            ),
            Err(err) => errors::login_error(req, &err),
        };
    }
    let mut flow = Flow::new(client.tenant_id.clone(), Some(checked.request.clone()), None, now);
    flow.consent_asked = checked.prompt.consent;
    flow.ui_locales = ui_locales;
    flow.devices = devices;
    match usable {
        // Signed in already and nothing to ask: the code at once (one request, one trip).
        Some(me) if !flow.consent_asked => {
            match code_now(state, &checked.request, client.trusted, false, &me.user.id, &me.session.id).await
            {
                Ok(Some(answer)) => answer,
                Ok(None) => resume_with(state, req, flow, me).await,
                Err(err) => errors::login_error(req, &err),
            }
        }
        Some(me) => resume_with(state, req, flow, me).await,
        None => {
            flow.login_hint = login_hint(&checked, session.as_ref().map(|s| s.user.username.as_str()));
            if pushed {
                // A reload of the sign-in page must not present the spent request_uri again.
                flows::start_and_go(state, req, flow, "/login").await
            } else {
                crate::http::login::begin(state, req, flow).await
            }
        }
    }
}

/// Goes on to `/authorize/resume` (the consent page) with the browser's session.
async fn resume_with(
    state: &AppState,
    req: &HttpRequest,
    mut flow: Flow,
    me: &cookies::SignedIn,
) -> HttpResponse {
    let amr = Amr::from_stored(&me.session.amr).unwrap_or(Amr::Pwd);
    flow.state =
        LoginState::Authenticated { user_id: me.user.id.clone(), amr, auth_time: me.session.auth_time };
    flow.session_id = Some(me.session.id.clone());
    flows::start_and_go(state, req, flow, "/authorize/resume").await
}

fn login_hint(checked: &Checked, signed_in_as: Option<&str>) -> Option<String> {
    checked.login_hint.clone().or_else(|| signed_in_as.map(str::to_owned))
}

/// The authorization answered at once — the code issued and the browser sent back —
/// when nothing is left to ask (`oidc::authorize::code_unless_consent`, one trip);
/// `None` when the user must consent first.
async fn code_now(
    state: &AppState,
    request: &AuthRequest,
    trusted: bool,
    asked: bool,
    user_id: &str,
    session_id: &str,
) -> Result<Option<HttpResponse>, LoginError> {
    let now = state.clock.now();
    let (asking, user, session) = (request.clone(), user_id.to_owned(), session_id.to_owned());
    let code = state
        .db
        .run(move |conn| {
            conn.write(|conn| {
                authorize::code_unless_consent(conn, &asking, trusted, asked, &user, &session, now)
            })
        })
        .await?;
    Ok(code.map(|code| {
        back_to_client(state, &request.redirect_uri, request.state.as_deref(), &[("code", &code)])
    }))
}

/// The flow the request names, finished by a login, and its still-live session.
async fn authenticated(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<(String, Flow, AuthRequest, String, String)>, LoginError> {
    let Some(at) = flows::named(state, req) else { return Ok(None) };
    let id = at.key.clone();
    let Some(flow) = login::load_flow(&state.ephemeral, &id, state.clock.now()).await? else {
        return Ok(None);
    };
    let (LoginState::Authenticated { user_id, .. }, Some(request), Some(session_id)) =
        (&flow.state, &flow.request, &flow.session_id)
    else {
        return Ok(None);
    };
    // The flow must belong to the session this browser holds (no flow fixation).
    let me = cookies::signed_in(state, req).await?;
    if me.as_ref().is_none_or(|m| &m.session.id != session_id || &m.user.id != user_id) {
        return Ok(None);
    }
    let (request, user_id, session_id) = (request.clone(), user_id.clone(), session_id.clone());
    Ok(Some((id, flow, request, user_id, session_id)))
}

pub async fn get_resume(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let Some((id, flow, request, user_id, session_id)) = authenticated(&state, &req).await? else {
            return Ok(errors::flow_missing(&req));
        };
        let Some(client) = state.client(&request.client_id).await? else {
            return Ok(errors::flow_missing(&req));
        };
        if let Some(answer) =
            code_now(&state, &request, client.trusted, flow.consent_asked, &user_id, &session_id).await?
        {
            login::delete_flow(&state.ephemeral, &id).await?;
            return Ok(answer);
        }
        // Consent first.
        let mut ctx = Context::new();
        ctx.insert("csrf", &flow.csrf);
        ctx.insert("error", &None::<&str>);
        ctx.insert("flow", &flows::named(&state, &req).map(|at| at.handle));
        let brand = state.brand(&flow.tenant_id).await?;
        let tenant_default = brand.as_ref().and_then(|b| b.default_language.as_deref());
        let lang = i18n::negotiate(&req, flow.ui_locales.as_deref(), tenant_default);
        ctx.insert("lang", lang.code());
        if let Some(brand) = &brand {
            pages::brand(&mut ctx, &flow.tenant_id, brand);
        }
        ctx.insert("client_name", &client.name);
        let consented = authorize::consent_scope(&request);
        let scopes: Vec<&str> = consented.split(' ').filter(|s| *s != "openid").collect();
        ctx.insert("scopes", &scopes);
        Ok(pages::render(StatusCode::OK, "consent.html", &ctx))
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}

#[derive(Debug, Deserialize)]
pub struct ConsentForm {
    csrf: Option<String>,
    #[serde(default)]
    decision: String,
}

pub async fn post_consent(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ConsentForm>,
) -> HttpResponse {
    let result = async {
        let Some((id, flow, request, user_id, session_id)) = authenticated(&state, &req).await? else {
            return Ok(errors::flow_missing(&req));
        };
        if !cookies::csrf_matches(&flow.csrf, form.csrf.as_deref()) {
            return Ok(errors::csrf_refused(&req));
        }
        login::delete_flow(&state.ephemeral, &id).await?;
        let response = if form.decision == "allow" {
            let (asking, user, session, now) =
                (request.clone(), user_id.clone(), session_id.clone(), state.clock.now());
            // The consent and the code in one transaction.
            let code = state
                .db
                .run(move |conn| {
                    conn.write(|conn| {
                        let scope = authorize::consent_scope(&asking);
                        authorize::save_consent(conn, &user, &asking.client_id, &scope, now)?;
                        authorize::issue_code(conn, &asking, &user, &session, now)
                    })
                })
                .await?;
            back_to_client(&state, &request.redirect_uri, request.state.as_deref(), &[("code", &code)])
        } else {
            redirect_error(
                &state,
                &request,
                RedirectError { error: "access_denied", description: "the user declined" },
            )
        };
        Ok(response)
    };
    result.await.unwrap_or_else(|e| errors::login_error(&req, &e))
}
