//! UPDATEs that stay prepared.
//!
//! diesel never caches an `UpdateStatement`'s prepared statement: a changeset of
//! optional fields can write any subset of its columns, so in general its SQL is
//! unbounded. On PostgreSQL each such statement is then parsed and planned again through
//! the unnamed statement (one more round trip before it runs); on SQLite it is compiled
//! again. The UPDATEs of a login and a refresh (claim a TOTP step, note the last
//! sign-in, spend a code, rotate a refresh token) assign fixed columns, so their SQL is
//! fixed and one prepared statement per query serves every call.
//!
//! [`update`] builds such a statement from the same typed pieces diesel's own UPDATE is
//! made of (the table, a changeset, a boolean filter on the table), without the flag
//! that keeps it out of the cache. The cache is keyed by the SQL text, so a changeset
//! whose SQL did vary would cost one cache entry per variant, never run the wrong
//! statement; wrap only changesets of fixed columns all the same. The API tests check,
//! on each backend, that the hot path's writes are prepared once per connection.

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression};
use diesel::query_builder::{AsChangeset, AstPass, QueryFragment, QueryId};
use diesel::sql_types::BoolOrNullableBool;
use diesel::{QueryResult, Table};

/// `UPDATE table SET changeset WHERE filter`, kept prepared. See the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct FixedUpdate<F, V, W> {
    /// The table, as the FROM clause renders it.
    table: F,
    changeset: V,
    filter: W,
}

/// `UPDATE table SET values WHERE filter`, as `diesel::update(table.filter(filter)).set(values)`.
pub fn update<T, V, W>(table: T, values: V, filter: W) -> FixedUpdate<T::FromClause, V::Changeset, W>
where
    T: Table,
    V: AsChangeset<Target = T>,
    W: Expression + AppearsOnTable<T>,
    W::SqlType: BoolOrNullableBool,
{
    FixedUpdate { table: table.from_clause(), changeset: values.as_changeset(), filter }
}

impl<F, V, W, DB> QueryFragment<DB> for FixedUpdate<F, V, W>
where
    DB: Backend,
    F: QueryFragment<DB>,
    V: QueryFragment<DB>,
    W: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("UPDATE ");
        self.table.walk_ast(out.reborrow())?;
        out.push_sql(" SET ");
        self.changeset.walk_ast(out.reborrow())?;
        out.push_sql(" WHERE ");
        self.filter.walk_ast(out.reborrow())
    }
}

/// No static id: the statement cache keys the statement by its SQL text.
impl<F, V, W> QueryId for FixedUpdate<F, V, W> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<F, V, W, Conn> diesel::RunQueryDsl<Conn> for FixedUpdate<F, V, W> {}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use crate::store::schema::refresh_tokens;

    fn rotated(conn: &mut SqliteConnection) -> Vec<(String, Option<i64>)> {
        refresh_tokens::table
            .select((refresh_tokens::token_hash, refresh_tokens::rotated_at))
            .order(refresh_tokens::token_hash)
            .load(conn)
            .unwrap()
    }

    #[test]
    fn a_fixed_update_is_diesels_own_update_to_the_byte_and_changes_the_same_rows() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE refresh_tokens (token_hash TEXT PRIMARY KEY, rotated_at BIGINT, revoked_at BIGINT);
             INSERT INTO refresh_tokens VALUES ('a', NULL, NULL), ('b', NULL, NULL), ('c', NULL, 5);",
        )
        .unwrap();
        let ours = |hash: &str, now: i64| {
            super::update(
                refresh_tokens::table,
                refresh_tokens::rotated_at.eq(now),
                refresh_tokens::token_hash
                    .eq(hash.to_owned())
                    .and(refresh_tokens::rotated_at.is_null())
                    .and(refresh_tokens::revoked_at.is_null()),
            )
        };
        let diesels = |hash: &str, now: i64| {
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(hash.to_owned()))
                    .filter(refresh_tokens::rotated_at.is_null())
                    .filter(refresh_tokens::revoked_at.is_null()),
            )
            .set(refresh_tokens::rotated_at.eq(now))
        };
        // The same SQL, to the byte, on both backends.
        use diesel::{debug_query, pg::Pg, sqlite::Sqlite};
        assert_eq!(
            debug_query::<Sqlite, _>(&ours("a", 1)).to_string(),
            debug_query::<Sqlite, _>(&diesels("a", 1)).to_string()
        );
        assert_eq!(
            debug_query::<Pg, _>(&ours("a", 1)).to_string(),
            debug_query::<Pg, _>(&diesels("a", 1)).to_string()
        );

        // The same rows change, and only the first use of each conditional write wins.
        assert_eq!(ours("a", 10).execute(&mut conn).unwrap(), 1);
        assert_eq!(ours("a", 11).execute(&mut conn).unwrap(), 0, "already rotated");
        assert_eq!(ours("c", 12).execute(&mut conn).unwrap(), 0, "revoked");
        assert_eq!(diesels("b", 13).execute(&mut conn).unwrap(), 1);
        assert_eq!(diesels("b", 14).execute(&mut conn).unwrap(), 0);
        assert_eq!(rotated(&mut conn), [("a".into(), Some(10)), ("b".into(), Some(13)), ("c".into(), None)]);
    }
}
