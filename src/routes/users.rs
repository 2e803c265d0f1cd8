//! `/users/*` and `/audit` (section `users`: owners only).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};

use super::extract::{Body, IdPath, QueryOf};
use super::user_response;
use crate::audit::RequestMeta;
use crate::auth::Caller;
use crate::domain::Status;
use crate::dto::{
    AuditParams, CreateUser, EventPage, HistoryParams, ListUsersParams, SetPassword, UpdateUser,
    User, UserPage,
};
use crate::policy::{self, Access, Section};
use crate::services;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(delete_user)
        .service(set_user_password)
        .service(disable_user)
        .service(enable_user)
        .service(user_history)
        .service(audit_log);
}

/// List the company's users.
///
/// Every filter can be combined with the others. Text filters match a case-insensitive
/// substring. Ties in the sort order are broken by id, so pages never overlap.
#[utoipa::path(
    tag = "users",
    operation_id = "listUsers",
    params(ListUsersParams),
    responses(
        (status = 200, description = "A page of users.", body = UserPage),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryOf<ListUsersParams>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Read)?;
    let query = query?.into_inner();
    let (items, total, limit, offset) = services::users::list(&state, &permit, query).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        items: items.into_iter().map(User::from).collect(),
        total,
        limit,
        offset,
    }))
}

/// Add a user with a temporary password.
///
/// The new user must change the password at first sign-in (`must_change_password` is true).
#[utoipa::path(
    tag = "users",
    operation_id = "createUser",
    request_body(content = CreateUser, content_type = "application/json"),
    responses(
        (status = 201, description = "Created.", body = User,
            headers(("Location" = String, description = "URL of the new user"), ("ETag" = String, description = "Version tag"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    body: Body<CreateUser>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Write)?;
    let body = body?.into_inner();
    let user = services::users::create(&state, &permit, &meta, body).await?;
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::LOCATION, format!("/api/v1/users/{}", user.id)));
    Ok(user_response(builder, user))
}

/// Get one user.
#[utoipa::path(
    tag = "users",
    operation_id = "getUser",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user.", body = User,
            headers(("ETag" = String, description = "Version tag, for If-Match"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    caller: Caller,
    id: IdPath,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Read)?;
    let id = id?.into_inner();
    let user = services::users::get(&state, &permit, id).await?;
    Ok(user_response(HttpResponse::Ok(), user))
}

/// Change a user's name, username, email or role.
///
/// Absent fields stay as they are. With `If-Match`, the change is made only if the user's
/// `ETag` still matches (else 412). A role change signs the user out everywhere.
#[utoipa::path(
    tag = "users",
    operation_id = "updateUser",
    params(
        ("id" = uuid::Uuid, Path, description = "User id"),
        ("If-Match" = Option<String>, Header, nullable = false, pattern = r#"^(\*|(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*)$"#, example = "\"2\"", description = "ETag from a previous read; the update fails with 412 if the user changed since")
    ),
    request_body(content = UpdateUser, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated user.", body = User,
            headers(("ETag" = String, description = "Version tag"))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 412, response = crate::openapi::PreconditionFailed),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    req: HttpRequest,
    id: IdPath,
    body: Body<UpdateUser>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Write)?;
    let id = id?.into_inner();
    let body = body?.into_inner();
    // A value that is not valid text matches no entity tag (412).
    let if_match = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or(""));
    let user = services::users::update(&state, &permit, &meta, id, if_match, body).await?;
    Ok(user_response(HttpResponse::Ok(), user))
}

/// Delete a user. Their history stays readable in `/audit`.
#[utoipa::path(
    tag = "users",
    operation_id = "deleteUser",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[delete("/users/{id}")]
async fn delete_user(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    id: IdPath,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Write)?;
    let id = id?.into_inner();
    services::users::delete(&state, &permit, &meta, id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Set a new password for another user.
///
/// Signs the user out everywhere. By default the user must change it at next sign-in. Your own
/// password is changed with `PUT /me/password`.
#[utoipa::path(
    tag = "users",
    operation_id = "setUserPassword",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    request_body(content = SetPassword, content_type = "application/json"),
    responses(
        (status = 204, description = "Password set."),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 415, response = crate::openapi::UnsupportedMediaType),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[put("/users/{id}/password")]
async fn set_user_password(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    id: IdPath,
    body: Body<SetPassword>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Write)?;
    let id = id?.into_inner();
    let body = body?.into_inner();
    services::users::reset_password(&state, &permit, &meta, id, body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn set_status(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    id: IdPath,
    status: Status,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Write)?;
    let id = id?.into_inner();
    let user = services::users::set_status(&state, &permit, &meta, id, status).await?;
    Ok(user_response(HttpResponse::Ok(), user))
}

/// Disable a user: they can no longer sign in, and their sessions end at once.
///
/// Disabling a user who is already disabled changes nothing.
#[utoipa::path(
    tag = "users",
    operation_id = "disableUser",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user, now disabled.", body = User),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 409, response = crate::openapi::Conflict),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/disable")]
async fn disable_user(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    id: IdPath,
) -> actix_web::Result<HttpResponse> {
    set_status(state, caller, meta, id, Status::Disabled).await
}

/// Re-enable a disabled user. Enabling an active user changes nothing.
#[utoipa::path(
    tag = "users",
    operation_id = "enableUser",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses(
        (status = 200, description = "The user, now active.", body = User),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/enable")]
async fn enable_user(
    state: web::Data<AppState>,
    caller: Caller,
    meta: RequestMeta,
    id: IdPath,
) -> actix_web::Result<HttpResponse> {
    set_status(state, caller, meta, id, Status::Active).await
}

/// A user's history: events where they are the subject or the actor, newest first.
#[utoipa::path(
    tag = "users",
    operation_id = "getUserHistory",
    params(("id" = uuid::Uuid, Path, description = "User id"), HistoryParams),
    responses(
        (status = 200, description = "A page of events.", body = EventPage),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, response = crate::openapi::NotFound),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/users/{id}/history")]
async fn user_history(
    state: web::Data<AppState>,
    caller: Caller,
    id: IdPath,
    query: QueryOf<HistoryParams>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Read)?;
    let id = id?.into_inner();
    let query = query?.into_inner();
    Ok(HttpResponse::Ok().json(services::users::history(&state, &permit, id, query).await?))
}

/// The company's history, newest first, including events about deleted users.
#[utoipa::path(
    tag = "audit",
    operation_id = "listAuditEvents",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events.", body = EventPage),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, response = crate::openapi::ValidationFailed),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer" = []))
)]
#[get("/audit")]
async fn audit_log(
    state: web::Data<AppState>,
    caller: Caller,
    query: QueryOf<AuditParams>,
) -> actix_web::Result<HttpResponse> {
    let permit = policy::require(&caller, Section::Users, Access::Read)?;
    let query = query?.into_inner();
    Ok(HttpResponse::Ok().json(services::users::audit_log(&state, &permit, query).await?))
}
