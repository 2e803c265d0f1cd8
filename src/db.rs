//! Database connection, migrations and the persisted signing secret.

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr,
    TransactionTrait,
};

use crate::config::Config;

/// Opens the connection pool described by the configuration.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(config.db_acquire_timeout)
        .connect_timeout(config.db_acquire_timeout)
        .sqlx_logging(false);
    let busy_timeout = config.db_acquire_timeout;
    options.map_sqlx_sqlite_opts(move |o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(busy_timeout)
    });
    let statement_timeout = format!("{}", config.db_statement_timeout.as_millis());
    options.map_sqlx_postgres_opts(move |o| {
        o.options([("statement_timeout", statement_timeout.as_str())])
    });
    // Switching a new SQLite file to WAL needs a moment of exclusive access, and SQLite answers
    // "busy" at once instead of waiting: processes starting together on one file retry.
    let deadline = std::time::Instant::now() + config.db_acquire_timeout * 2;
    loop {
        match Database::connect(options.clone()).await {
            Err(e) if crate::error::is_sqlite_busy(&e) && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(
                    50 + rand::random::<u64>() % 100,
                ))
                .await;
            }
            result => return result,
        }
    }
}

/// Applies pending migrations in one transaction that first takes a database-wide lock, so
/// processes that start together apply them one at a time and each migration runs exactly
/// once: an advisory lock on PostgreSQL, the write lock on SQLite (a write to a lock table).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    let txn = db.begin().await?;
    match db.get_database_backend() {
        DbBackend::Postgres => {
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(7242917113)")
                .await?;
        }
        _ => {
            txn.execute_unprepared(
                "CREATE TABLE IF NOT EXISTS migration_lock (id INTEGER PRIMARY KEY)",
            )
            .await?;
            txn.execute_unprepared("DELETE FROM migration_lock").await?;
        }
    }
    Migrator::up(&txn, None).await?;
    txn.commit().await
}

/// The token keys from the signing secret (see [`signing_secret`]).
pub async fn token_keys(
    db: &DatabaseConnection,
    config: &Config,
) -> Result<crate::auth::TokenKeys, String> {
    let secret = signing_secret(db, config).await?;
    crate::auth::TokenKeys::new(&secret, config.access_token_ttl)
}

/// The HS256 secret: from the configuration, else generated once and kept in the database.
pub async fn signing_secret(db: &DatabaseConnection, config: &Config) -> Result<Vec<u8>, String> {
    if let Some(secret) = &config.jwt_secret {
        if secret.len() < 32 {
            return Err("LM_JWT_SECRET must be at least 32 bytes".into());
        }
        return Ok(secret.as_bytes().to_vec());
    }
    let (secret, created) =
        crate::repo::settings::get_or_insert(db, "jwt_secret", &crate::auth::tokens::new_secret())
            .await
            .map_err(|e| format!("cannot read the signing secret: {e}"))?;
    if created {
        tracing::warn!(
            "LM_JWT_SECRET is not set: generated a signing secret and stored it in the database"
        );
    } else {
        tracing::warn!("LM_JWT_SECRET is not set: using the signing secret stored in the database");
    }
    Ok(secret.into_bytes())
}
