//! Authentication: password hashing, tokens, and the authenticated-caller extractors.

mod extract;
pub mod password;
pub mod tokens;

pub use extract::{Caller, SignedIn};
pub use password::Hasher;
pub use tokens::{Claims, TokenKeys};
