//! One function per use case: check → begin → change → record the event → commit.

pub mod auth;
pub mod bootstrap;
pub mod users;

use sea_orm::{DbErr, SqlErr};

use crate::error::{ApiError, FieldError};

/// Maps a unique-constraint violation on users to a 409 naming the field; other errors pass.
pub fn unique_violation(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => {
            let field = if message.contains("email") {
                "email"
            } else {
                "username"
            };
            ApiError::Conflict(vec![FieldError::new(
                field,
                "taken",
                format!("this {field} is already in use"),
            )])
        }
        _ => err.into(),
    }
}
