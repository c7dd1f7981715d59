//! The query strings the API and the admin pages share.

use serde::Deserialize;

use crate::tenancy::admin::AdminError;
use crate::text::Refusal;

/// `?q=&page=` of a user listing (API and pages).
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    pub q: Option<String>,
    pub page: Option<usize>,
}

/// `?user=&event=&page=` of an audit listing (API and pages).
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// A user's id.
    pub user: Option<String>,
    /// A username, as typed on the audit page (it takes the place of `user`).
    pub username: Option<String>,
    pub event: Option<String>,
    pub page: Option<usize>,
    /// First day (YYYY-MM-DD, UTC), inclusive.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC), inclusive.
    pub to: Option<String>,
}

impl AuditQuery {
    /// The days as a span of Unix seconds; a day that does not parse is refused.
    pub fn span(&self) -> Result<crate::store::audit::Span, AdminError> {
        let day = |raw: &Option<String>, name: &str| -> Result<Option<i64>, AdminError> {
            match raw.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
                None => Ok(None),
                Some(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|t| Some(t.and_utc().timestamp()))
                    .ok_or_else(|| AdminError::Invalid(Refusal::new("refusal-date").with("name", name))),
            }
        };
        Ok(crate::store::audit::Span {
            from: day(&self.from, "from")?,
            until: day(&self.to, "to")?.map(|t| t + 86_400),
        })
    }
}
