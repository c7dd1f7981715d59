//! Watchword's words: message catalogues in Fluent (`locales/{en,de}/*.ftl`, compiled
//! into the binary; English is the fallback for a message a catalogue lacks), the
//! languages they are in, and [`Refusal`] — a refused input that the pages say in their
//! language and the API and the CLI in English. Which language a page speaks is
//! decided in `http::i18n`.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, static_loader};

/// The languages with a complete catalogue; the first is the fallback.
pub const LANGUAGES: [&str; 2] = ["en", "de"];

static_loader! {
    pub static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks around arguments: the pages are HTML, and the
        // marks would be invisible characters inside names and numbers.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the pages are in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang(&'static str);

impl Lang {
    pub const EN: Self = Self("en");
    pub const DE: Self = Self("de");

    /// The language of a tag (`de`, `de-CH`, `EN-us`), if the pages have it.
    pub fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        LANGUAGES.iter().find(|l| **l == primary).map(|l| Self(l))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    fn id(self) -> LanguageIdentifier {
        self.0.parse().unwrap_or_default()
    }

    /// The message `key` in this language; a text that is no key (a domain refusal, in
    /// English) is given back as it is.
    pub fn t(self, key: &str) -> String {
        LOCALES.try_lookup(&self.id(), key).unwrap_or_else(|| key.to_owned())
    }

    /// The message `key` with its arguments.
    pub fn t_with(self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'static>> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.clone())).collect();
        LOCALES.lookup_with_args(&self.id(), key, &args)
    }

    /// The message `key` with its arguments, if the catalogues have it.
    pub fn try_t_with(self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> Option<String> {
        let args: HashMap<Cow<'static, str>, FluentValue<'static>> =
            args.iter().map(|(k, v)| (Cow::Borrowed(*k), v.clone())).collect();
        LOCALES.try_lookup_with_args(&self.id(), key, &args)
    }

    /// "45 seconds", "2 minutes" (rounded up: never less than is left).
    pub fn wait(self, seconds: i64) -> String {
        let seconds = seconds.max(1);
        if seconds < 60 {
            self.t_with("wait-seconds", &[("n", FluentValue::from(seconds))])
        } else {
            self.t_with("wait-minutes", &[("n", FluentValue::from((seconds + 59) / 60))])
        }
    }

    /// A moment as this language writes it, in UTC.
    pub fn date_time(self, unix: i64) -> String {
        let Some(at) = chrono::DateTime::from_timestamp(unix, 0) else { return unix.to_string() };
        match self.0 {
            "de" => at.format("%d.%m.%Y, %H:%M UTC").to_string(),
            _ => at.format("%-d %B %Y %H:%M UTC").to_string(),
        }
    }
}

/// A refused input: a message key of `locales/*/refusals.ftl` and its arguments. The
/// API and the CLI show it in English (`Display`); the pages in their own language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
}

impl Refusal {
    pub fn new(key: &'static str) -> Self {
        Self { key, args: Vec::new() }
    }

    /// The argument `$name` of the message.
    pub fn with(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.args.push((name, value.to_string()));
        self
    }

    /// A refusal whose words come from elsewhere (a parser's message), shown as they are.
    pub fn text(text: impl std::fmt::Display) -> Self {
        Self::new("refusal-text").with("text", text)
    }

    /// The refusal in `lang`.
    pub fn in_lang(&self, lang: Lang) -> String {
        let args: Vec<(&'static str, FluentValue<'static>)> =
            self.args.iter().map(|(k, v)| (*k, FluentValue::from(v.clone()))).collect();
        lang.t_with(self.key, &args)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.in_lang(Lang::EN))
    }
}
