//! Extractors that turn a bearer token into an authenticated caller.
//!
//! Every request re-checks, in one query, that the session is live and that the user is still
//! active with the role in the token, so revocations take effect on the very next request.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use uuid::Uuid;

use crate::domain::{Role, Status};
use crate::error::ApiError;
use crate::repo;
use crate::state::AppState;

/// An authenticated caller who is allowed to use the API: their session is live, their
/// account active, and they do not have to change their password first.
#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: Uuid,
    pub company_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    pub username: String,
    pub name: String,
    pub must_change_password: bool,
    /// When the access token expires (seconds since the epoch).
    pub token_expires_at: i64,
}

impl Caller {
    /// Checks again, on the connection of a change about to be written, that the token has not
    /// expired, the session is live and the user still active with the same role. Services
    /// call it inside their transaction, after taking the company lock, so a request whose body
    /// arrives late, or that waited for the password hasher, cannot act for a caller who was
    /// signed out, disabled, deleted or demoted meanwhile.
    pub async fn recheck(&self, conn: &impl sea_orm::ConnectionTrait) -> Result<(), ApiError> {
        if chrono::Utc::now().timestamp() >= self.token_expires_at {
            return Err(ApiError::Unauthenticated);
        }
        let user = repo::sessions::live_session_user(conn, self.session_id, self.user_id)
            .await?
            .ok_or(ApiError::TokenRevoked)?;
        if user.company_id != self.company_id
            || Status::from_db(&user.status) != Some(Status::Active)
            || Role::from_db(&user.role) != Some(self.role)
        {
            return Err(ApiError::TokenRevoked);
        }
        Ok(())
    }
}

/// An authenticated caller who may still have to change their password. Only the endpoints
/// that stay open during a forced password change take this.
#[derive(Clone, Debug)]
pub struct SignedIn(pub Caller);

fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let token = bearer_token(&req).ok_or(ApiError::Unauthenticated)?;
    let claims = state
        .tokens
        .verify(token)
        .ok_or(ApiError::Unauthenticated)?;
    let user = repo::sessions::live_session_user(&state.db, claims.sid, claims.sub)
        .await?
        .ok_or(ApiError::TokenRevoked)?;
    let role = Role::from_db(&user.role);
    if user.company_id != claims.cid
        || Status::from_db(&user.status) != Some(Status::Active)
        || role != Some(claims.role)
    {
        return Err(ApiError::TokenRevoked);
    }
    Ok(Caller {
        user_id: user.id,
        company_id: user.company_id,
        role: claims.role,
        session_id: claims.sid,
        username: user.username,
        name: user.name,
        must_change_password: user.must_change_password,
        token_expires_at: claims.exp,
    })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req).await.map(SignedIn) })
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let caller = authenticate(req).await?;
            if caller.must_change_password {
                return Err(ApiError::PasswordChangeRequired);
            }
            Ok(caller)
        })
    }
}
