//! Where the durable state lives: the database URL as configured, and how it is
//! given to the driver.

/// libpq settings added to a PostgreSQL URL that does not set them itself: connecting gives
/// up after 5 s, and a server that vanished (a host gone, a partition) is noticed within
/// about a minute — TCP keepalives on an idle connection, 30 s for unacknowledged writes —
/// instead of after the operating system's many minutes, during which a request, or a
/// graceful shutdown, would wait on it.
const LIBPQ_DEFAULTS: [(&str, &str); 5] = [
    ("connect_timeout", "5"),
    ("keepalives_idle", "30"),
    ("keepalives_interval", "10"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "30000"),
];

fn with_libpq_defaults(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw) else { return raw.to_owned() };
    let set: Vec<String> = url.query_pairs().map(|(key, _)| key.into_owned()).collect();
    let missing: Vec<_> = LIBPQ_DEFAULTS.iter().filter(|(key, _)| !set.iter().any(|s| s == key)).collect();
    if !missing.is_empty() {
        let mut query = url.query_pairs_mut();
        for (key, value) in missing {
            query.append_pair(key, value);
        }
    }
    url.to_string()
}

/// Where the durable state lives, parsed from `WATCHWORD_DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(std::path::PathBuf),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…` and `sqlite://PATH` (or `sqlite:PATH`).
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .ok_or_else(|| "expected postgres://… or sqlite://PATH".to_owned())?;
        if path.is_empty() {
            return Err("sqlite:// needs a file path".to_owned());
        }
        Ok(Self::Sqlite(path.into()))
    }

    pub(super) fn connection_string(&self) -> String {
        match self {
            Self::Postgres(url) => with_libpq_defaults(url),
            Self::Sqlite(path) => path.display().to_string(),
        }
    }

    /// The URL without a password, for logs and messages.
    pub fn redacted(&self) -> String {
        match self {
            Self::Postgres(raw) => match url::Url::parse(raw) {
                Ok(mut url) if url.password().is_some() => {
                    let _ = url.set_password(Some("***"));
                    url.to_string()
                }
                _ => raw.clone(),
            },
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse_or_explain() {
        assert_eq!(DatabaseUrl::parse("sqlite:///tmp/x.db"), Ok(DatabaseUrl::Sqlite("/tmp/x.db".into())));
        assert_eq!(DatabaseUrl::parse("sqlite:a.db"), Ok(DatabaseUrl::Sqlite("a.db".into())));
        assert!(matches!(DatabaseUrl::parse("postgres://u@h/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        let url = DatabaseUrl::parse("postgres://u:hunter2@h/db").unwrap();
        assert!(!url.redacted().contains("hunter2"));
    }

    #[test]
    fn postgres_urls_get_timeouts_they_do_not_set() {
        let url =
            DatabaseUrl::parse("postgres://u:p%40ss@h:5433/db?sslmode=require&connect_timeout=9").unwrap();
        assert_eq!(
            url.connection_string(),
            "postgres://u:p%40ss@h:5433/db?sslmode=require&connect_timeout=9&keepalives_idle=30\
             &keepalives_interval=10&keepalives_count=3&tcp_user_timeout=30000"
        );
        let bare = DatabaseUrl::parse("postgresql:///db").unwrap().connection_string();
        assert!(bare.starts_with("postgresql:///db?connect_timeout=5&"), "{bare}");
    }
}
