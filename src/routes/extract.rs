//! Request-parsing errors rendered as problems, and extractor aliases whose errors do not
//! pre-empt authentication (a handler checks the caller first, then unwraps these).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::{HttpRequest, web};

use crate::error::{ApiError, FieldError};

pub type Body<T> = Result<web::Json<T>, actix_web::Error>;
pub type QueryOf<T> = Result<web::Query<T>, actix_web::Error>;
pub type IdPath = Result<web::Path<uuid::Uuid>, actix_web::Error>;

/// Drops the offending value from serde's messages (`invalid type: string "…"` → `invalid
/// type: string`), so a secret sent in the wrong field type is never echoed back.
fn sanitize(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix)
            && let Some(idx) = rest.find(", expected")
        {
            let kind = rest[..idx].split_whitespace().next().unwrap_or("value");
            return format!("{prefix}{kind}{}", &rest[idx..]);
        }
    }
    message.to_owned()
}

/// `unknown field `x`` / `missing field `x`` → the field name.
fn field_of(message: &str) -> Option<(String, &'static str)> {
    for (marker, code) in [
        ("unknown field `", "unknown_field"),
        ("missing field `", "required"),
        ("duplicate field `", "duplicate_field"),
    ] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            let end = rest.find('`')?;
            return Some((rest[..end].to_owned(), code));
        }
    }
    None
}

fn malformed(prefix: &str, message: String) -> ApiError {
    let message = sanitize(&message);
    let errors = field_of(&message)
        .map(|(field, code)| vec![FieldError::new(field, code, message.clone())])
        .unwrap_or_default();
    ApiError::MalformedRequest {
        detail: format!("{prefix}: {message}"),
        errors,
    }
}

pub fn body_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let api = match err {
        JsonPayloadError::ContentType => ApiError::UnsupportedMediaType,
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::Deserialize(e) => {
            malformed("The request body is not valid", e.to_string())
        }
        other => ApiError::malformed(format!("The request body could not be read: {other}")),
    };
    api.into()
}

pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let message = match err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        other => other.to_string(),
    };
    malformed("The query string is not valid", message).into()
}

pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    ApiError::MalformedRequest {
        detail: "The id in the path is not a valid UUID.".into(),
        errors: vec![FieldError::new("id", "invalid_format", "must be a UUID")],
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_removed_from_type_errors() {
        let msg =
            r#"invalid type: string "hunter2-secret", expected a boolean at line 1 column 30"#;
        assert_eq!(
            sanitize(msg),
            "invalid type: string, expected a boolean at line 1 column 30"
        );
        assert_eq!(sanitize("missing field `name`"), "missing field `name`");
    }

    #[test]
    fn field_names_are_extracted() {
        assert_eq!(
            field_of("unknown field `role`, expected one of `name`"),
            Some(("role".to_string(), "unknown_field"))
        );
        assert_eq!(
            field_of("missing field `email` at line 1"),
            Some(("email".to_string(), "required"))
        );
        assert_eq!(field_of("expected value at line 1 column 1"), None);
    }
}
