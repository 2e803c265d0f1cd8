//! The role policy: the only place where roles are interpreted.
//!
//! Handlers ask [`require`] for a `(section, access)` pair; on success they get a [`Permit`],
//! which the services that change data take as an argument, so no privileged operation can be
//! reached without passing the check.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::domain::Role;
use crate::error::ApiError;

/// A part of the product whose access depends on the role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Licenses,
    ShoppingCart,
    Users,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Licenses, Section::ShoppingCart, Section::Users];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Licenses => "licenses",
            Section::ShoppingCart => "shopping_cart",
            Section::Users => "users",
        }
    }
}

/// What a role may do in a section. Ordered: `none < read < write`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    ToSchema,
)]
#[serde(rename_all = "lowercase")]
#[schema(example = "write")]
pub enum Access {
    None,
    Read,
    Write,
}

/// The policy table. A section not listed here follows the `licenses` row.
pub fn access(role: Role, section: Section) -> Access {
    use Access::*;
    match (section, role) {
        (Section::Users, Role::Owner) => Write,
        (Section::Users, _) => None,
        (Section::ShoppingCart, Role::Owner | Role::Manager) => Write,
        (Section::ShoppingCart, _) => None,
        (Section::Licenses, Role::Viewer) => Read,
        (Section::Licenses, _) => Write,
    }
}

/// One line describing each role, for role pickers.
pub fn describe(role: Role) -> &'static str {
    match role {
        Role::Owner => "Full access, including managing the company's users.",
        Role::Manager => "Full access except managing users.",
        Role::Editor => "Manages licenses; no access to users or the shopping cart.",
        Role::Viewer => "Read-only access to licenses; no shopping cart or users.",
    }
}

/// Proof that `caller` passed a policy check for `section`. Only [`require`] makes one.
#[derive(Debug)]
pub struct Permit<'a> {
    caller: &'a Caller,
    section: Section,
    access: Access,
}

impl Permit<'_> {
    pub fn caller(&self) -> &Caller {
        self.caller
    }

    pub fn company_id(&self) -> uuid::Uuid {
        self.caller.company_id
    }

    pub fn section(&self) -> Section {
        self.section
    }

    pub fn access(&self) -> Access {
        self.access
    }
}

/// Checks that the caller's role grants at least `needed` on `section`; 403 `forbidden` if not.
pub fn require(caller: &Caller, section: Section, needed: Access) -> Result<Permit<'_>, ApiError> {
    let granted = access(caller.role, section);
    if needed == Access::None || granted < needed {
        return Err(ApiError::Forbidden);
    }
    Ok(Permit {
        caller,
        section,
        access: granted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_contract() {
        use Access::*;
        let expected = [
            (Role::Owner, [Write, Write, Write]),
            (Role::Manager, [Write, Write, None]),
            (Role::Editor, [Write, None, None]),
            (Role::Viewer, [Read, None, None]),
        ];
        for (role, row) in expected {
            for (section, want) in Section::ALL.into_iter().zip(row) {
                assert_eq!(access(role, section), want, "{role:?} on {section:?}");
            }
        }
    }

    #[test]
    fn access_levels_are_ordered() {
        assert!(Access::None < Access::Read && Access::Read < Access::Write);
    }
}
