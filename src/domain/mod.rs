//! The rules of a valid user, as newtypes: a value that exists has passed its `parse`.

mod fields;
mod password;
mod role;

pub use fields::{Email, PersonName, Username, fold, is_hidden_or_control};
pub use password::NewPassword;
pub use role::{Role, Status};

use crate::error::FieldError;

/// Collects the outcome of parsing several fields so that one 422 names every failing field.
#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records why it failed.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.push(err);
                None
            }
        }
    }

    pub fn push(&mut self, err: FieldError) {
        self.errors.push(err);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when nothing failed, else the 422 naming every failing field.
    pub fn finish(self) -> Result<(), crate::error::ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Validation(self.errors))
        }
    }
}
