//! Sign-in throttling state, kept in the database so that it holds across server processes.
//!
//! A sliding log: each attempt is a row in `login_attempts`, keyed by a pseudonym of the
//! normalised username (an HMAC: fixed size, whatever the client sent, and no username). An attempt is *reserved*
//! before the password is verified, inside a transaction that first locks the name's row in
//! `login_throttle`, so parallel requests, in one process or several, cannot squeeze in more
//! verifications than the limit.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait};

use super::raw;

/// Counts one attempt for `key` (a username's pseudonym) unless `max_attempts` were made in the last `window_ms`.
/// `Ok(None)` means go ahead; `Ok(Some(secs))` means throttled for that many more seconds.
pub async fn reserve_attempt(
    db: &DatabaseConnection,
    key: &str,
    now_ms: i64,
    window_ms: i64,
    max_attempts: u32,
) -> Result<Option<u64>, DbErr> {
    let backend = db.get_database_backend();
    let txn = db.begin().await?;
    // Locks this name's row (PostgreSQL) or takes the write lock (SQLite) before counting.
    txn.execute_raw(raw(
        backend,
        "INSERT INTO login_throttle (key, last_attempt_ms) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET last_attempt_ms = excluded.last_attempt_ms",
        vec![key.into(), now_ms.into()],
    ))
    .await?;
    let recent = txn
        .query_all_raw(raw(
            backend,
            "SELECT at_ms FROM login_attempts WHERE key = $1 AND at_ms > $2 ORDER BY at_ms",
            vec![key.into(), (now_ms - window_ms).into()],
        ))
        .await?;
    let max_attempts = max_attempts.max(1) as usize;
    if recent.len() >= max_attempts {
        txn.rollback().await?;
        // Free again when the oldest attempt that counts leaves the window.
        let oldest: i64 = recent[recent.len() - max_attempts].try_get("", "at_ms")?;
        let remaining_ms = (oldest + window_ms - now_ms).max(1000);
        return Ok(Some(((remaining_ms + 999) / 1000) as u64));
    }
    txn.execute_raw(raw(
        backend,
        "INSERT INTO login_attempts (key, at_ms) VALUES ($1, $2)",
        vec![key.into(), now_ms.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(None)
}

/// Forgets the attempts for `key` (after a successful sign-in or a password reset).
pub async fn reset(conn: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    conn.execute_raw(raw(
        backend,
        "DELETE FROM login_attempts WHERE key = $1",
        vec![key.into()],
    ))
    .await?;
    Ok(())
}

/// Deletes attempts older than the window, and names with no recent attempt.
pub async fn purge(conn: &impl ConnectionTrait, now_ms: i64, window_ms: i64) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let cutoff = now_ms - window_ms;
    conn.execute_raw(raw(
        backend,
        "DELETE FROM login_attempts WHERE at_ms <= $1",
        vec![cutoff.into()],
    ))
    .await?;
    conn.execute_raw(raw(
        backend,
        "DELETE FROM login_throttle WHERE last_attempt_ms <= $1",
        vec![cutoff.into()],
    ))
    .await?;
    Ok(())
}
