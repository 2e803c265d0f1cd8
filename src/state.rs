use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::{Hasher, TokenKeys};
use crate::config::Config;

/// What every handler shares.
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub tokens: TokenKeys,
    pub hasher: Hasher,
}
