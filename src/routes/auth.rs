//! `/auth/*`, `/me`, `/me/password` and `/roles`.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, put, web};

use super::extract::Body;
use crate::audit::RequestMeta;
use crate::auth::{Caller, SignedIn};
use crate::domain::Role;
use crate::dto::{ChangePassword, Login, Me, Permissions, Refresh, RoleInfo, Roles, Tokens};
use crate::error::ApiError;
use crate::policy;
use crate::services;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password)
        .service(roles);
}

fn tokens_response(tokens: Tokens) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(tokens)
}

/// Sign in.
///
/// Returns an access token and a refresh token. Unknown usernames and wrong passwords get the
/// same answer. After 5 failed attempts for one username within 15 minutes, further attempts
/// get 429 until the window has passed.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    security(()),
    request_body(content = Login, content_type = "application/json"),
    responses(
        (status = 200, description = "Signed in.", body = Tokens),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::InvalidCredentials),
        (status = 403, response = crate::openapi::AccountDisabled),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 429, response = crate::openapi::TooManyAttempts),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Body<Login>,
) -> actix_web::Result<HttpResponse> {
    let body = body?.into_inner();
    Ok(tokens_response(
        services::auth::login(&state, &meta, body).await?,
    ))
}

/// Exchange a refresh token for a new token pair.
///
/// Refresh tokens are single-use: each call returns a new one. Presenting a used refresh token
/// again revokes the whole session.
#[utoipa::path(
    tag = "auth",
    operation_id = "refreshToken",
    security(()),
    request_body(content = Refresh, content_type = "application/json"),
    responses(
        (status = 200, description = "New tokens.", body = Tokens),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    state: web::Data<AppState>,
    meta: RequestMeta,
    body: Body<Refresh>,
) -> actix_web::Result<HttpResponse> {
    let body = body?.into_inner();
    Ok(tokens_response(
        services::auth::refresh(&state, &meta, &body.refresh_token).await?,
    ))
}

/// Sign out: revokes the current session and its refresh token.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    responses(
        (status = 204, description = "Signed out."),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    meta: RequestMeta,
    caller: SignedIn,
) -> actix_web::Result<HttpResponse> {
    services::auth::logout(&state, &meta, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user and their access per section.
#[utoipa::path(
    tag = "me",
    operation_id = "getMe",
    responses(
        (status = 200, description = "The signed-in user.", body = Me),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(state: web::Data<AppState>, caller: SignedIn) -> actix_web::Result<HttpResponse> {
    let user = services::auth::me(&state, &caller.0).await?;
    let permissions = Permissions::of(caller.0.role);
    Ok(HttpResponse::Ok().json(Me {
        user: user.into(),
        permissions,
    }))
}

/// Change your own password.
///
/// Clears `must_change_password` and signs out your other sessions; this one stays valid. A
/// wrong `current_password` is a 422 naming that field, and counts as a failed sign-in attempt.
#[utoipa::path(
    tag = "me",
    operation_id = "changeMyPassword",
    request_body(content = ChangePassword, content_type = "application/json"),
    responses(
        (status = 204, description = "Password changed."),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 429, response = crate::openapi::TooManyAttempts),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[put("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    meta: RequestMeta,
    caller: SignedIn,
    body: Body<ChangePassword>,
) -> actix_web::Result<HttpResponse> {
    let body = body?.into_inner();
    services::auth::change_password(&state, &meta, &caller.0, body).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The role policy: each role, a description, and its access per section.
#[utoipa::path(
    tag = "roles",
    operation_id = "listRoles",
    responses(
        (status = 200, description = "The role table.", body = Roles),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/roles")]
async fn roles(_caller: Caller) -> Result<web::Json<Roles>, ApiError> {
    let roles = Role::ALL
        .into_iter()
        .map(|role| RoleInfo {
            role,
            description: policy::describe(role).into(),
            access: Permissions::of(role),
        })
        .collect();
    Ok(web::Json(Roles { roles }))
}
