use sea_orm::{ConnectionTrait, DbErr};

use super::raw;

/// The value stored under `key`, storing `candidate` first if there is none. Several processes
/// starting at once all get the same value: the first insert wins.
pub async fn get_or_insert(
    conn: &impl ConnectionTrait,
    key: &str,
    candidate: &str,
) -> Result<(String, bool), DbErr> {
    let backend = conn.get_database_backend();
    let inserted = conn
        .execute_raw(raw(
            backend,
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            vec![key.into(), candidate.into()],
        ))
        .await?
        .rows_affected()
        == 1;
    let row = conn
        .query_one_raw(raw(
            backend,
            "SELECT value FROM settings WHERE key = $1",
            vec![key.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("setting {key}")))?;
    Ok((row.try_get("", "value")?, inserted))
}
