//! Several authenticators on the account page: adding one (a fresh code from an
//! existing one, or a recovery code; then its own first code confirms it) and removing
//! one (a fresh code; never the last). Both need a session signed in with a second factor.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::credentials::{self, CodeCheck};
use crate::auth::enrolment::{self, Removal};
use crate::auth::errors::LoginError;
use crate::http::cookies::SignedIn;
use crate::http::cookies::with_session;
use crate::http::state::AppState;
use crate::http::{origin, see_other};

// No Debug: it holds a code.
#[derive(Deserialize)]
pub struct AddForm {
    csrf: Option<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    code: String,
}

// No Debug: it holds a code.
#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// A current code of an existing authenticator — or, to add one, a recovery code (its
/// longer, dashed form tells it apart).
async fn proves_a_factor(
    state: &AppState,
    req: &HttpRequest,
    me: &SignedIn,
    code: &str,
    recovery_allowed: bool,
) -> Result<bool, LoginError> {
    let (origin, now) = (origin(req, Some(&me.user.id)), state.clock.now());
    // A TOTP code is 6 to 8 digits (spaces allowed, as at sign-in); anything else is
    // taken for a recovery code (`xxxx-xxxx-xxxx`).
    let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let looks_like_totp = (6..=8).contains(&compact.len()) && compact.chars().all(|c| c.is_ascii_digit());
    if recovery_allowed && !looks_like_totp {
        return credentials::use_recovery_code(state.guard(), &me.user.id, code, &origin, now).await;
    }
    Ok(credentials::verify_active(state.guard(), &me.user.id, code, &origin, now).await? == CodeCheck::Valid)
}

/// `POST /account/totp/add`: a new pending authenticator under a label, confirmed on
/// the enrolment page by its own first code; the others stay.
pub async fn post_add(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<AddForm>,
) -> HttpResponse {
    let form = form.into_inner();
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        let label = match enrolment::label(&form.label) {
            Ok(label) => label,
            Err(message) => return me.refused_on_account(&state, message).await,
        };
        let status = credentials::status(&state.db, &me.user.id).await?;
        if !status.can_add {
            return me.refused_on_account(&state, "refused-most").await;
        }
        if !proves_a_factor(&state, &req, &me, &form.code, true).await? {
            return me.refused_on_account(&state, "invalid-code").await;
        }
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        enrolment::start_addition(&state.db, &state.keyring, &me.user.id, label, &origin, now).await?;
        Ok(see_other("/account/totp"))
    })
    .await
}

/// `POST /account/totp/{id}/remove`: removes one authenticator after a fresh code.
pub async fn post_remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> HttpResponse {
    let (credential_id, form) = (path.into_inner(), form.into_inner());
    with_session(&state, &req, form.csrf.as_deref(), async |me| {
        if !me.multi_factor() {
            return Ok(see_other("/account"));
        }
        if !proves_a_factor(&state, &req, &me, &form.code, false).await? {
            return me.refused_on_account(&state, "invalid-code").await;
        }
        let (origin, now) = (origin(&req, Some(&me.user.id)), state.clock.now());
        match enrolment::remove(&state.db, &me.user.tenant_id, &me.user.id, &credential_id, &origin, now)
            .await?
        {
            Removal::Removed => me.done_on_account(&state, "done-removed").await,
            Removal::LastOne => me.refused_on_account(&state, "refused-last").await,
            Removal::Unknown => me.refused_on_account(&state, "refused-not-yours").await,
        }
    })
    .await
}
