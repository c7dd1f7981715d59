//! The flow and session cookies: `HttpOnly`, `SameSite=Lax` (the RP's redirect to us
//! is a cross-site top-level navigation), and `Secure` with the `__Host-` prefix when
//! the issuer is https. Plus the session lookup and its CSRF token.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse};
use subtle::ConstantTimeEq;

use crate::auth::errors::LoginError;
use crate::auth::flow::Amr;
use crate::auth::gate;
use crate::http::i18n::{self, Lang};
use crate::http::notes::{Found, Note};
use crate::http::pages;
use crate::http::state::AppState;
use crate::store::sessions::{self, Session};
use crate::store::users::User;
use crate::tenancy::branding::Brand;

fn secure(state: &AppState) -> bool {
    state.issuer.is_https()
}

fn name(state: &AppState, base: &'static str) -> &'static str {
    match (secure(state), base) {
        (true, "ww_flow") => "__Host-ww_flow",
        (true, "ww_session") => "__Host-ww_session",
        (true, "ww_device") => "__Host-ww_device",
        (true, "ww_remember") => "__Host-ww_remember",
        (_, other) => other,
    }
}

pub fn flow_name(state: &AppState) -> &'static str {
    name(state, "ww_flow")
}

pub fn session_name(state: &AppState) -> &'static str {
    name(state, "ww_session")
}

/// The device cookie: a year long, so that a browser stays known between sign-ins.
pub fn device_name(state: &AppState) -> &'static str {
    name(state, "ww_device")
}

pub fn device(state: &AppState, value: String) -> Cookie<'static> {
    let mut cookie = make(state, device_name(state), value);
    cookie.set_max_age(Duration::days(crate::auth::devices::LIFETIME_DAYS));
    cookie
}

/// The device cookie's value, if any (longer than the other cookies, still bounded).
pub fn device_value(state: &AppState, req: &HttpRequest) -> Option<String> {
    req.cookie(device_name(state))
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= crate::auth::devices::MAX_LEN)
}

/// The remember-this-device cookie ([`crate::auth::remembered`]).
pub fn remembered_name(state: &AppState) -> &'static str {
    name(state, "ww_remember")
}

/// The remember-this-device cookie for `token`, kept as long as the tenant remembers.
pub fn remembered(state: &AppState, token: String, days: i32) -> Cookie<'static> {
    let mut cookie = make(state, remembered_name(state), token);
    cookie.set_max_age(Duration::days(i64::from(days)));
    cookie
}

/// A cookie for `value`, scoped to the whole issuer.
pub fn make(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(secure(state))
        .same_site(SameSite::Lax)
        .finish()
}

/// The cookie that deletes `name` in the browser.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut cookie = make(state, name, String::new());
    cookie.set_max_age(Duration::ZERO);
    cookie
}

pub fn value(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name).map(|c| c.value().to_owned()).filter(|v| !v.is_empty() && v.len() <= 128)
}

/// Compares a submitted CSRF token with the expected one in constant time.
pub fn csrf_matches(expected: &str, submitted: Option<&str>) -> bool {
    submitted.is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes())))
}

/// The signed-in browser: its session, user, the CSRF token of its forms, and the note
/// the page was sent with ([`crate::http::notes`]; read by the pages that show one).
pub struct SignedIn {
    pub session: Session,
    pub user: User,
    pub csrf: String,
    pub note: Option<Found>,
    /// The user's tenant's branding, for its pages.
    pub brand: Brand,
    /// The language of its pages, and the page asked for (for the language switcher).
    pub lang: Lang,
    pub here: String,
}

impl SignedIn {
    /// Whether the session was signed in with a second factor at all: only such a session
    /// may touch the user's authenticators or recovery codes.
    pub(crate) fn multi_factor(&self) -> bool {
        Amr::from_stored(&self.session.amr).is_some_and(Amr::is_multi_factor)
    }

    /// Back to the account page, saying the message `key` (or a text as it is) there as
    /// an error, in the page's language.
    pub(crate) async fn refused_on_account(
        &self,
        state: &AppState,
        key: &str,
    ) -> Result<HttpResponse, LoginError> {
        self.to_account(state, Note::error(self.lang.t(key))).await
    }

    /// Back to the account page, saying the message `key` there as done.
    pub(crate) async fn done_on_account(
        &self,
        state: &AppState,
        key: &str,
    ) -> Result<HttpResponse, LoginError> {
        self.to_account(state, Note::success(self.lang.t(key))).await
    }

    async fn to_account(&self, state: &AppState, note: Note) -> Result<HttpResponse, LoginError> {
        crate::http::notes::redirect(state, &self.session.id, "/account", note, &[]).await
    }

    /// A page's context: the CSRF token, and the note's message as error or success.
    pub fn context(&self) -> tera::Context {
        let note = self.note.as_ref().map(|f| &f.note);
        let mut ctx = tera::Context::new();
        ctx.insert("csrf", &self.csrf);
        ctx.insert("error", &Note::error_text(note));
        ctx.insert("success", &Note::success_text(note));
        pages::brand(&mut ctx, &self.user.tenant_id, &self.brand);
        ctx.insert("lang", self.lang.code());
        if !self.here.is_empty() {
            ctx.insert("switch_url", &i18n::switch_url(self.lang, &self.here));
        }
        ctx
    }

    /// Reads the note the request names (once).
    pub async fn with_note(mut self, state: &AppState, req: &HttpRequest) -> Result<Self, LoginError> {
        self.note = crate::http::notes::read(state, &self.session.id, req, false).await?;
        Ok(self)
    }
}

/// The live session behind the request's cookie, if any.
pub async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Option<SignedIn>, LoginError> {
    let Some(token) = value(req, session_name(state)) else { return Ok(None) };
    let id = crate::random::secret_hash(&token);
    let (now, totp_enabled) = (state.clock.now(), state.totp_enabled);
    let found = state
        .db
        .run(move |conn| -> Result<Option<(Session, User, Brand)>, crate::store::StoreError> {
            let Some(session) = sessions::find_live(conn, &id, now)? else { return Ok(None) };
            // The gate: the user as it is now must still be allowed this session.
            let amr = Amr::from_stored(&session.amr).unwrap_or(Amr::Pwd);
            let Ok(standing) =
                gate::check(conn, &session.user_id, amr, gate::Demand::default(), totp_enabled, now)?
            else {
                return Ok(None);
            };
            // "Last seen" on the account page: written at most every few minutes.
            if session.last_seen_at.is_none_or(|at| now - at >= sessions::SEEN_EVERY) {
                sessions::seen(conn, &session.id, now)?;
            }
            Ok(Some((session, standing.user, Brand::of(&standing.tenant))))
        })
        .await?;
    // The token is a secret only this browser holds, so a hash of it makes a CSRF
    // token an attacker's page cannot know.
    let csrf = crate::random::secret_hash(&format!("csrf:{token}"));
    let here = req.uri().path_and_query().map_or_else(String::new, |p| p.as_str().to_owned());
    Ok(found.map(|(session, user, brand)| {
        let lang = i18n::negotiate(req, None, brand.default_language.as_deref());
        SignedIn { session, user, csrf, note: None, brand, lang, here }
    }))
}

/// Runs `f` for a signed-in browser whose form carried its CSRF token.
pub(crate) async fn with_session<F>(
    state: &AppState,
    req: &HttpRequest,
    csrf: Option<&str>,
    f: F,
) -> HttpResponse
where
    F: AsyncFnOnce(SignedIn) -> Result<HttpResponse, LoginError>,
{
    let result = async {
        let Some(me) = signed_in(state, req).await? else {
            return Ok(HttpResponse::SeeOther().insert_header((LOCATION, "/account")).finish());
        };
        if !csrf_matches(&me.csrf, csrf) {
            return Ok(crate::http::errors::csrf_refused(req));
        }
        f(me).await
    };
    result.await.unwrap_or_else(|e| crate::http::errors::login_error(req, &e))
}
