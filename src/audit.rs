//! The history: event kinds and `record`, which services call inside the transaction of the
//! change they describe.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, IntoActiveModel};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::{event, user};
use crate::telemetry::RequestId;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = "user.updated")]
pub enum Action {
    #[serde(rename = "user.created")]
    UserCreated,
    #[serde(rename = "user.updated")]
    UserUpdated,
    #[serde(rename = "user.deleted")]
    UserDeleted,
    #[serde(rename = "user.disabled")]
    UserDisabled,
    #[serde(rename = "user.enabled")]
    UserEnabled,
    #[serde(rename = "user.password_reset")]
    UserPasswordReset,
    #[serde(rename = "user.password_changed")]
    UserPasswordChanged,
    #[serde(rename = "auth.login_succeeded")]
    LoginSucceeded,
    #[serde(rename = "auth.login_failed")]
    LoginFailed,
    #[serde(rename = "auth.logout")]
    Logout,
    #[serde(rename = "auth.refresh_reuse_detected")]
    RefreshReuseDetected,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::UserCreated,
        Action::UserUpdated,
        Action::UserDeleted,
        Action::UserDisabled,
        Action::UserEnabled,
        Action::UserPasswordReset,
        Action::UserPasswordChanged,
        Action::LoginSucceeded,
        Action::LoginFailed,
        Action::Logout,
        Action::RefreshReuseDetected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::UserCreated => "user.created",
            Action::UserUpdated => "user.updated",
            Action::UserDeleted => "user.deleted",
            Action::UserDisabled => "user.disabled",
            Action::UserEnabled => "user.enabled",
            Action::UserPasswordReset => "user.password_reset",
            Action::UserPasswordChanged => "user.password_changed",
            Action::LoginSucceeded => "auth.login_succeeded",
            Action::LoginFailed => "auth.login_failed",
            Action::Logout => "auth.logout",
            Action::RefreshReuseDetected => "auth.refresh_reuse_detected",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }
}

/// Who acted, or whom an event is about, as they were when it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"id": "0192f0c1-7c1e-7a11-9d7e-2f1b0c3d4e5f", "username": "ada@example.com", "name": "Ada Lovelace"}))]
pub struct Party {
    pub id: Uuid,
    pub username: String,
    pub name: String,
}

impl From<&user::Model> for Party {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
        }
    }
}

impl From<&crate::auth::Caller> for Party {
    fn from(c: &crate::auth::Caller) -> Self {
        Self {
            id: c.user_id,
            username: c.username.clone(),
            name: c.name.clone(),
        }
    }
}

/// The changes recorded with `user.created`: each initial field as `{"new": value}`.
pub fn created_changes(u: &user::Model) -> Value {
    json!({
        "name": {"new": u.name},
        "username": {"new": u.username},
        "email": {"new": u.email},
        "role": {"new": u.role},
    })
}

/// Where a request came from, recorded on every event it causes.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl FromRequest for RequestMeta {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user_agent = req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(512).collect());
        ready(Ok(RequestMeta {
            ip: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
        }))
    }
}

/// The field-by-field difference recorded with an update: `{field: {"old": x, "new": y}}`.
#[derive(Default)]
pub struct Changes(Map<String, Value>);

impl Changes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `field` when `old` and `new` differ.
    pub fn diff<T: Serialize + PartialEq>(&mut self, field: &str, old: &T, new: &T) -> &mut Self {
        if old != new {
            self.0.insert(field.into(), json!({"old": old, "new": new}));
        }
        self
    }

    /// Records that a secret changed, without any value.
    pub fn secret_changed(&mut self, field: &str) -> &mut Self {
        self.0.insert(field.into(), json!({"changed": true}));
        self
    }

    pub fn set(&mut self, field: &str, value: Value) -> &mut Self {
        self.0.insert(field.into(), value);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_value(self) -> Option<Value> {
        (!self.0.is_empty()).then_some(Value::Object(self.0))
    }
}

/// One event to write.
pub struct Entry<'a> {
    pub company_id: Uuid,
    pub action: Action,
    pub actor: Option<Party>,
    pub subject: Option<Party>,
    pub changes: Option<Value>,
    pub meta: &'a RequestMeta,
}

/// Appends an event. Call it on the transaction that makes the change.
pub async fn record(conn: &impl ConnectionTrait, entry: Entry<'_>) -> Result<(), DbErr> {
    let (actor_id, actor_username, actor_name) = split(entry.actor);
    let (subject_id, subject_username, subject_name) = split(entry.subject);
    let row = event::Model {
        seq: 0,
        id: Uuid::now_v7(),
        company_id: entry.company_id,
        occurred_at: crate::now(),
        action: entry.action.as_str().into(),
        actor_id,
        actor_username,
        actor_name,
        subject_id,
        subject_username,
        subject_name,
        changes: entry.changes,
        ip: entry.meta.ip.clone(),
        user_agent: entry.meta.user_agent.clone(),
        request_id: entry.meta.request_id.clone(),
    };
    let mut active = row.into_active_model().reset_all();
    active.seq = sea_orm::ActiveValue::NotSet;
    active.insert(conn).await?;
    Ok(())
}

fn split(party: Option<Party>) -> (Option<Uuid>, Option<String>, Option<String>) {
    match party {
        Some(p) => (Some(p.id), Some(p.username), Some(p.name)),
        None => (None, None, None),
    }
}
