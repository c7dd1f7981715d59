//! Server-rendered pages (tera). Templates are compiled into the binary, so a deployed
//! `watchword` needs no files beside it; an operator's theme directory may replace any
//! of them, and the stylesheet, file by file ([`load_theme`]).

use std::path::Path;
use std::sync::{LazyLock, OnceLock};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use tera::{Context, Tera};

use crate::http::i18n::Lang;
use crate::http::state::AppState;
use crate::tenancy::branding::Brand;

/// The built-in templates, by name.
const BUILT_IN: [(&str, &str); 24] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("message.html", include_str!("../../templates/message.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("totp.html", include_str!("../../templates/totp.html")),
    ("recovery.html", include_str!("../../templates/recovery.html")),
    ("enrol.html", include_str!("../../templates/enrol.html")),
    ("offer.html", include_str!("../../templates/offer.html")),
    ("choose_password.html", include_str!("../../templates/choose_password.html")),
    ("codes.html", include_str!("../../templates/codes.html")),
    ("devices_list.html", include_str!("../../templates/devices_list.html")),
    ("account.html", include_str!("../../templates/account.html")),
    ("profile.html", include_str!("../../templates/profile.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("logout.html", include_str!("../../templates/logout.html")),
    ("admin_users.html", include_str!("../../templates/admin_users.html")),
    ("admin_user.html", include_str!("../../templates/admin_user.html")),
    ("admin_revoke.html", include_str!("../../templates/admin_revoke.html")),
    ("admin_new.html", include_str!("../../templates/admin_new.html")),
    ("admin_password.html", include_str!("../../templates/admin_password.html")),
    ("admin_confirm.html", include_str!("../../templates/admin_confirm.html")),
    ("admin_policy.html", include_str!("../../templates/admin_policy.html")),
    ("admin_clients.html", include_str!("../../templates/admin_clients.html")),
    ("admin_client.html", include_str!("../../templates/admin_client.html")),
    ("admin_audit.html", include_str!("../../templates/admin_audit.html")),
];

/// The built-in templates with, file by file, those of `overrides`.
fn build(overrides: &[(String, String)]) -> Result<Tera, tera::Error> {
    let mut templates: Vec<(&str, &str)> = BUILT_IN.to_vec();
    for (name, text) in overrides {
        match templates.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = text,
            None => templates.push((name, text)),
        }
    }
    let mut tera = Tera::default();
    tera.add_raw_templates(templates)?;
    // `{{ fluent(key="…", lang=lang, arg=value) }}`: a message of the page's language.
    tera.register_function("fluent", fluent_templates::FluentLoader::new(&*crate::text::LOCALES));
    Ok(tera)
}

static BUILT: LazyLock<Tera> = LazyLock::new(|| {
    // The templates are part of the source; a broken one fails the test suite.
    #[expect(clippy::expect_used, reason = "templates are compiled in and covered by tests")]
    build(&[]).expect("templates parse")
});

/// An operator's theme (`WATCHWORD_THEME_DIR`), once loaded at start.
struct Theme {
    tera: Tera,
    css: Option<String>,
}

static THEME: OnceLock<Theme> = OnceLock::new();

/// Loads the theme in `dir`: each `*.html` replaces the built-in template of that name
/// (or adds one that others include), `style.css` replaces the stylesheet. A template
/// that does not parse is refused here, with its error, before the server answers.
pub fn load_theme(dir: &Path) -> Result<(), String> {
    let read = |path: &Path| std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut overrides = Vec::new();
    let mut css = None;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else { continue };
        if name == "style.css" {
            css = Some(read(&path)?);
        } else if name.ends_with(".html") {
            overrides.push((name, read(&path)?));
        }
    }
    let tera = build(&overrides).map_err(|e| {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            message = format!("{message}: {inner}");
            source = inner.source();
        }
        format!("theme {}: {message}", dir.display())
    })?;
    THEME.set(Theme { tera, css }).map_err(|_| "the theme is already loaded".to_owned())
}

fn templates() -> &'static Tera {
    THEME.get().map_or(&*BUILT, |t| &t.tera)
}

pub const STYLE_CSS: &str = include_str!("../../templates/style.css");

/// Renders `template` with `context` as an HTML response (in English unless the context
/// names its `lang`).
pub fn render(status: StatusCode, template: &str, context: &Context) -> HttpResponse {
    let rendered = if context.contains_key("lang") {
        templates().render(template, context)
    } else {
        let mut context = context.clone();
        context.insert("lang", Lang::EN.code());
        templates().render(template, &context)
    };
    match rendered {
        Ok(body) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body),
        Err(err) => {
            tracing::error!(error = ?err, template, "template failed to render");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal error")
        }
    }
}

/// A page in `lang` with a title, one paragraph and an optional link (the texts are
/// given in `lang` already).
pub fn message_in(
    lang: Lang,
    status: StatusCode,
    title: &str,
    message: &str,
    link: Option<(&str, &str)>,
) -> HttpResponse {
    let mut context = Context::new();
    context.insert("lang", lang.code());
    context.insert("title", title);
    context.insert("message", message);
    // Every page offers a way onward: the one given, else the account page (where a
    // person can always sign in and see where they stand).
    let account = lang.t("go-to-account");
    let (href, text) = link.unwrap_or(("/account", &account));
    context.insert("link", href);
    context.insert("link_text", text);
    render(status, "message.html", &context)
}

/// The tenant's branding on a page: its name and logo in the header, and its colour's
/// stylesheet (see [`get_brand_css`]).
pub fn brand(ctx: &mut Context, tenant_id: &str, brand: &Brand) {
    ctx.insert("brand", brand);
    ctx.insert("brand_css", &brand.primary_colour.as_ref().map(|_| format!("/brand/{tenant_id}.css")));
}

/// `GET /brand/{tenant}.css`: the tenant's colour (the CSP allows no inline style).
pub async fn get_brand_css(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let id = path.into_inner();
    let Some(id) = id.strip_suffix(".css").map(str::to_owned) else {
        return HttpResponse::NotFound().finish();
    };
    match state.brand(&id).await {
        Ok(Some(brand)) => {
            HttpResponse::Ok().content_type("text/css; charset=utf-8").body(brand.css().unwrap_or_default())
        }
        Ok(None) => HttpResponse::NotFound().content_type("text/css; charset=utf-8").body(""),
        // A stylesheet: no page, and the default colours meanwhile.
        Err(_) => HttpResponse::ServiceUnavailable().content_type("text/css; charset=utf-8").body(""),
    }
}

pub async fn get_style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(THEME.get().and_then(|t| t.css.clone()).unwrap_or_else(|| STYLE_CSS.to_owned()))
}

/// A time as (ISO 8601 for `datetime=`, human text), in UTC, in English.
pub fn format_time(unix: i64) -> (String, String) {
    format_time_in(Lang::EN, unix)
}

/// [`format_time`] with the text as `lang` writes it.
pub fn format_time_in(lang: Lang, unix: i64) -> (String, String) {
    let iso = chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    (iso, lang.date_time(unix))
}

/// One device as the pages show it.
#[derive(Debug, serde::Serialize)]
pub struct Listed<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub created_ip: Option<&'a str>,
    pub created_iso: String,
    pub created_text: String,
    pub last_used_iso: String,
    pub last_used_text: String,
}

pub fn listed(devices: &[crate::store::remembered::RememberedDevice], lang: Lang) -> Vec<Listed<'_>> {
    devices
        .iter()
        .map(|d| {
            let (created_iso, created_text) = format_time_in(lang, d.created_at);
            let (last_used_iso, last_used_text) = format_time_in(lang, d.last_used_at);
            Listed {
                id: &d.id,
                label: &d.label,
                created_ip: d.created_ip.as_deref(),
                created_iso,
                created_text,
                last_used_iso,
                last_used_text,
            }
        })
        .collect()
}

/// An audit event's JSON detail as text a person reads: `key: value` pairs, nested
/// objects flattened with dots (`before.digits: 6`), one pair per line in the page.
pub fn readable_detail(detail: &str) -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    walk(&key, value, out);
                }
            }
            serde_json::Value::String(text) => out.push(format!("{prefix}: {text}")),
            other => out.push(format!("{prefix}: {other}")),
        }
    }
    /// A value as a sentence shows it: text without quotes, `none` for null.
    fn shown(value: Option<&serde_json::Value>) -> String {
        match value {
            None | Some(serde_json::Value::Null) => "none".to_owned(),
            Some(serde_json::Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
        }
    }
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return vec![detail.to_owned()];
    };
    let mut out = Vec::new();
    // A change (`before` and `after`): only what changed, as "key: old → new".
    let mut summarised = false;
    if let (Some(serde_json::Value::Object(before)), Some(serde_json::Value::Object(after))) =
        (map.get("before"), map.get("after"))
    {
        for (key, new) in after {
            let old = before.get(key);
            if old != Some(new) {
                out.push(format!("{key}: {} → {}", shown(old), shown(Some(new))));
            }
        }
        if out.is_empty() {
            out.push("no change".to_owned());
        }
        summarised = true;
    }
    for (key, value) in &map {
        if !(summarised && (key == "before" || key == "after")) {
            walk(key, value, &mut out);
        }
    }
    out
}

/// One signed-in browser as the account page shows it.
#[derive(Debug, serde::Serialize)]
pub struct SessionView<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub ip: Option<&'a str>,
    pub created_iso: String,
    pub created_text: String,
    pub seen_iso: String,
    pub seen_text: String,
    /// The browser looking at the page.
    pub current: bool,
}

pub fn sessions_view<'a>(
    sessions: &'a [crate::store::sessions::Session],
    current: &str,
    lang: Lang,
) -> Vec<SessionView<'a>> {
    sessions
        .iter()
        .map(|s| {
            let (created_iso, created_text) = format_time_in(lang, s.created_at);
            let (seen_iso, seen_text) = format_time_in(lang, s.last_seen_at.unwrap_or(s.created_at));
            SessionView {
                id: &s.id,
                label: &s.label,
                ip: s.ip.as_deref(),
                created_iso,
                created_text,
                seen_iso,
                seen_text,
                current: s.id == current,
            }
        })
        .collect()
}

/// Recovery codes as a `data:` URL for a "Download" link: a text file, one per line,
/// saved without JavaScript. Each code is `xxxx-xxxx-xxxx` in base32 letters, so only the
/// line breaks need escaping.
pub fn codes_download(codes: &[String]) -> String {
    let lines: String = codes
        .iter()
        .map(|c| format!("{}%0A", url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()))
        .collect();
    format!("data:text/plain;charset=utf-8,Watchword%20recovery%20codes%0A{lines}")
}

/// The enrolment page's variables: QR, grouped key, `otpauth://` link and parameters.
pub fn enrol_context(ctx: &mut Context, enrolment: &crate::auth::enrolment::Enrolment, action: &str) {
    let uri = enrolment.otpauth_uri();
    let label =
        format!("QR code to add {} at {} to an authenticator app", enrolment.account, enrolment.issuer);
    ctx.insert("qr_svg", &crate::auth::totp::qr_svg(&uri, &label).unwrap_or_default());
    ctx.insert("secret_grouped", &enrolment.secret.grouped());
    ctx.insert("otpauth_uri", &uri);
    ctx.insert("issuer", &enrolment.issuer);
    ctx.insert("account", &enrolment.account);
    ctx.insert("algorithm", enrolment.params.algorithm.as_str());
    ctx.insert("digits", &enrolment.params.digits);
    ctx.insert("period", &enrolment.params.period);
    ctx.insert("action", action);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_details_read_as_pairs() {
        let detail = r#"{"reason":"lost phone","credentials":1,"before":{"digits":6},"via":"cli"}"#;
        // Keys in order (serde_json sorts them), so a row reads the same every time.
        assert_eq!(
            readable_detail(detail),
            ["before.digits: 6", "credentials: 1", "reason: lost phone", "via: cli"]
        );
        assert_eq!(readable_detail("{}"), Vec::<String>::new());
        assert_eq!(readable_detail("not json"), ["not json"]);
    }

    #[test]
    fn recovery_codes_download_as_lines() {
        let codes = vec!["abcd-efgh-ijkl".to_owned(), "mnop-qrst-uvwx".to_owned()];
        assert_eq!(
            codes_download(&codes),
            "data:text/plain;charset=utf-8,Watchword%20recovery%20codes%0Aabcd-efgh-ijkl%0Amnop-qrst-uvwx%0A"
        );
    }

    #[test]
    fn audit_details_read_as_lines_and_changes_show_only_what_changed() {
        let changed = r#"{"via":"admin","before":{"digits":6,"algorithm":"SHA1","logo":null},"after":{"digits":8,"algorithm":"SHA1","logo":"https://x.example/l.svg"}}"#;
        assert_eq!(
            readable_detail(changed),
            ["digits: 6 → 8", "logo: none → https://x.example/l.svg", "via: admin"]
        );
        let same = r#"{"before":{"digits":6},"after":{"digits":6}}"#;
        assert_eq!(readable_detail(same), ["no change"]);
        assert_eq!(readable_detail("not json"), ["not json"]);
    }
}
