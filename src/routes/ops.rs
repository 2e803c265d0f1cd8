//! Health checks and metrics (outside `/api/v1`).

use actix_web::{HttpResponse, get, web};
use sea_orm::ConnectionTrait;

use crate::dto::Health;
use crate::state::AppState;
use crate::telemetry::Metrics;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(live).service(ready).service(metrics);
}

/// Liveness: 200 while the process serves requests.
#[utoipa::path(
    tag = "operations",
    operation_id = "getLiveness",
    security(()),
    responses((status = 200, description = "The process is serving.", body = Health))
)]
#[get("/health/live")]
async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health {
        status: "ok".into(),
    })
}

/// Readiness: 200 when the database answers, else 503.
#[utoipa::path(
    tag = "operations",
    operation_id = "getReadiness",
    security(()),
    responses(
        (status = 200, description = "The database answers.", body = Health),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
#[get("/health/ready")]
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, crate::error::ApiError> {
    let timeout = state.config.db_acquire_timeout;
    match tokio::time::timeout(timeout, state.db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => Ok(HttpResponse::Ok().json(Health {
            status: "ok".into(),
        })),
        Ok(Err(e)) => Err(crate::error::ApiError::Unavailable(e.to_string())),
        Err(_) => Err(crate::error::ApiError::Unavailable(
            "readiness check timed out".into(),
        )),
    }
}

/// Prometheus metrics: request counts and latency histograms by route and status.
#[utoipa::path(
    tag = "operations",
    operation_id = "getMetrics",
    security(()),
    responses((status = 200, description = "Prometheus text exposition format.", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
async fn metrics(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
