//! The store layer as the database sees it, on whichever backend the run uses.

use std::sync::{Arc, Mutex};

use diesel::connection::{Connection, InstrumentationEvent};
use diesel::prelude::*;
use watchword::store::audit::{self, Origin};
use watchword::store::schema::tenants;
use watchword::store::{Db, DbConn, StoreError, tokens, totp, users};

use crate::helpers::spawn_app;

/// The SQL texts `conn` puts into its statement cache from now on.
fn watch_cache(conn: &mut DbConn) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let watcher = move |event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            sink.lock().unwrap().push(sql.to_owned());
        }
    };
    watchword::native!(conn, |c| c.set_instrumentation(watcher));
    seen
}

/// A login's and a refresh's writes (the TOTP step claimed, the last sign-in, the code
/// spent, the refresh token rotated, an audit line) are each prepared once per
/// connection, not parsed again on every call (diesel caches no UPDATE, nor an INSERT
/// that names DEFAULT).
#[tokio::test]
async fn the_writes_of_a_login_and_a_refresh_are_prepared_once_per_connection() {
    let app = spawn_app().await;
    // A connection of its own: nothing it runs was cached before the watch began.
    let store = Db::connect(&app.settings.database_url).unwrap();
    let cached = store
        .run(|conn| -> Result<Vec<String>, StoreError> {
            let tenant: String = watchword::native!(conn, |c| tenants::table.select(tenants::id).first(c))?;
            let seen = watch_cache(conn);
            for now in [1, 2, 3] {
                assert!(!totp::claim_step(conn, "no-such-credential", now)?);
                users::set_last_login(conn, "no-such-user", now)?;
                assert!(!tokens::consume_code(conn, "no-such-code", now)?);
                assert!(!tokens::rotate(conn, "no-such-token", now)?);
                let detail = serde_json::json!({ "n": now });
                audit::record(conn, &tenant, &Origin::default(), None, "test.prepared", detail, now)?;
            }
            Ok(seen.lock().unwrap().clone())
        })
        .await
        .unwrap();
    for start in [
        "UPDATE totp_credentials SET last_used_step",
        "UPDATE users SET last_login_at",
        "UPDATE authorization_codes SET consumed_at",
        "UPDATE refresh_tokens SET rotated_at",
        "INSERT INTO audit_events",
    ] {
        // PostgreSQL quotes names with ", SQLite with `.
        let n = cached.iter().filter(|sql| sql.replace(['"', '`'], "").starts_with(start)).count();
        assert_eq!(n, 1, "{start}… prepared {n} times for three runs on {}: {cached:#?}", store.backend());
    }
}
