//! One error type for the whole API, rendered as `application/problem+json` (RFC 9457).
//!
//! Each variant has a stable snake_case `code` that clients can match on. Database and
//! unexpected failures are logged and become a 503 or a 500 whose body reveals nothing.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use sea_orm::DbErr;
use serde::Serialize;
use utoipa::ToSchema;

use crate::telemetry::current_request_id;

/// One failing field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"field": "email", "code": "invalid_format", "message": "must be a valid email address"}))]
pub struct FieldError {
    /// The request field (body field or query parameter) the problem is about.
    pub field: String,
    /// Stable snake_case code of the rule that failed.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document: the body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:license-manager:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "One or more fields are invalid.",
    "code": "validation_failed",
    "request_id": "0b5a2a4e-6c1f-4d8e-9f0a-3c2b1a0d9e8f",
    "errors": [{"field": "email", "code": "invalid_format", "message": "must be a valid email address"}]
}))]
pub struct Problem {
    /// URI identifying the problem type: `urn:license-manager:problem:{code}`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    pub detail: String,
    /// Stable snake_case error code.
    pub code: String,
    /// The request id, also sent as the `X-Request-Id` header.
    pub request_id: String,
    /// Failing fields (for 400, 409 and 422).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    MalformedRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("authentication is required")]
    Unauthenticated,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("the token has been revoked")]
    TokenRevoked,
    #[error("forbidden")]
    Forbidden,
    #[error("account disabled")]
    AccountDisabled,
    #[error("password change required")]
    PasswordChangeRequired,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("conflict")]
    Conflict(Vec<FieldError>),
    #[error("last owner")]
    LastOwner,
    #[error("self action forbidden")]
    SelfActionForbidden,
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::MalformedRequest {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedRequest { .. } => "malformed_request",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::TokenRevoked => "token_revoked",
            Self::Forbidden => "forbidden",
            Self::AccountDisabled => "account_disabled",
            Self::PasswordChangeRequired => "password_change_required",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::LastOwner => "last_owner",
            Self::SelfActionForbidden => "self_action_forbidden",
            Self::PreconditionFailed => "precondition_failed",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::MalformedRequest { .. } => "Malformed request",
            Self::Unauthenticated => "Authentication required",
            Self::InvalidCredentials => "Invalid credentials",
            Self::TokenRevoked => "Token revoked",
            Self::Forbidden => "Forbidden",
            Self::AccountDisabled => "Account disabled",
            Self::PasswordChangeRequired => "Password change required",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::Conflict(_) => "Conflict",
            Self::LastOwner => "Last active owner",
            Self::SelfActionForbidden => "Not allowed on your own account",
            Self::PreconditionFailed => "Precondition failed",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType => "Unsupported media type",
            Self::Validation(_) => "Validation failed",
            Self::TooManyAttempts { .. } => "Too many attempts",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal server error",
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::MalformedRequest { detail, .. } => detail.clone(),
            Self::Unauthenticated => "A valid bearer token is required.".into(),
            Self::InvalidCredentials => "The username or password is incorrect.".into(),
            Self::TokenRevoked => {
                "The session has ended (signed out, or the account changed); sign in again.".into()
            }
            Self::Forbidden => "Your role does not allow this action.".into(),
            Self::AccountDisabled => "This account is disabled.".into(),
            Self::PasswordChangeRequired => {
                "You must change your password (PUT /api/v1/me/password) before doing anything else.".into()
            }
            Self::NotFound => "The resource does not exist.".into(),
            Self::MethodNotAllowed => "The method is not allowed on this resource.".into(),
            Self::Conflict(_) => "A user with the same value already exists.".into(),
            Self::LastOwner => "The company must keep at least one active owner.".into(),
            Self::SelfActionForbidden => "You cannot do this to your own account.".into(),
            Self::PreconditionFailed => {
                "The resource has changed since you read it (If-Match does not match its ETag).".into()
            }
            Self::PayloadTooLarge => "The request body is larger than 64 KiB.".into(),
            Self::UnsupportedMediaType => "The request body must be application/json.".into(),
            Self::Validation(_) => "One or more fields are invalid.".into(),
            Self::TooManyAttempts { retry_after_secs } => {
                format!("Too many failed attempts; try again in {retry_after_secs} seconds.")
            }
            Self::Unavailable(_) => "The database is unavailable; try again shortly.".into(),
            Self::Internal(_) => "An unexpected error occurred.".into(),
        }
    }

    fn errors(&self) -> Option<Vec<FieldError>> {
        match self {
            Self::MalformedRequest { errors, .. } if !errors.is_empty() => Some(errors.clone()),
            Self::Conflict(errors) | Self::Validation(errors) => Some(errors.clone()),
            _ => None,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            type_uri: format!("urn:license-manager:problem:{code}"),
            title: self.title().into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            code: code.into(),
            request_id: current_request_id().unwrap_or_default(),
            errors: self.errors(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::MalformedRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials | Self::TokenRevoked => {
                StatusCode::UNAUTHORIZED
            }
            Self::Forbidden | Self::AccountDisabled | Self::PasswordChangeRequired => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::LastOwner | Self::SelfActionForbidden => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Internal(reason) => tracing::error!(error = %reason, "request failed"),
            Self::Unavailable(reason) => tracing::warn!(error = %reason, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            Self::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TokenRevoked => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
            }
            Self::InvalidCredentials => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::TooManyAttempts { retry_after_secs } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        if is_unavailable(&err) {
            ApiError::Unavailable(err.to_string())
        } else {
            ApiError::Internal(err.to_string())
        }
    }
}

/// True when the error means the database cannot be reached or is overloaded, rather than a
/// fault in a query: the request may succeed when retried.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx;
    use sea_orm::{RuntimeErr, SqlxError};
    fn sqlx_unavailable(e: &SqlxError) -> bool {
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL: serialization failure, deadlock, statement timeout, server
                // shutting down, too many connections, connection exceptions (08…).
                // SQLite: any variant of BUSY (5) or LOCKED (6).
                matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "57014" | "57P01" | "57P02" | "57P03" | "53300"
                ) || code.starts_with("08")
                    || sqlite_busy(db.as_ref())
            }
            _ => false,
        }
    }
    match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_unavailable(e)
        }
        _ => false,
    }
}

/// True when SQLite refused because another connection holds a lock: any variant of BUSY (5)
/// or LOCKED (6).
fn sqlite_busy(db: &dyn sea_orm::sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
        && db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(|c| matches!(c & 0xFF, 5 | 6))
}

/// True when SQLite refused because another connection holds a lock (BUSY or LOCKED).
pub fn is_sqlite_busy(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let sqlx_err = match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    matches!(sqlx_err.as_ref(), sqlx::Error::Database(db) if sqlite_busy(db.as_ref()))
}
