//! The OpenAPI 3.1 document: collected from the routes, plus the bearer security scheme and the
//! reusable error responses.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};
use utoipa_actix_web::AppExt;

use crate::error::Problem;

macro_rules! problem_response {
    ($name:ident, $description:literal) => {
        #[derive(ToResponse)]
        #[response(description = $description, content_type = "application/problem+json")]
        pub struct $name(#[allow(dead_code)] Problem);
    };
}

problem_response!(
    BadRequest,
    "`malformed_request`: the body is not JSON, has wrong types or unknown fields, or the query or path cannot be parsed."
);
problem_response!(
    Unauthorized,
    "`unauthenticated` (no valid token) or `token_revoked` (the session has ended)."
);
problem_response!(
    InvalidCredentials,
    "`invalid_credentials`: unknown username or wrong password."
);
problem_response!(
    AccountDisabled,
    "`account_disabled`: the password is right but the account is disabled."
);
problem_response!(
    Forbidden,
    "`forbidden` (the role lacks access) or `password_change_required`."
);
problem_response!(NotFound, "`not_found`: no such user in your company.");
problem_response!(
    Conflict,
    "`conflict` (username or email taken, see `errors`), `last_owner` or `self_action_forbidden`."
);
problem_response!(
    PreconditionFailed,
    "`precondition_failed`: `If-Match` does not match the current `ETag`."
);
problem_response!(
    PayloadTooLarge,
    "`payload_too_large`: the body exceeds 64 KiB."
);
problem_response!(
    UnsupportedMediaType,
    "`unsupported_media_type`: the body is not `application/json`."
);
problem_response!(
    ValidationFailed,
    "`validation_failed`: values break a rule; `errors` names every failing field."
);
problem_response!(
    TooManyAttempts,
    "`too_many_attempts`: wait for the number of seconds in `Retry-After`."
);
problem_response!(
    Unavailable,
    "`unavailable`: the database does not answer; retry later."
);

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("Access token from `POST /api/v1/auth/login`."))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "License Manager — Users API",
        description = "Users section of the License Manager, with authentication and the role policy. \
                       Errors are `application/problem+json` (RFC 9457) with a stable `code`.",
        license(name = "Proprietary", identifier = "LicenseRef-Proprietary"),
    ),
    servers((url = "/", description = "This server")),
    modifiers(&BearerScheme),
    components(schemas(Problem, crate::error::FieldError), responses(
        BadRequest, Unauthorized, InvalidCredentials, AccountDisabled, Forbidden, NotFound, Conflict,
        PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, ValidationFailed, TooManyAttempts, Unavailable
    )),
    tags(
        (name = "auth", description = "Sign in, refresh and sign out."),
        (name = "me", description = "The signed-in user."),
        (name = "roles", description = "The role policy."),
        (name = "users", description = "Managing the company's users (owners only)."),
        (name = "audit", description = "The company's history (owners only)."),
        (name = "operations", description = "Health and metrics."),
    )
)]
struct ApiDoc;

/// The complete document, collected from the same route configuration the server uses.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, collected) = App::new()
        .into_utoipa_app()
        .configure(crate::routes::configure)
        .split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(collected);
    doc
}

/// The document as served and as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    to_json(&document())
}

/// `doc` as served: pretty JSON with a final newline.
pub fn to_json(doc: &utoipa::openapi::OpenApi) -> String {
    let mut text = doc
        .to_pretty_json()
        .expect("the OpenAPI document serialises");
    text.push('\n');
    text
}
