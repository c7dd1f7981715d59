//! The profile pages: `/account/profile`, where users edit their own name, e-mail
//! address and profile claims, and `/admin/users/{id}/profile`, where a parent with
//! `create` (or `admin`) over a user edits them. One form and one template serve both; a
//! refused field shows the form again with what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::errors::LoginError;
use crate::http::admin::{noted, run, with_admin};
use crate::http::cookies::{self, SignedIn, with_session};
use crate::http::notes::Note;
use crate::http::state::AppState;
use crate::http::{origin, pages};
use crate::tenancy::admin::{self, AdminError};
use crate::tenancy::permissions::Action;
use crate::tenancy::profile::{self, Address, Profile, ProfileError};
use crate::text::Refusal;

/// The profile form, as posted.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    csrf: Option<String>,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    family_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone_number: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    zoneinfo: String,
    #[serde(default)]
    street_address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    locality: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    country: String,
}

impl ProfileForm {
    /// The typed profile (not yet checked) and the form's CSRF token.
    fn into_parts(self) -> (Profile, Option<String>) {
        let typed = Some;
        let profile = Profile {
            display_name: typed(self.display_name),
            given_name: typed(self.given_name),
            family_name: typed(self.family_name),
            email: typed(self.email),
            phone_number: typed(self.phone_number),
            locale: typed(self.locale),
            zoneinfo: typed(self.zoneinfo),
            address: Some(Address {
                street_address: typed(self.street_address),
                postal_code: typed(self.postal_code),
                locality: typed(self.locality),
                region: typed(self.region),
                country: typed(self.country),
            }),
        };
        (profile, self.csrf)
    }
}

/// Where the form is posted, whose profile it is, and where "back" goes.
struct Form<'a> {
    action: &'a str,
    username: &'a str,
    back: &'a str,
    own: bool,
}

fn form_page(me: &SignedIn, form: &Form<'_>, profile: &Profile, refused: Option<&Refusal>) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("action", form.action);
    ctx.insert("username", form.username);
    ctx.insert("back", form.back);
    ctx.insert("own", &form.own);
    ctx.insert("p", profile);
    ctx.insert("address", &profile.address.clone().unwrap_or_default());
    ctx.insert("max_chars", &profile::MAX_CHARS);
    let status = match refused {
        Some(why) => {
            ctx.insert("error", &why.in_lang(me.lang));
            StatusCode::BAD_REQUEST
        }
        None => StatusCode::OK,
    };
    pages::render(status, "profile.html", &ctx)
}

fn own_form(me: &SignedIn) -> Form<'_> {
    Form { action: "/account/profile", username: &me.user.username, back: "/account", own: true }
}

pub async fn get_account_profile(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result = async {
        let Some(me) = cookies::signed_in(&state, &req).await? else {
            return Ok(crate::http::see_other("/account"));
        };
        let me = me.with_note(&state, &req).await?;
        Ok::<_, LoginError>(form_page(&me, &own_form(&me), &Profile::of(&me.user), None))
    };
    result.await.unwrap_or_else(|e| crate::http::errors::login_error(&req, &e))
}

pub async fn post_account_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ProfileForm>,
) -> HttpResponse {
    let (typed, csrf) = form.into_inner().into_parts();
    with_session(&state, &req, csrf.as_deref(), async |me| {
        let (user_id, origin, now) = (me.user.id.clone(), origin(&req, Some(&me.user.id)), state.clock.now());
        let kept = typed.clone();
        let changed = state
            .db
            .run(move |conn| Ok::<_, LoginError>(profile::update_own(conn, &user_id, kept, &origin, now)))
            .await?;
        match changed {
            Ok(_) => me.done_on_account(&state, "done-profile").await,
            Err(ProfileError::Invalid(why)) => Ok(form_page(&me, &own_form(&me), &typed, Some(&why))),
            // The user went while its session lived: the account page signs in afresh.
            Err(ProfileError::NotFound) => Ok(crate::http::see_other("/account")),
            Err(ProfileError::Store(e)) => Err(e.into()),
        }
    })
    .await
}

pub async fn get_user_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        // Shown only to someone allowed to save it.
        admin.may(Action::EditProfile, Some(&id))?;
        let target = id.clone();
        let (user, _) = run(&state, admin, move |c, a| admin::get_user(c, a, &target)).await?;
        let (action, back) = (format!("/admin/users/{id}/profile"), format!("/admin/users/{id}"));
        let form = Form { action: &action, username: &user.username, back: &back, own: false };
        Ok(form_page(&me, &form, &user.profile, None))
    })
    .await
}

pub async fn post_user_profile(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ProfileForm>,
) -> HttpResponse {
    let id = path.into_inner();
    let (typed, csrf) = form.into_inner().into_parts();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(csrf.as_deref()), async |me, admin| {
        let (target, kept) = (id.clone(), typed.clone());
        // A refused profile comes back with the user's name, for the form shown again.
        let (refused, _) = run(&state, admin, move |c, a| {
            match admin::update_child_profile(c, a, &target, kept, &origin, now) {
                Ok(_) => Ok(None),
                Err(AdminError::Invalid(why)) => Ok(Some((why, admin::get_user(c, a, &target)?.username))),
                Err(other) => Err(other),
            }
        })
        .await?;
        let back = format!("/admin/users/{id}");
        let Some((why, username)) = refused else {
            return noted(&state, &me, &back, Note::success(me.lang.t("admin-done-profile")), &[]).await;
        };
        let action = format!("/admin/users/{id}/profile");
        let form = Form { action: &action, username: &username, back: &back, own: false };
        Ok(form_page(&me, &form, &typed, Some(&why)))
    })
    .await
}
