//! Queries. Every function that reads or changes a company's users or events takes the company
//! id as a required argument; session functions are keyed by ids taken from a verified token
//! or from the database. All take any `ConnectionTrait`, so services decide the transaction.

pub mod events;
pub mod sessions;
pub mod settings;
pub mod throttle;
pub mod users;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// A raw statement written with PostgreSQL's `$1` placeholders, rewritten to SQLite's
/// numbered `?1` when needed.
pub fn raw(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => numbered_to_sqlite(sql),
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `$1` → `?1`; a `$` not followed by a digit is left alone.
fn numbered_to_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Serialises every change to the users of one company until the transaction ends: a row
/// lock on PostgreSQL, the database write lock on SQLite (a no-op write takes it at once, so
/// two transactions never both read and then fail to upgrade). Rules that read several rows,
/// such as "keep one active owner", are then race-free.
pub async fn lock_company(conn: &impl ConnectionTrait, company_id: Uuid) -> Result<bool, DbErr> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        // NO KEY UPDATE: serialises user changes without blocking the foreign-key checks of
        // concurrent inserts that reference the company (events).
        DbBackend::Postgres => "SELECT id FROM companies WHERE id = $1 FOR NO KEY UPDATE",
        _ => "UPDATE companies SET name = name WHERE id = $1",
    };
    let stmt = raw(backend, sql, vec![company_id.into()]);
    Ok(match backend {
        DbBackend::Postgres => conn.query_one_raw(stmt).await?.is_some(),
        _ => conn.execute_raw(stmt).await?.rows_affected() == 1,
    })
}

/// Escapes `%`, `_` and `\` so a user's text matches literally inside a LIKE pattern.
pub fn like_contains(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let pg = raw(
            DbBackend::Postgres,
            "SELECT $1, $2",
            vec![1.into(), 2.into()],
        );
        assert_eq!(pg.sql, "SELECT $1, $2");
        let lite = raw(
            DbBackend::Sqlite,
            "SELECT $1, $2, '$x'",
            vec![1.into(), 2.into()],
        );
        assert_eq!(lite.sql, "SELECT ?1, ?2, '$x'");
    }
}
