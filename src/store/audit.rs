//! The `audit_events` table: who did what to whom, when, and from where.

use diesel::prelude::*;

use super::schema::audit_events;
use super::{DbConn, StoreError};

/// One security-relevant act. `detail` is a JSON object that never holds a secret.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events, treat_none_as_default_value = false)]
pub struct AuditEvent {
    pub id: String,
    pub tenant_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub target_user_id: Option<String>,
    pub event: String,
    pub detail: String,
    pub ip: Option<String>,
    pub created_at: i64,
}

/// An audit row for an act done by the operator through the CLI or by start-up.
pub fn system_event(tenant_id: &str, target: Option<&str>, event: &str, now: i64) -> AuditEvent {
    AuditEvent {
        id: super::new_id(),
        tenant_id: Some(tenant_id.to_owned()),
        actor_user_id: None,
        target_user_id: target.map(str::to_owned),
        event: event.to_owned(),
        detail: r#"{"via":"system"}"#.to_owned(),
        ip: None,
        created_at: now,
    }
}

pub fn insert(conn: &mut DbConn, event: &AuditEvent) -> Result<(), StoreError> {
    crate::native!(conn, |c| diesel::insert_into(audit_events::table).values(event).execute(c))?;
    Ok(())
}

pub fn list_for_tenant(
    conn: &mut DbConn,
    tenant_id: &str,
    limit: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    Ok(crate::native!(conn, |c| audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .select(AuditEvent::as_select())
        .load(c))?)
}

/// The kinds of event a tenant's log holds, for a filter's list.
pub fn event_names(conn: &mut DbConn, tenant_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(crate::native!(conn, |c| audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .select(audit_events::event)
        .distinct()
        .order(audit_events::event)
        .load(c))?)
}

/// Who did it, from where: the part of an event the request knows.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub actor_user_id: Option<String>,
    pub ip: Option<String>,
}

/// Records `event` about `target` in `tenant_id`; `detail` must hold no secret.
pub fn record(
    conn: &mut DbConn,
    tenant_id: &str,
    origin: &Origin,
    target_user_id: Option<&str>,
    event: &str,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    insert(
        conn,
        &AuditEvent {
            id: super::new_id(),
            tenant_id: Some(tenant_id.to_owned()),
            actor_user_id: origin.actor_user_id.clone(),
            target_user_id: target_user_id.map(str::to_owned),
            event: event.to_owned(),
            detail: detail.to_string(),
            ip: origin.ip.clone(),
            created_at: now,
        },
    )
}

/// A time range of events: from `from` (inclusive) to `until` (exclusive), Unix seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub from: Option<i64>,
    pub until: Option<i64>,
}

/// Events of a tenant, newest first, optionally about one user, of one kind, in a span.
pub fn search(
    conn: &mut DbConn,
    tenant_id: &str,
    target: Option<&str>,
    event: Option<&str>,
    span: Span,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut query = audit_events::table
        .filter(audit_events::tenant_id.eq(tenant_id))
        .select(AuditEvent::as_select())
        .into_boxed();
    if let Some(from) = span.from {
        query = query.filter(audit_events::created_at.ge(from));
    }
    if let Some(until) = span.until {
        query = query.filter(audit_events::created_at.lt(until));
    }
    if let Some(target) = target {
        query = query.filter(audit_events::target_user_id.eq(target.to_owned()));
    }
    if let Some(event) = event {
        query = query.filter(audit_events::event.eq(event.to_owned()));
    }
    // Boxed for one backend (the filters vary): through `DbConn`, an admin page's query.
    Ok(query
        .order((audit_events::created_at.desc(), audit_events::id.desc()))
        .limit(limit)
        .offset(offset)
        .load(conn)?)
}
