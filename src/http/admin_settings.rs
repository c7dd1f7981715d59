//! The admin pages of the tenant: its TOTP and password policy, its branding, and the
//! audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use fluent_templates::fluent_bundle::FluentValue;
use serde::Deserialize;

use crate::http::admin::{noted, run, with_admin};
use crate::http::cookies::SignedIn;
use crate::http::i18n::Lang;
use crate::http::notes::Note;
use crate::http::queries::AuditQuery;
use crate::http::state::AppState;
use crate::http::{origin, pages};
use crate::tenancy::admin::AdminError;
use crate::tenancy::branding::{self, BrandingChange};
use crate::tenancy::tenant_policy::{self, PolicyView};
use crate::text::Refusal;

fn policy_page(me: &SignedIn, policy: &PolicyView) -> HttpResponse {
    let mut ctx = me.context();
    ctx.insert("p", policy);
    let typed = me.note.as_ref().map(|f| &f.note.typed).filter(|t| !t.is_empty());
    ctx.insert("typed", &typed);
    // The branding form's language: as typed, else as saved, else English.
    let language = match typed {
        Some(typed) => typed.get("default_language").cloned(),
        None => me.brand.default_language.clone(),
    };
    ctx.insert("language", &language.filter(|l| !l.is_empty()).unwrap_or_else(|| "en".to_owned()));
    let checkboxes = vec![
        ("enabled", "admin-policy-enabled", policy.enabled),
        ("enforce_internal", "admin-policy-enforce-internal", policy.enforce_internal),
        ("enforce_external", "admin-policy-enforce-external", policy.enforce_external),
        ("prompt_new_users", "admin-policy-prompt", policy.prompt_new_users),
        ("recovery_codes_allowed", "admin-policy-recovery", policy.recovery_codes_allowed),
    ];
    ctx.insert("checkboxes", &checkboxes);
    pages::render(StatusCode::OK, "admin_policy.html", &ctx)
}

pub async fn get_policy(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    with_admin(&state, &req, None, async |me, admin| {
        admin.may(crate::tenancy::permissions::Action::EditPolicy, None)?;
        let (policy, _) = run(&state, admin, tenant_policy::get_policy).await?;
        Ok(policy_page(&me, &policy))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct PolicyForm {
    csrf: Option<String>,
    enabled: Option<String>,
    enforce_internal: Option<String>,
    enforce_external: Option<String>,
    prompt_new_users: Option<String>,
    recovery_codes_allowed: Option<String>,
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    digits: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    skew: String,
    #[serde(default)]
    password_min_length: String,
    #[serde(default)]
    remember_device_days: String,
}

pub async fn post_policy(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<PolicyForm>,
) -> HttpResponse {
    let f = form.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(f.csrf.as_deref()), async |me, admin| {
        let number = |raw: &str, name: &str| {
            raw.trim()
                .parse::<i32>()
                .map_err(|_| AdminError::Invalid(Refusal::new("refusal-number").with("name", name)))
        };
        let on = |v: &Option<String>| v.as_deref() == Some("on");
        let policy = PolicyView {
            enabled: on(&f.enabled),
            enforce_internal: on(&f.enforce_internal),
            enforce_external: on(&f.enforce_external),
            prompt_new_users: on(&f.prompt_new_users),
            recovery_codes_allowed: on(&f.recovery_codes_allowed),
            algorithm: f.algorithm.clone(),
            digits: number(&f.digits, "digits")?,
            period: number(&f.period, "period")?,
            skew: number(&f.skew, "skew")?,
            password_min_length: match f.password_min_length.trim() {
                "" => None,
                raw => Some(number(raw, "the minimum password length")?),
            },
            remember_device_days: match f.remember_device_days.trim() {
                "" => None,
                raw => Some(number(raw, "the days a device is remembered")?),
            },
        };
        run(&state, admin, move |c, a| tenant_policy::update_policy(c, a, &policy, &origin, now)).await?;
        noted(&state, &me, "/admin/policy", Note::success(me.lang.t("admin-done-policy")), &[]).await
    })
    .await
}

pub async fn get_audit(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<AuditQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    with_admin(&state, &req, None, async |me, admin| {
        let span = query.span()?;
        let AuditQuery { user, username, event, page, from, to } = query;
        let page = crate::tenancy::admin::page_number(page.unwrap_or(1));
        let typed = username.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty() && n.chars().count() <= crate::tenancy::Username::MAX);
        let (u, e) = (user.clone().filter(|u| !u.is_empty()), event.clone().filter(|e| !e.is_empty()));
        let shown = typed.clone();
        let ((events, names, kinds), _) = run(&state, admin, move |c, a| {
            // A typed username: a user of the tenant the administrator may read, else
            // nothing (the same for a name unknown and one outside the subtree).
            let u = match &typed {
                None => u,
                Some(name) => {
                    let key = crate::tenancy::Username::parse(name).map(|n| n.key()).unwrap_or_default();
                    let found = crate::store::users::find_by_username_key(c, &a.user.tenant_id, &key)?;
                    match found.filter(|f| a.is_root() || a.tree.is_below(&f.id, &a.user.id)) {
                        Some(found) => Some(found.id),
                        None => {
                            let kinds = crate::store::audit::event_names(c, &a.user.tenant_id)?;
                            return Ok((Vec::new(), std::collections::HashMap::new(), kinds));
                        }
                    }
                }
            };
            let events = tenant_policy::audit_log(c, a, u.as_deref(), e.as_deref(), span, page)?;
            // Usernames for the ids on this page, in one query.
            let mut ids: Vec<String> =
                events.iter().flat_map(|e| [e.actor_user_id.clone(), e.target_user_id.clone()]).flatten().collect();
            ids.sort_unstable();
            ids.dedup();
            let names: std::collections::HashMap<String, String> =
                crate::store::users::usernames(c, &a.user.tenant_id, &ids)?.into_iter().collect();
            Ok((events, names, crate::store::audit::event_names(c, &a.user.tenant_id)?))
        })
        .await?;
        let lang = me.lang;
        let name = |id: &Option<String>, none: &str| match id {
            Some(id) => names.get(id).cloned().unwrap_or_else(|| id.clone()),
            None => lang.t(none),
        };
        let rows: Vec<serde_json::Value> = events
            .iter()
            .map(|e| {
                let (iso, at) = pages::format_time_in(lang, e.created_at);
                let (actor, target) = (name(&e.actor_user_id, "admin-system"), name(&e.target_user_id, "admin-someone"));
                serde_json::json!({ "at": at, "iso": iso, "event": e.event, "sentence": audit_sentence(lang, &e.event, actor, target),
                                    "detail": pages::readable_detail(&e.detail), "ip": e.ip.clone().unwrap_or_default() })
            })
            .collect();
        let mut ctx = me.context();
        ctx.insert("events", &rows);
        ctx.insert("kinds", &kinds);
        ctx.insert("has_next", &(events.len() >= crate::tenancy::admin::PER_PAGE));
        ctx.insert("page", &page);
        // The user filter as a username: as typed, else the name of the user linked to.
        let shown = shown.or_else(|| user.as_ref().and_then(|id| names.get(id).cloned())).unwrap_or_default();
        let (user, event) = (user.unwrap_or_default(), event.unwrap_or_default());
        let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
        // The filters again, for the previous and next pages' links.
        let mut filters = url::form_urlencoded::Serializer::new(String::new());
        if shown.is_empty() {
            filters.append_pair("user", &user);
        } else {
            filters.append_pair("username", &shown);
        }
        let filters: String = filters
            .append_pair("event", &event)
            .append_pair("from", &from)
            .append_pair("to", &to)
            .finish();
        ctx.insert("filters", &filters);
        ctx.insert("username", &shown);
        ctx.insert("event", &event);
        ctx.insert("from", &from);
        ctx.insert("to", &to);
        Ok(pages::render(StatusCode::OK, "admin_audit.html", &ctx))
    })
    .await
}

/// An audit event as a sentence ("boss revoked the TOTP secret of alice"); an event
/// the catalogue does not know reads as its name.
fn audit_sentence(lang: Lang, event: &str, actor: String, target: String) -> String {
    let key = format!("admin-event-{}", event.replace(['.', '_'], "-"));
    let args = [("actor", FluentValue::from(actor)), ("target", FluentValue::from(target))];
    lang.try_t_with(&key, &args).unwrap_or_else(|| event.to_owned())
}

#[derive(Debug, Deserialize)]
pub struct BrandingForm {
    csrf: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    logo_url: String,
    #[serde(default)]
    primary_colour: String,
    #[serde(default)]
    default_language: String,
}

/// `POST /admin/branding`: the tenant's name, logo, colour and default language (the
/// right to edit the policy); a refusal goes back to the form with what was typed.
pub async fn post_branding(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<BrandingForm>,
) -> HttpResponse {
    let form = form.into_inner();
    let (origin, now) = (origin(&req, None), state.clock.now());
    with_admin(&state, &req, Some(form.csrf.as_deref()), async |me, admin| {
        let change = BrandingChange {
            name: Some(form.name.clone()),
            logo_url: Some(form.logo_url.clone()),
            primary_colour: Some(form.primary_colour.clone()),
            default_language: Some(form.default_language.clone()),
        };
        let brands = state.brands.clone();
        let saved = run(&state, admin, move |c, a| {
            let saved = branding::update_for(c, a, &change, "admin", &origin, now)?;
            brands.forget(&a.user.tenant_id);
            Ok(saved)
        })
        .await;
        match saved {
            Ok(_) => {
                noted(&state, &me, "/admin/policy", Note::success(me.lang.t("admin-done-branding")), &[])
                    .await
            }
            Err(AdminError::Invalid(refusal)) => {
                let note = Note::error(refusal.in_lang(me.lang))
                    .typed("name", &form.name)
                    .typed("logo_url", &form.logo_url)
                    .typed("primary_colour", &form.primary_colour)
                    .typed("default_language", &form.default_language);
                noted(&state, &me, "/admin/policy", note, &[]).await
            }
            Err(other) => Err(other),
        }
    })
    .await
}
