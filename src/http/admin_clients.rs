//! The admin pages of the tenant's clients (`/admin/clients`), for its root
//! administrators: register, change, rotate the secret of, disable, enable and delete a
//! relying party. A secret is shown once, on the page the browser lands on next.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;

use crate::http::admin::{noted, run, with_admin};
use crate::http::cookies::SignedIn;
use crate::http::notes::Note;
use crate::http::state::AppState;
use crate::http::{CsrfForm, origin, pages};
use crate::oidc::client_settings::{self, ClientChanges, Registration};
use crate::oidc::clients::{self, SECRET_GRACE};
use crate::store::audit::Origin;
use crate::store::clients::Client;
use crate::tenancy::admin::AdminError;
use crate::tenancy::permissions::Action;
use crate::tenancy::service::TenancyError;
use crate::text::Refusal;

fn refused(err: TenancyError) -> AdminError {
    match err {
        TenancyError::Store(err) => AdminError::Store(err),
        other => AdminError::Invalid(Refusal::text(other)),
    }
}

/// The lines of a textarea, trimmed, without empty ones.
fn lines(raw: &str) -> Vec<String> {
    raw.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn on(v: &Option<String>) -> bool {
    v.as_deref() == Some("on")
}

/// What a client's page shows of it.
fn shown(c: &Client) -> serde_json::Value {
    let mut view = client_settings::view(c, "");
    view["redirect_uris_text"] = clients::redirect_uris(c).join("\n").into();
    view["post_logout_text"] = clients::post_logout_redirect_uris(c).join("\n").into();
    view["client_scopes_text"] = clients::client_scopes(c).collect::<Vec<_>>().join(" ").into();
    view["backchannel_text"] = c.backchannel_logout_uri.clone().unwrap_or_default().into();
    view
}

pub async fn get_clients(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    with_admin(&state, &req, None, async |me, admin| {
        admin.may(Action::EditPolicy, None)?;
        let (list, _) =
            run(&state, admin, |c, a| Ok(crate::store::clients::list_by_tenant(c, &a.user.tenant_id)?))
                .await?;
        let mut ctx = me.context();
        ctx.insert("clients", &list.iter().map(shown).collect::<Vec<_>>());
        Ok(pages::render(StatusCode::OK, "admin_clients.html", &ctx))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct NewClientForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    public: Option<String>,
    trusted: Option<String>,
    require_mfa: Option<String>,
}

pub async fn post_clients(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<NewClientForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let now = state.clock.now();
    with_admin(&state, &req, Some(f.csrf.as_deref()), async |me, admin| {
        admin.may(Action::EditPolicy, None)?;
        let origin = origin(&req, Some(&admin.user.id));
        let registration = Registration {
            name: f.name.clone(),
            redirect_uris: lines(&f.redirect_uris),
            public: on(&f.public),
            trusted: on(&f.trusted),
            require_mfa: on(&f.require_mfa),
            ..Registration::default()
        };
        let (created, _) = run(&state, admin, move |c, a| {
            client_settings::register(c, &a.user.tenant_id, registration, &origin, now).map_err(refused)
        })
        .await?;
        let secrets: Vec<String> = created.secret.into_iter().collect();
        let note = Note::success(me.lang.t("admin-client-created"));
        noted(&state, &me, &format!("/admin/clients/{}", created.client.id), note, &secrets).await
    })
    .await
}

pub async fn get_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        admin.may(Action::EditPolicy, None)?;
        let target = id.clone();
        let found = run(&state, admin, move |c, a| {
            client_settings::client_in(c, &a.user.tenant_id, &target).map_err(|e| match e {
                TenancyError::UnknownClient(_) => AdminError::NotFound,
                other => refused(other),
            })
        })
        .await;
        match found {
            Ok((client, _)) => Ok(client_page(&me, &client)),
            Err(AdminError::NotFound) => {
                let lang = me.lang;
                let (title, back) = (lang.t("admin-client-unknown"), lang.t("admin-back-clients"));
                Ok(pages::message_in(
                    lang,
                    StatusCode::NOT_FOUND,
                    &title,
                    &title,
                    Some(("/admin/clients", &back)),
                ))
            }
            Err(other) => Err(other),
        }
    })
    .await
}

fn client_page(me: &SignedIn, client: &Client) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("c", &shown(client));
    // A secret just made (registration, rotation), shown this once.
    ctx.insert("secret", &me.note.as_ref().and_then(|f| f.secrets.first()));
    ctx.insert("algs", &["RS256", "ES256", "EdDSA"]);
    let checkboxes = vec![
        ("require_mfa", "admin-client-require-mfa", client.require_mfa),
        ("trusted", "admin-client-trusted", client.trusted),
        ("allow_remembered_devices", "admin-client-remembered", client.allow_remembered_devices),
        ("remembered_device_mfa", "admin-client-remembered-mfa", client.remembered_device_mfa),
        (
            "backchannel_logout_session_required",
            "admin-client-backchannel-sid",
            client.backchannel_logout_session_required,
        ),
    ];
    ctx.insert("checkboxes", &checkboxes);
    ctx.insert(
        "grace",
        &me.lang.t_with("admin-client-grace", &[("minutes", FluentValue::from(SECRET_GRACE / 60))]),
    );
    pages::render(StatusCode::OK, "admin_client.html", &ctx)
}

#[derive(Debug, Deserialize)]
pub struct ClientForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    require_mfa: Option<String>,
    trusted: Option<String>,
    allow_remembered_devices: Option<String>,
    remembered_device_mfa: Option<String>,
    #[serde(default)]
    id_token_alg: String,
    #[serde(default)]
    access_token_alg: String,
    #[serde(default)]
    client_scopes: String,
    #[serde(default)]
    backchannel_logout_uri: String,
    backchannel_logout_session_required: Option<String>,
}

/// An act on one client; then back to its page (or `to`), saying `done` (a message key).
async fn act<F>(
    state: &AppState,
    req: &HttpRequest,
    id: String,
    csrf: Option<String>,
    done: &str,
    f: F,
) -> HttpResponse
where
    F: FnOnce(&mut crate::store::DbConn, &str, &str, &Origin, i64) -> Result<Vec<String>, TenancyError>
        + Send
        + 'static,
{
    let now = state.clock.now();
    with_admin(state, req, Some(csrf.as_deref()), async |me, admin| {
        admin.may(Action::EditPolicy, None)?;
        let origin = origin(req, Some(&admin.user.id));
        let target = id.clone();
        let (secrets, _) =
            run(state, admin, move |c, a| f(c, &a.user.tenant_id, &target, &origin, now).map_err(refused))
                .await?;
        state.clients.forget(&id);
        noted(state, &me, &format!("/admin/clients/{id}"), Note::success(me.lang.t(done)), &secrets).await
    })
    .await
}

pub async fn post_client(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<ClientForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let changes = ClientChanges {
        name: Some(f.name),
        redirect_uris: Some(lines(&f.redirect_uris)),
        post_logout_redirect_uris: Some(lines(&f.post_logout_redirect_uris)),
        require_mfa: Some(on(&f.require_mfa)),
        trusted: Some(on(&f.trusted)),
        allow_remembered_devices: Some(on(&f.allow_remembered_devices)),
        remembered_device_mfa: Some(on(&f.remembered_device_mfa)),
        id_token_alg: Some(f.id_token_alg),
        access_token_alg: Some(f.access_token_alg),
        client_scopes: Some(f.client_scopes.split_whitespace().map(str::to_owned).collect()),
        backchannel_logout_uri: Some(f.backchannel_logout_uri),
        backchannel_logout_session_required: Some(on(&f.backchannel_logout_session_required)),
    };
    act(&state, &req, path.into_inner(), f.csrf, "admin-client-saved", move |c, tenant, id, origin, now| {
        client_settings::update_client(c, tenant, id, &changes, origin, now).map(|_| Vec::new())
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct DisabledForm {
    csrf: Option<String>,
    disabled: Option<String>,
}

pub async fn post_rotate(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    act(
        &state,
        &req,
        path.into_inner(),
        form.into_inner().csrf,
        "admin-client-rotated",
        |c, tenant, id, origin, now| {
            clients::rotate_secret(c, tenant, id, SECRET_GRACE, origin, now).map(|(secret, _)| vec![secret])
        },
    )
    .await
}

pub async fn post_disabled(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DisabledForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let disabled = f.disabled.as_deref() == Some("on");
    let done = if disabled { "admin-client-disabled" } else { "admin-client-enabled" };
    act(&state, &req, path.into_inner(), f.csrf, done, move |c, tenant, id, origin, now| {
        client_settings::set_disabled(c, tenant, id, disabled, origin, now).map(|_| Vec::new())
    })
    .await
}

/// Deleting is asked first (`confirm=yes` deletes).
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    csrf: Option<String>,
    confirm: Option<String>,
}

pub async fn post_delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<DeleteForm>,
) -> HttpResponse {
    let (id, f, now) = (path.into_inner(), form.into_inner(), state.clock.now());
    with_admin(&state, &req, Some(f.csrf.as_deref()), async |me, admin| {
        admin.may(Action::EditPolicy, None)?;
        let lang = me.lang;
        if f.confirm.as_deref() != Some("yes") {
            let target = id.clone();
            let (client, _) = run(&state, admin, move |c, a| {
                client_settings::client_in(c, &a.user.tenant_id, &target).map_err(refused)
            })
            .await?;
            let mut ctx = me.context();
            ctx.insert("title", &lang.t("admin-client-delete-title"));
            let name = FluentValue::from(client.name);
            ctx.insert("message", &lang.t_with("admin-client-delete-message", &[("client", name)]));
            ctx.insert("button", &lang.t("admin-client-delete"));
            ctx.insert("fields", &Vec::<(&str, &str)>::new());
            ctx.insert("action", &format!("/admin/clients/{id}/delete"));
            ctx.insert("back", &format!("/admin/clients/{id}"));
            return Ok(pages::render(StatusCode::OK, "admin_confirm.html", &ctx));
        }
        let origin = origin(&req, Some(&admin.user.id));
        let target = id.clone();
        run(&state, admin, move |c, a| {
            client_settings::delete_client(c, &a.user.tenant_id, &target, &origin, now).map_err(refused)
        })
        .await?;
        state.clients.forget(&id);
        noted(&state, &me, "/admin/clients", Note::success(lang.t("admin-client-deleted")), &[]).await
    })
    .await
}
