//! Request and response bodies of the HTTP API, with their OpenAPI schemas.
//!
//! Request bodies reject unknown fields. Bodies that carry a password do not implement
//! `Debug`, so they cannot end up in a log line.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::audit::{Action, Party};
use crate::domain::{Role, Status};
use crate::entities::{event, user};
use crate::policy::Access;

/// The strong entity tag of a user version: a quoted string.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A user of the caller's company. Never includes a password or hash.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f",
    "company_id": "0192f0c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "name": "Ada Lovelace",
    "username": "ada@example.com",
    "email": "ada@example.com",
    "role": "editor",
    "status": "active",
    "must_change_password": true,
    "created_at": "2026-12-03T16:40:00.123456Z",
    "updated_at": "2026-12-03T16:40:00.123456Z",
    "last_login_at": null,
    "version": 1
}))]
pub struct User {
    pub id: Uuid,
    pub company_id: Uuid,
    /// Display name, 1–100 characters.
    pub name: String,
    /// Sign-in name, normalised (NFKC, lower-case).
    pub username: String,
    /// Email address, lower-case.
    pub email: String,
    pub role: Role,
    pub status: Status,
    /// True until the user sets their own password (after creation or an owner's reset).
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Last successful sign-in, or null.
    pub last_login_at: Option<DateTime<Utc>>,
    /// Increases by one on every change to profile, role, status or password; the `ETag`.
    pub version: i64,
}

impl From<user::Model> for User {
    fn from(u: user::Model) -> Self {
        Self {
            id: u.id,
            company_id: u.company_id,
            role: Role::from_db(&u.role).unwrap_or(Role::Viewer),
            status: Status::from_db(&u.status).unwrap_or(Status::Disabled),
            name: u.name,
            username: u.username,
            email: u.email,
            must_change_password: u.must_change_password,
            created_at: u.created_at,
            updated_at: u.updated_at,
            last_login_at: u.last_login_at,
            version: u.version,
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [{
        "id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f",
        "company_id": "0192f0c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "name": "Ada Lovelace", "username": "ada@example.com", "email": "ada@example.com",
        "role": "editor", "status": "active", "must_change_password": false,
        "created_at": "2026-12-03T16:40:00.123456Z", "updated_at": "2026-12-03T16:42:10.000001Z",
        "last_login_at": "2026-12-03T16:45:00.654321Z", "version": 2
    }], "total": 1, "limit": 50, "offset": 0}))]
pub struct UserPage {
    pub items: Vec<User>,
    /// Number of users matching the filters, over all pages.
    pub total: u64,
    pub limit: u64,
    pub offset: u64,
}

/// A new user. The password is temporary: the user must change it at first sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Ada Lovelace",
    "username": "ada@example.com",
    "email": "ada@example.com",
    "password": "Analytical-Engine-1843",
    "role": "editor"
}))]
pub struct CreateUser {
    /// 1–100 characters, no control characters; trimmed.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 3–254 characters, no whitespace; normalised to NFKC lower-case. Using the email
    /// address is advised.
    #[schema(min_length = 3, max_length = 254)]
    pub username: String,
    #[schema(format = "email", max_length = 254)]
    pub email: String,
    /// Temporary password: 12–128 characters, strong enough (zxcvbn score ≥ 3).
    #[schema(min_length = 12, max_length = 128, format = "password")]
    pub password: String,
    #[schema(value_type = Role)]
    pub role: String,
}

/// Deserialises a present field as `Some(value)`, so `null` can be told from absence.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Ada King", "role": "manager"}))]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 100)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, min_length = 3, max_length = 254)]
    pub username: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, format = "email", max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Role, required = false)]
    pub role: Option<Option<String>>,
}

fn default_true() -> bool {
    true
}

/// A new password for another user, set by an owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"password": "Difference-Engine-1822", "must_change_password": true}))]
pub struct SetPassword {
    #[schema(min_length = 12, max_length = 128, format = "password")]
    pub password: String,
    /// Whether the user must choose a new password at next sign-in. Default true.
    #[serde(default = "default_true")]
    #[schema(default = true)]
    pub must_change_password: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "owner@example.com", "password": "Analytical-Engine-1843"}))]
pub struct Login {
    #[schema(max_length = 1024)]
    pub username: String,
    #[schema(max_length = 1024, format = "password")]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "mF3kZ0p7Qy2x9Xb1cV8nR4tL6wE5sA0dG3hJ2kP1uYo"}))]
pub struct Refresh {
    #[schema(max_length = 1024)]
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "Analytical-Engine-1843", "new_password": "Lovelace-Notes-G-1843"}))]
pub struct ChangePassword {
    #[schema(max_length = 1024, format = "password")]
    pub current_password: String,
    #[schema(min_length = 12, max_length = 128, format = "password")]
    pub new_password: String,
}

/// A signed-in session's tokens.
#[derive(Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "mF3kZ0p7Qy2x9Xb1cV8nR4tL6wE5sA0dG3hJ2kP1uYo",
    "must_change_password": false,
    "user": {
        "id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f",
        "company_id": "0192f0c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "name": "Ada Lovelace", "username": "ada@example.com", "email": "ada@example.com",
        "role": "owner", "status": "active", "must_change_password": false,
        "created_at": "2026-12-03T16:40:00.123456Z", "updated_at": "2026-12-03T16:40:00.123456Z",
        "last_login_at": "2026-12-03T16:45:00.654321Z", "version": 1
    }
}))]
pub struct Tokens {
    /// JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque, single-use token for `POST /auth/refresh`.
    pub refresh_token: String,
    pub must_change_password: bool,
    pub user: User,
}

/// Access per section.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"licenses": "write", "shopping_cart": "write", "users": "none"}))]
pub struct Permissions {
    pub licenses: Access,
    pub shopping_cart: Access,
    pub users: Access,
}

impl Permissions {
    pub fn of(role: Role) -> Self {
        use crate::policy::{Section, access};
        Self {
            licenses: access(role, Section::Licenses),
            shopping_cart: access(role, Section::ShoppingCart),
            users: access(role, Section::Users),
        }
    }
}

/// The signed-in user and what they may do.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"user": {
        "id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f",
        "company_id": "0192f0c0-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
        "name": "Ada Lovelace", "username": "ada@example.com", "email": "ada@example.com",
        "role": "editor", "status": "active", "must_change_password": false,
        "created_at": "2026-12-03T16:40:00.123456Z", "updated_at": "2026-12-03T16:42:10.000001Z",
        "last_login_at": "2026-12-03T16:45:00.654321Z", "version": 2
    }, "permissions": {"licenses": "write", "shopping_cart": "none", "users": "none"}}))]
pub struct Me {
    pub user: User,
    pub permissions: Permissions,
}

/// One role of the policy table.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"role": "manager", "description": "Full access except managing users.",
    "access": {"licenses": "write", "shopping_cart": "write", "users": "none"}}))]
pub struct RoleInfo {
    pub role: Role,
    pub description: String,
    pub access: Permissions,
}

/// The role policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"roles": [
    {"role": "owner", "description": "Full access, including managing the company's users.",
     "access": {"licenses": "write", "shopping_cart": "write", "users": "write"}},
    {"role": "viewer", "description": "Read-only access to licenses; no shopping cart or users.",
     "access": {"licenses": "read", "shopping_cart": "none", "users": "none"}}
]}))]
pub struct Roles {
    pub roles: Vec<RoleInfo>,
}

/// A history entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "id": "0192f0c2-0000-7000-8000-000000000001",
    "occurred_at": "2026-12-03T16:50:00.123456Z",
    "action": "user.updated",
    "actor": {"id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f", "username": "owner@example.com", "name": "Olivia Owner"},
    "subject": {"id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e60", "username": "ada@example.com", "name": "Ada Lovelace"},
    "changes": {"role": {"old": "viewer", "new": "editor"}},
    "ip": "127.0.0.1",
    "user_agent": "curl/8.5.0",
    "request_id": "7f9c2b1e-3d4a-4b5c-8d6e-9f0a1b2c3d4e"
}))]
pub struct Event {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = Action)]
    pub action: String,
    pub actor: Option<Party>,
    pub subject: Option<Party>,
    /// `{field: {"old": x, "new": y}}`; a password change is `{"password": {"changed": true}}`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

fn party(id: Option<Uuid>, username: Option<String>, name: Option<String>) -> Option<Party> {
    id.map(|id| Party {
        id,
        username: username.unwrap_or_default(),
        name: name.unwrap_or_default(),
    })
}

impl From<event::Model> for Event {
    fn from(e: event::Model) -> Self {
        Self {
            id: e.id,
            occurred_at: e.occurred_at,
            action: e.action,
            actor: party(e.actor_id, e.actor_username, e.actor_name),
            subject: party(e.subject_id, e.subject_username, e.subject_name),
            changes: e.changes,
            ip: e.ip,
            user_agent: e.user_agent,
            request_id: e.request_id,
        }
    }
}

/// A page of history, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"items": [{
    "id": "0192f0c2-0000-7000-8000-000000000002",
    "occurred_at": "2026-12-03T16:51:00.000001Z",
    "action": "user.disabled",
    "actor": {"id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5e", "username": "owner@example.com", "name": "Olivia Owner"},
    "subject": {"id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f", "username": "ada@example.com", "name": "Ada Lovelace"},
    "changes": {"status": {"old": "active", "new": "disabled"}},
    "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0",
    "request_id": "7f9c2b1e-3d4a-4b5c-8d6e-9f0a1b2c3d4e"
}], "next_cursor": "czoxMjM"}))]
pub struct EventPage {
    pub items: Vec<Event>,
    /// Pass as `cursor` to get the next (older) page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Query of `GET /users`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListUsersParams {
    /// Case-insensitive substring of the name.
    #[param(max_length = 254)]
    pub name: Option<String>,
    /// Case-insensitive substring of the username.
    #[param(max_length = 254)]
    pub username: Option<String>,
    /// Case-insensitive substring of the email.
    #[param(max_length = 254)]
    pub email: Option<String>,
    /// Role, or a comma-separated list of roles (any of).
    #[param(
        example = "owner,manager",
        pattern = r"^((owner|manager|editor|viewer)(,(owner|manager|editor|viewer))*)?$"
    )]
    pub role: Option<String>,
    /// Status, or a comma-separated list (any of).
    #[param(
        example = "active",
        pattern = r"^((active|disabled)(,(active|disabled))*)?$"
    )]
    pub status: Option<String>,
    /// Case-insensitive substring of name, username or email.
    #[param(max_length = 254)]
    pub q: Option<String>,
    /// Sort key, `-` prefix for descending: name, username, email, role, status, created_at,
    /// last_login_at. Ties are broken by id.
    #[param(
        example = "-created_at",
        pattern = r"^(-?(name|username|email|role|status|created_at|last_login_at))?$"
    )]
    pub sort: Option<String>,
    /// Page size, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// Items to skip, ≥ 0.
    #[param(minimum = 0, default = 0)]
    pub offset: Option<i64>,
}

/// Query of `GET /users/{id}/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Action, or a comma-separated list of actions (any of).
    #[param(
        example = "user.updated,user.disabled",
        pattern = r"^((user\.(created|updated|deleted|disabled|enabled|password_reset|password_changed)|auth\.(login_succeeded|login_failed|logout|refresh_reuse_detected))(,(user\.(created|updated|deleted|disabled|enabled|password_reset|password_changed)|auth\.(login_succeeded|login_failed|logout|refresh_reuse_detected)))*)?$"
    )]
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// Query of `GET /audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only events by this user.
    pub actor_id: Option<Uuid>,
    /// Only events about this user (also after they were deleted).
    pub subject_id: Option<Uuid>,
    /// Action, or a comma-separated list of actions (any of).
    #[param(
        example = "user.deleted",
        pattern = r"^((user\.(created|updated|deleted|disabled|enabled|password_reset|password_changed)|auth\.(login_succeeded|login_failed|logout|refresh_reuse_detected))(,(user\.(created|updated|deleted|disabled|enabled|password_reset|password_changed)|auth\.(login_succeeded|login_failed|logout|refresh_reuse_detected)))*)?$"
    )]
    pub action: Option<String>,
    /// Only events at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only events before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Page size, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 100)]
    pub cursor: Option<String>,
}

/// Health status.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    pub status: String,
}
