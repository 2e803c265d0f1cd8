use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::FieldError;

/// A user's role in their company.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(example = "editor")]
pub enum Role {
    Owner,
    Manager,
    Editor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Manager, Role::Editor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// Parses a client-supplied role, naming `field` when it is not one of the roles.
    pub fn parse(value: &str, field: &str) -> Result<Self, FieldError> {
        Self::from_db(value).ok_or_else(|| {
            FieldError::new(
                field,
                "invalid_value",
                "must be one of owner, manager, editor, viewer",
            )
        })
    }
}

/// Whether a user may sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(example = "active")]
pub enum Status {
    Active,
    Disabled,
}

impl Status {
    pub const ALL: [Status; 2] = [Status::Active, Status::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Disabled => "disabled",
        }
    }

    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn parse(value: &str, field: &str) -> Result<Self, FieldError> {
        Self::from_db(value).ok_or_else(|| {
            FieldError::new(field, "invalid_value", "must be one of active, disabled")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_reject_unknown_values() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str(), "role").unwrap(), role);
        }
        let err = Role::parse("admin", "role").unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.code.as_str()),
            ("role", "invalid_value")
        );
        assert!(Role::parse("Owner", "role").is_err());
        assert_eq!(
            Status::parse("disabled", "status").unwrap(),
            Status::Disabled
        );
        assert!(Status::parse("locked", "status").is_err());
    }
}
