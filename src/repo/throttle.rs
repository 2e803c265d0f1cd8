//! Sign-in throttling state, kept in the database so that it holds across server processes.
//!
//! An attempt is *reserved* (counted) before the password is verified, in one atomic upsert,
//! so parallel requests cannot squeeze in more verifications than the limit.

use sea_orm::{ConnectionTrait, DbErr};

use super::raw;

/// Counts one attempt for `key` unless the limit is reached. `Ok(None)` means go ahead;
/// `Ok(Some(secs))` means throttled for that many more seconds.
pub async fn reserve_attempt(
    conn: &impl ConnectionTrait,
    key: &str,
    now_ms: i64,
    window_ms: i64,
    max_attempts: u32,
) -> Result<Option<u64>, DbErr> {
    let backend = conn.get_database_backend();
    let cutoff = now_ms - window_ms;
    let reserved = conn
        .query_one_raw(raw(
            backend,
            "INSERT INTO login_throttle (key, attempts, window_started_ms) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               attempts = CASE WHEN login_throttle.window_started_ms <= $3 THEN 1 \
                               ELSE login_throttle.attempts + 1 END, \
               window_started_ms = CASE WHEN login_throttle.window_started_ms <= $3 THEN $2 \
                               ELSE login_throttle.window_started_ms END \
             WHERE login_throttle.window_started_ms <= $3 OR login_throttle.attempts < $4 \
             RETURNING attempts",
            vec![
                key.into(),
                now_ms.into(),
                cutoff.into(),
                (max_attempts as i32).into(),
            ],
        ))
        .await?;
    if reserved.is_some() {
        return Ok(None);
    }
    let started: i64 = conn
        .query_one_raw(raw(
            backend,
            "SELECT window_started_ms FROM login_throttle WHERE key = $1",
            vec![key.into()],
        ))
        .await?
        .map(|row| row.try_get("", "window_started_ms"))
        .transpose()?
        .unwrap_or(now_ms);
    let remaining_ms = (started + window_ms - now_ms).max(1000);
    Ok(Some(((remaining_ms + 999) / 1000) as u64))
}

/// Forgets the attempts for `key` (after a successful sign-in).
pub async fn reset(conn: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    conn.execute_raw(raw(
        backend,
        "DELETE FROM login_throttle WHERE key = $1",
        vec![key.into()],
    ))
    .await?;
    Ok(())
}
