//! Typed settings: defaults, then an optional `watchword.toml`, then `WATCHWORD_*`
//! environment variables. A bad value is reported with the name of its setting.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use crate::ephemeral::limiter::Limits;
use crate::store::DatabaseUrl;

mod limits;

use limits::{FileLimits, read_limits};

/// The issuer exactly as configured (OpenID Connect Discovery §4.3: relying parties
/// compare it as a string, so `https://id.example/` and `https://id.example` are two
/// issuers): published as it is in discovery, tokens and logout checks. Endpoints hang
/// from it without a doubled slash (`https://id.example/token` either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    url: Url,
}

impl Issuer {
    /// An absolute http(s) URL without query or fragment (OIDC Discovery §3).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        let err = || format!("'{raw}' is not an http(s) URL without query or fragment");
        let url = Url::parse(text).map_err(|_| err())?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
            && !text.contains('#')
            && !text.contains('?');
        if ok { Ok(Self { text: text.to_owned(), url }) } else { Err(err()) }
    }

    /// The issuer, character for character as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// The URL of an endpoint: `path` (`/token`) under the issuer.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.text.trim_end_matches('/'))
    }
}

impl std::fmt::Display for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Everything the server and the CLI are configured with.
#[derive(Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    /// Explicit issuer; when `None` it is `http://` + the bound address.
    pub issuer: Option<Issuer>,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub redis_url: Option<String>,
    /// Prepended to every Redis key, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// `id:base64key` pairs; when `None` the key file in `data_dir` is used.
    pub secret_keys: Option<String>,
    /// The installation-wide TOTP switch; tenants and users decide below it.
    pub totp_enabled: bool,
    /// Seconds between `keys rotate` publishing a key and that key signing.
    pub key_rotation_delay: i64,
    /// Attempt budgets (password per username and per IP, TOTP per user).
    pub limits: Limits,
    /// Behind a proxy that overwrites `X-Forwarded-For`: take client addresses from it.
    pub trust_forwarded: bool,
    /// Password-hashing workers (each holds one 19 MiB block while busy).
    pub hash_workers: usize,
    /// Hash jobs that may wait; beyond them a sign-in gets 503 with `Retry-After`.
    pub hash_queue: usize,
    /// An operator's theme: templates and `style.css` that replace the built-in ones,
    /// file by file ([`crate::http::pages::load_theme`]).
    pub theme_dir: Option<PathBuf>,
    /// Where `/metrics` and `/health/*` are served (never on the public port); `None`:
    /// nowhere (`WATCHWORD_MANAGEMENT_LISTEN=off`).
    pub management_listen: Option<SocketAddr>,
    /// How often each instance looks for back-channel logout notices to deliver.
    pub backchannel_poll: std::time::Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("issuer", &self.issuer.as_ref().map(Issuer::as_str))
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.redacted())
            .field("redis_url", &self.redis_url.as_ref().map(|_| "(set)"))
            .field("redis_prefix", &self.redis_prefix)
            .field("secret_keys", &self.secret_keys.as_ref().map(|_| "(set)"))
            .field("totp_enabled", &self.totp_enabled)
            .field("key_rotation_delay", &self.key_rotation_delay)
            .field("limits", &self.limits)
            .field("trust_forwarded", &self.trust_forwarded)
            .field("hash_workers", &self.hash_workers)
            .field("hash_queue", &self.hash_queue)
            .field("backchannel_poll", &self.backchannel_poll)
            .finish()
    }
}

/// A setting that could not be read: `WATCHWORD_LISTEN: …`.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

fn bad(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { setting: setting.to_owned(), message: message.into() }
}

/// The optional file; every key is optional and unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<String>,
    issuer: Option<String>,
    data_dir: Option<String>,
    database_url: Option<String>,
    redis_url: Option<String>,
    redis_prefix: Option<String>,
    secret_keys: Option<String>,
    totp_enabled: Option<bool>,
    trust_forwarded: Option<bool>,
    key_rotation_delay: Option<i64>,
    hash_workers: Option<usize>,
    hash_queue: Option<usize>,
    theme_dir: Option<String>,
    management_listen: Option<String>,
    backchannel_poll_ms: Option<usize>,
    limits: Option<FileLimits>,
}

pub const DEFAULT_CONFIG_FILE: &str = "watchword.toml";

impl Settings {
    /// Loads from `config_file` (or `./watchword.toml` when present) and the process env.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(config_file, |name| std::env::var(name).ok())
    }

    /// As [`Settings::load`], with the environment given as a lookup function.
    pub fn load_from(
        config_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file = match config_file {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => read_file(Path::new(DEFAULT_CONFIG_FILE))?,
            None => FileSettings::default(),
        };
        let pick = |name: &str, from_file: Option<String>| env(name).or(from_file).filter(|v| !v.is_empty());

        let listen = match pick("WATCHWORD_LISTEN", file.listen) {
            Some(raw) => raw.parse().map_err(|_| {
                bad("WATCHWORD_LISTEN", format!("'{raw}' is not an address like 127.0.0.1:8080"))
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let issuer = pick("WATCHWORD_ISSUER", file.issuer).map(|raw| parse_issuer(&raw)).transpose()?;
        let data_dir = PathBuf::from(
            pick("WATCHWORD_DATA_DIR", file.data_dir).unwrap_or_else(|| "./watchword-data".into()),
        );
        let database_url = match pick("WATCHWORD_DATABASE_URL", file.database_url) {
            Some(raw) => DatabaseUrl::parse(&raw).map_err(|m| bad("WATCHWORD_DATABASE_URL", m))?,
            None => DatabaseUrl::Sqlite(data_dir.join("watchword.db")),
        };
        let redis_url = pick("WATCHWORD_REDIS_URL", file.redis_url)
            .map(|raw| {
                let ok =
                    ["redis://", "rediss://", "redis+unix://", "unix://"].iter().any(|p| raw.starts_with(p));
                if ok {
                    Ok(raw)
                } else {
                    Err(bad("WATCHWORD_REDIS_URL", "expected redis://host:port or rediss://…"))
                }
            })
            .transpose()?;
        let redis_prefix =
            pick("WATCHWORD_REDIS_PREFIX", file.redis_prefix).unwrap_or_else(|| "watchword:".into());
        let secret_keys = pick("WATCHWORD_SECRET_KEYS", file.secret_keys);
        if let Some(spec) = &secret_keys {
            crate::auth::keyring::Keyring::parse(spec)
                .map_err(|e| bad("WATCHWORD_SECRET_KEYS", e.to_string()))?;
        }
        let switch =
            |name: &str, from_file: Option<bool>, default: bool| match env(name).filter(|v| !v.is_empty()) {
                Some(raw) => match raw.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(true),
                    "false" | "0" | "no" | "off" => Ok(false),
                    _ => Err(bad(name, format!("'{raw}' is not true or false"))),
                },
                None => Ok(from_file.unwrap_or(default)),
            };
        let totp_enabled = switch("WATCHWORD_TOTP_ENABLED", file.totp_enabled, true)?;
        let trust_forwarded = switch("WATCHWORD_TRUST_FORWARDED", file.trust_forwarded, false)?;
        let key_rotation_delay = match env("WATCHWORD_KEY_ROTATION_DELAY").filter(|v| !v.is_empty()) {
            Some(raw) => raw.parse::<i64>().ok().filter(|d| *d >= 0).ok_or_else(|| {
                bad("WATCHWORD_KEY_ROTATION_DELAY", format!("'{raw}' is not a number of seconds"))
            })?,
            None => file.key_rotation_delay.unwrap_or(86_400),
        };
        let limits = read_limits(&env, file.limits.unwrap_or_default())?;
        let count = |name: &str, from_file: Option<usize>, default: usize| -> Result<usize, ConfigError> {
            match env(name).filter(|v| !v.is_empty()) {
                Some(raw) => raw
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=4096).contains(n))
                    .ok_or_else(|| bad(name, format!("'{raw}' is not a whole number from 1 to 4096"))),
                None => match from_file {
                    Some(n) if !(1..=4096).contains(&n) => Err(bad(name, "must be from 1 to 4096")),
                    Some(n) => Ok(n),
                    None => Ok(default),
                },
            }
        };
        let hash_workers = count(
            "WATCHWORD_HASH_WORKERS",
            file.hash_workers,
            crate::auth::hashing::HashPool::default_workers(),
        )?;
        let hash_queue = count("WATCHWORD_HASH_QUEUE", file.hash_queue, 64 * hash_workers)?;
        let poll_ms = count("WATCHWORD_BACKCHANNEL_POLL_MS", file.backchannel_poll_ms, 1000)?;
        let backchannel_poll = std::time::Duration::from_millis(u64::try_from(poll_ms).unwrap_or(1000));
        let management_listen = match pick("WATCHWORD_MANAGEMENT_LISTEN", file.management_listen) {
            Some(raw) if raw.eq_ignore_ascii_case("off") => None,
            Some(raw) => Some(raw.parse().map_err(|_| {
                bad(
                    "WATCHWORD_MANAGEMENT_LISTEN",
                    format!("'{raw}' is not an address like 127.0.0.1:9464, or off"),
                )
            })?),
            None => Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
        };
        let theme_dir = pick("WATCHWORD_THEME_DIR", file.theme_dir).map(PathBuf::from);
        if let Some(dir) = &theme_dir
            && !dir.is_dir()
        {
            return Err(bad("WATCHWORD_THEME_DIR", format!("{} is not a directory", dir.display())));
        }
        Ok(Self {
            listen,
            issuer,
            data_dir,
            database_url,
            redis_url,
            redis_prefix,
            secret_keys,
            totp_enabled,
            key_rotation_delay,
            limits,
            trust_forwarded,
            hash_workers,
            hash_queue,
            theme_dir,
            management_listen,
            backchannel_poll,
        })
    }

    /// The issuer for a server bound to `bound`.
    pub fn issuer_for(&self, bound: SocketAddr) -> Issuer {
        self.issuer.clone().unwrap_or_else(|| {
            let text = format!("http://{bound}");
            #[expect(clippy::unwrap_used, reason = "http:// + a socket address is a valid URL")]
            let url = Url::parse(&text).unwrap();
            Issuer { text, url }
        })
    }
}

fn read_file(path: &Path) -> Result<FileSettings, ConfigError> {
    let setting = format!("config file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| bad(&setting, e.to_string()))?;
    toml::from_str(&text).map_err(|e| bad(&setting, e.message().to_owned()))
}

fn parse_issuer(raw: &str) -> Result<Issuer, ConfigError> {
    Issuer::parse(raw).map_err(|reason| bad("WATCHWORD_ISSUER", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let missing = Path::new("/nonexistent/watchword.toml");
        let _ = missing;
        Settings::load_from(None, move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults() {
        let s = load(&[]).unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.issuer_for(s.listen).as_str(), "http://127.0.0.1:8080");
        assert_eq!(s.issuer_for(s.listen).endpoint("/token"), "http://127.0.0.1:8080/token");
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("./watchword-data/watchword.db".into()));
        assert!(s.redis_url.is_none() && s.secret_keys.is_none());
        assert_eq!(s.limits, Limits::default(), "the documented defaults");
    }

    #[test]
    fn env_overrides_and_errors_name_the_setting() {
        let s = load(&[("WATCHWORD_DATA_DIR", "/tmp/ww"), ("WATCHWORD_ISSUER", "https://id.example.com/")])
            .unwrap();
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("/tmp/ww/watchword.db".into()));
        let issuer = s.issuer.unwrap();
        assert_eq!(issuer.as_str(), "https://id.example.com/", "exactly as configured");
        assert_eq!(issuer.endpoint("/jwks"), "https://id.example.com/jwks");
        for (name, value) in [
            ("WATCHWORD_LISTEN", "nope"),
            ("WATCHWORD_ISSUER", "ftp://x"),
            ("WATCHWORD_ISSUER", "https://x/?a=b"),
            ("WATCHWORD_DATABASE_URL", "mysql://x"),
            ("WATCHWORD_REDIS_URL", "localhost:6379"),
            ("WATCHWORD_SECRET_KEYS", "k1:short"),
            ("WATCHWORD_TOTP_ENABLED", "maybe"),
            ("WATCHWORD_LIMIT_TOTP_FAILURES", "0"),
        ] {
            let err = load(&[(name, value)]).err().unwrap();
            assert_eq!(err.setting, name, "{err}");
        }
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/ww\"\n").unwrap();
        let s =
            Settings::load_from(Some(&path), |n| (n == "WATCHWORD_LISTEN").then(|| "127.0.0.1:9001".into()))
                .unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:9001");
        assert_eq!(s.data_dir, PathBuf::from("/srv/ww"));
        std::fs::write(&path, "lissten = 1\n").unwrap();
        assert!(Settings::load_from(Some(&path), |_| None).unwrap_err().setting.starts_with("config file"));
    }
}
