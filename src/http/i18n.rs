//! The language of a page (the catalogues and [`Lang`] are in [`crate::text`]).
//! A page's language is, in order: the one the visitor chose with the switcher (the
//! `?lang=` link, remembered in the `ww_lang` cookie), the client's `ui_locales`, the
//! browser's `Accept-Language`, the tenant's default language, else English.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration};

pub use crate::text::Lang;

const COOKIE: &str = "ww_lang";

/// `ui_locales` (OpenID Connect Core §3.1.2.1): tags in order of preference.
fn of_ui_locales(ui_locales: &str) -> Option<Lang> {
    ui_locales.split_whitespace().find_map(Lang::of_tag)
}

/// `Accept-Language`: the supported language of the highest weight (ties: first).
fn of_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(Lang, f32)> = None;
    for item in header.split(',').take(32) {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default();
        let weight = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = Lang::of_tag(tag)
            && weight > 0.0
            && best.is_none_or(|(_, w)| weight > w)
        {
            best = Some((lang, weight));
        }
    }
    best.map(|(lang, _)| lang)
}

/// The `?lang=` of a switcher link, if it names a language the pages have.
pub fn chosen(req: &HttpRequest) -> Option<Lang> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::of_tag(&v))
}

/// The language of the page for `req` (see the module's order); `ui_locales` is the
/// client's, when the page belongs to a sign-in that came with one; `tenant_default`
/// the tenant's default language, when the page is a tenant's.
pub fn negotiate(req: &HttpRequest, ui_locales: Option<&str>, tenant_default: Option<&str>) -> Lang {
    chosen(req)
        .or_else(|| req.cookie(COOKIE).and_then(|c| Lang::of_tag(c.value())))
        .or_else(|| ui_locales.and_then(of_ui_locales))
        .or_else(|| {
            req.headers()
                .get(actix_web::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(of_accept_language)
        })
        .or_else(|| tenant_default.and_then(Lang::of_tag))
        .unwrap_or(Lang::EN)
}

/// The cookie that remembers a switcher choice (a year; not a secret, so readable
/// to nothing but the server all the same).
pub fn remember(lang: Lang, secure: bool) -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, lang.code())
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Lax)
        .finish();
    cookie.set_max_age(Duration::days(365));
    cookie
}

/// The switcher's link on a page at `path_and_query`: the same page in the other
/// language.
pub fn switch_url(lang: Lang, path_and_query: &str) -> String {
    let other = lang.t("language-switch-lang");
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k != "lang")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &kept {
        query.append_pair(k, v);
    }
    query.append_pair("lang", &other);
    format!("{path}?{}", query.finish())
}

#[cfg(test)]
mod tests {
    use fluent_templates::fluent_bundle::FluentValue;

    use super::*;

    #[test]
    fn languages_are_chosen_from_tags_and_weights() {
        assert_eq!(Lang::of_tag("de-CH"), Some(Lang::DE));
        assert_eq!(Lang::of_tag("fr"), None);
        assert_eq!(of_ui_locales("fr-CA de en"), Some(Lang::DE));
        assert_eq!(of_accept_language("fr;q=0.9, en;q=0.5, de;q=0.8"), Some(Lang::DE));
        assert_eq!(of_accept_language("de;q=0, en"), Some(Lang::EN));
        assert_eq!(of_accept_language("fr, it"), None);
    }

    #[test]
    fn every_english_message_exists_in_german_and_plurals_read_right() {
        let de = Lang::DE;
        assert_eq!(de.wait(1), "1 Sekunde");
        assert_eq!(de.wait(61), "2 Minuten");
        assert_eq!(Lang::EN.wait(0), "1 second");
        assert_eq!(Lang::EN.wait(45), "45 seconds");
        assert_eq!(Lang::EN.wait(60), "1 minute");
        assert_eq!(Lang::EN.wait(61), "2 minutes");
        assert_eq!(Lang::EN.wait(900), "15 minutes");
        let app = [("app", FluentValue::from("Grafana"))];
        assert_eq!(Lang::EN.t_with("sign-in-to", &app), "Sign in to Grafana");
        assert_eq!(de.t_with("sign-in-to", &app), "Bei Grafana anmelden");
        // Every key of each English catalogue has a German message of its own.
        let catalogues = [
            (include_str!("../../locales/en/signin.ftl"), include_str!("../../locales/de/signin.ftl")),
            (include_str!("../../locales/en/account.ftl"), include_str!("../../locales/de/account.ftl")),
            (include_str!("../../locales/en/admin.ftl"), include_str!("../../locales/de/admin.ftl")),
            (include_str!("../../locales/en/refusals.ftl"), include_str!("../../locales/de/refusals.ftl")),
        ];
        let keys = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with([' ', '#', '*', '[']) && l.contains(" = "))
                .filter_map(|l| l.split(" = ").next().map(str::to_owned))
                .collect()
        };
        for (english, german) in catalogues {
            let german_keys = keys(german);
            for key in keys(english) {
                assert!(german_keys.contains(&key), "German lacks {key}");
            }
        }
        assert_eq!(de.date_time(1_764_132_720), "26.11.2025, 04:52 UTC");
    }

    #[test]
    fn the_switcher_keeps_the_page_and_names_the_other_language() {
        assert_eq!(switch_url(Lang::EN, "/login?flow=abc&lang=en"), "/login?flow=abc&lang=de");
        assert_eq!(switch_url(Lang::DE, "/login?flow=abc"), "/login?flow=abc&lang=en");
    }
}
