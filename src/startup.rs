//! The application: database, state, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::Hasher;
use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
use crate::telemetry::{self, Metrics};
use crate::{db, routes, services};

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("{0}")]
    Config(String),
}

/// What the first start of an empty database created.
pub struct Bootstrapped {
    pub username: String,
    /// The generated password, when none was configured: shown once.
    pub generated_password: Option<String>,
}

pub struct Application {
    port: u16,
    server: Server,
    bootstrapped: Option<Bootstrapped>,
}

/// Builds the shared state: connects, migrates, loads the signing secret, bootstraps.
pub async fn build_state(config: Config) -> Result<(AppState, Option<Bootstrapped>), StartupError> {
    let db = db::connect(&config).await?;
    db::migrate(&db).await?;
    let tokens = db::token_keys(&db, &config)
        .await
        .map_err(StartupError::Config)?;
    let hasher = Hasher::new(
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.hash_concurrency(),
    )
    .map_err(StartupError::Config)?;
    let bootstrapped = services::bootstrap::bootstrap(&db, &hasher, &config)
        .await
        .map_err(|e| {
            StartupError::Config(format!(
                "cannot create the first owner: {}",
                services::bootstrap::describe(&e)
            ))
        })?
        .map(|(username, generated_password)| Bootstrapped {
            username,
            generated_password,
        });
    Ok((
        AppState {
            db,
            config: Arc::new(config),
            tokens,
            hasher,
        },
        bootstrapped,
    ))
}

impl Application {
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let bind = config.bind.clone();
        let listener = TcpListener::bind(&bind).map_err(|e| StartupError::Bind(bind.clone(), e))?;
        let (state, bootstrapped) = build_state(config).await?;
        let port = listener
            .local_addr()
            .map_err(|e| StartupError::Bind(bind.clone(), e))?
            .port();
        let state = web::Data::new(state);
        spawn_housekeeping(state.clone());
        let metrics = web::Data::new(Metrics::new());
        let doc = crate::openapi::document();
        let document = web::Data::new(crate::openapi::to_json(&doc));
        let allowed = web::Data::new(AllowedMethods::from_document(&doc));
        let server = HttpServer::new(move || {
            let cors = cors(&state.config.cors_origins);
            App::new()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .app_data(document.clone())
                .app_data(allowed.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(BODY_LIMIT)
                        .error_handler(routes::body_error),
                )
                .app_data(web::QueryConfig::default().error_handler(routes::query_error))
                .app_data(web::PathConfig::default().error_handler(routes::path_error))
                .wrap(cors)
                .wrap(from_fn(telemetry::request_context))
                .into_utoipa_app()
                .configure(routes::configure)
                .into_app()
                .route("/api-docs/openapi.json", web::get().to(openapi_json))
                .route("/swagger-ui", web::get().to(swagger_redirect))
                .service(
                    SwaggerUi::new("/swagger-ui/{_:.*}").config(
                        utoipa_swagger_ui::Config::new(["/api-docs/openapi.json"])
                            .persist_authorization(true)
                            .display_operation_id(true),
                    ),
                )
                .default_service(web::to(not_found))
        })
        .listen(listener)
        .map_err(|e| StartupError::Bind(bind, e))?
        .shutdown_timeout(10)
        .run();
        Ok(Self {
            port,
            server,
            bootstrapped,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn bootstrapped(&self) -> Option<&Bootstrapped> {
        self.bootstrapped.as_ref()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every ten minutes, deletes expired sessions, refresh tokens and sign-in attempts, so the
/// tables do not grow with traffic. Safe to run in several processes at once.
fn spawn_housekeeping(state: web::Data<AppState>) {
    tokio::spawn(async move {
        // The first run is one period (plus jitter) after start, so processes started together
        // do not all purge at once.
        let period = std::time::Duration::from_secs(600);
        let jitter = std::time::Duration::from_millis(rand::random::<u64>() % 60_000);
        let mut every =
            tokio::time::interval_at(tokio::time::Instant::now() + period + jitter, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let window_ms = state.config.login_window.as_millis() as i64;
            let now = crate::now();
            let result = async {
                crate::repo::sessions::purge_expired(&state.db, now).await?;
                crate::repo::throttle::purge(&state.db, now.timestamp_millis(), window_ms).await
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "housekeeping failed");
            }
        }
    });
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            header::HeaderName::from_static("x-request-id"),
        ])
        .max_age(3600);
    for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
        cors = cors.allowed_origin(origin);
    }
    cors
}

async fn openapi_json(document: web::Data<String>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.get_ref().clone())
}

async fn swagger_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/swagger-ui/"))
        .finish()
}

/// The methods of every documented path, for the `Allow` header of a 405.
pub struct AllowedMethods(std::collections::HashMap<String, String>);

impl AllowedMethods {
    fn from_document(doc: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(doc).unwrap_or_default();
        let mut map = std::collections::HashMap::new();
        if let Some(paths) = value["paths"].as_object() {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                map.insert(path.clone(), methods.join(", "));
            }
        }
        Self(map)
    }
}

/// Unmatched requests: 405 (with `Allow`) when the path exists with other methods, else 404.
async fn not_found(req: HttpRequest, allowed: web::Data<AllowedMethods>) -> HttpResponse {
    let methods = req
        .match_pattern()
        .and_then(|pattern| allowed.0.get(&pattern).cloned());
    match methods {
        Some(methods) => {
            let mut response = ApiError::MethodNotAllowed.error_response();
            if let Ok(value) = header::HeaderValue::from_str(&methods) {
                response.headers_mut().insert(header::ALLOW, value);
            }
            response
        }
        None => ApiError::NotFound.error_response(),
    }
}
