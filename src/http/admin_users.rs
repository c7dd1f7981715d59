//! The admin pages of users: the list, one user, and creating one.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;

use crate::http::admin::{noted, refusal, run, with_admin};
use crate::http::cookies::SignedIn;
use crate::http::notes::{self, Found, Note};
use crate::http::queries::ListQuery;
use crate::http::state::AppState;
use crate::http::{origin, pages, see_other};
use crate::tenancy::Permission;
use crate::tenancy::admin::{self, Admin, AdminError};
use crate::tenancy::creation::{self, NewChild};
use crate::tenancy::naming;

pub async fn get_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ListQuery>,
) -> HttpResponse {
    let ListQuery { q, page } = query.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let search = q.clone();
        let (list, admin) =
            run(&state, admin, move |c, a| admin::list_users(c, a, search.as_deref(), page.unwrap_or(1)))
                .await?;
        let mut ctx = me.context();
        let q = q.unwrap_or_default();
        // The search again, for the previous and next pages' links (tera here has no
        // urlencode filter; the serializer escapes, so the text is safe in the page).
        let search: String =
            url::form_urlencoded::Serializer::new(String::new()).append_pair("q", &q).finish();
        ctx.insert("search", &search);
        ctx.insert("q", &q);
        ctx.insert("users", &list.users);
        ctx.insert("total", &list.total);
        ctx.insert("page", &list.page);
        ctx.insert("has_next", &(list.page * list.per_page < list.total));
        ctx.insert("can_create", &(admin.permission() >= Permission::Create));
        ctx.insert("is_root_admin", &(admin.is_root() && admin.permission() == Permission::Admin));
        Ok(pages::render(StatusCode::OK, "admin_users.html", &ctx))
    })
    .await
}

pub async fn get_user(state: web::Data<AppState>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let (id, now, globally) = (path.into_inner(), state.clock.now(), state.totp_enabled);
    with_admin(&state, &req, None, async |me, admin| {
        let ((user, devices, explained), admin) = run(&state, admin, move |c, a| {
            Ok((
                admin::get_user(c, a, &id)?,
                crate::tenancy::devices::list(c, a, &id, now)?,
                crate::tenancy::explain::explain_user(c, a, &id, globally)?,
            ))
        })
        .await?;
        let mut ctx = me.context();
        ctx.insert("policy", &explained);
        ctx.insert(
            "activated",
            &user.totp_activated_at.map(|t| pages::format_time_in(me.lang, t).1).unwrap_or_default(),
        );
        let can_edit_profile =
            admin.may(crate::tenancy::permissions::Action::EditProfile, Some(&user.id)).is_ok();
        ctx.insert("can_edit_profile", &can_edit_profile);
        ctx.insert("u", &user);
        ctx.insert("devices", &pages::listed(&devices, me.lang));
        ctx.insert("forget_base", &format!("/admin/users/{}/devices", user.id));
        Ok(pages::render(StatusCode::OK, "admin_user.html", &ctx))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewQuery {
    parent: Option<String>,
}

/// The create-a-user page; after a refusal, with its message and what was typed.
fn new_user_page(me: &SignedIn, admin: &Admin, parent: &str) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("parent", parent);
    ctx.insert("prefix", &naming::prefix_of(&admin.user, &admin.tree));
    ctx.insert("typed", &me.note.as_ref().map(|f| &f.note.typed));
    pages::render(StatusCode::OK, "admin_new.html", &ctx)
}

/// `GET /admin/users/created?note=…`: the user just created and its one-time password,
/// shown once.
pub async fn get_created(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    with_admin(&state, &req, None, async |me, _| match me.note.as_ref().filter(|f| !f.secrets.is_empty()) {
        Some(found) => Ok(created_page(&me, found)),
        None => Ok(see_other("/admin")),
    })
    .await
}

fn created_page(me: &SignedIn, found: &Found) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("success", &found.note.text);
    ctx.insert("created", &found.note.typed.get("username"));
    ctx.insert("password", &found.secrets.first());
    pages::render(StatusCode::OK, "admin_new.html", &ctx)
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn get_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<NewQuery>,
) -> HttpResponse {
    let parent = query.into_inner().parent;
    with_admin(&state, &req, None, async |me, admin| {
        let parent = parent.filter(|p| !p.is_empty()).unwrap_or_else(|| admin.user.id.clone());
        admin.may(crate::tenancy::permissions::Action::CreateChild, Some(&parent))?;
        Ok(new_user_page(&me, &admin, &parent))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewForm {
    csrf: Option<String>,
    #[serde(default)]
    username: String,
    parent_id: Option<String>,
    #[serde(default)]
    kind: String,
    email: Option<String>,
    #[serde(default)]
    permission: String,
    totp_required: Option<String>,
}

pub async fn post_new(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(form.csrf.as_deref()), async |me, admin| {
        let new = NewChild {
            username: form.username,
            parent_id: form.parent_id.filter(|p| !p.is_empty()),
            kind: if form.kind.is_empty() { "internal".into() } else { form.kind },
            email: form.email,
            display_name: None,
            totp_required: form.totp_required.as_deref() == Some("on"),
            permission: if form.permission.is_empty() { "none".into() } else { form.permission },
        };
        let parent = new.parent_id.clone().unwrap_or_default();
        let typed = new.clone();
        let created = creation::create_child(&state.db, &state.hasher, admin, new, origin, now).await;
        match created {
            Ok((user, password)) => {
                let created = me
                    .lang
                    .t_with("admin-done-created", &[("user", FluentValue::from(user.username.clone()))]);
                let note = Note::success(created).typed("username", &user.username);
                let show = async |found: Found| Ok(created_page(&me, &found));
                notes::redirect_or_show(
                    &state,
                    &me.session.id,
                    "/admin/users/created",
                    note,
                    &[password],
                    show,
                )
                .await
            }
            // The form again, with what was typed and what to change.
            Err(err @ (AdminError::Invalid(_) | AdminError::Duplicate(_))) => {
                let mut note = Note::error(refusal(me.lang, &err))
                    .typed("username", &typed.username)
                    .typed("kind", &typed.kind)
                    .typed("permission", &typed.permission)
                    .typed("email", typed.email.as_deref().unwrap_or_default());
                if typed.totp_required {
                    note = note.typed("totp_required", "on");
                }
                let to = format!("/admin/users/new?parent={}", urlencoding(&parent));
                noted(&state, &me, &to, note, &[]).await
            }
            Err(other) => Err(other),
        }
    })
    .await
}
