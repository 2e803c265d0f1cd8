//! Thin HTTP handlers: extract, ask the policy, call one service, shape the response.

mod auth;
mod extract;
mod ops;
mod users;

pub use extract::{body_error, path_error, query_error};

use actix_web::HttpResponse;
use actix_web::http::header;

use crate::dto::User;
use crate::entities::user::Model as UserRow;

use crate::dto::etag;

/// 200 with the user and its `ETag`.
fn user_response(mut builder: actix_web::HttpResponseBuilder, user: UserRow) -> HttpResponse {
    builder
        .insert_header((header::ETAG, etag(user.version)))
        .json(User::from(user))
}

/// Registers every route; used by the server and to generate the OpenAPI document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(auth::configure)
            .configure(users::configure),
    );
    cfg.configure(ops::configure);
}
