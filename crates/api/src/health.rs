//! Liveness and readiness: `/healthz` says the process is up, `/readyz` that the store answers.

use crate::dialect::DialectKind;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::routes;

/// `{status}` (and `reason` when not ready).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HealthStatus {
    /// `ok`, `ready` or `not ready`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "health")
        .add(Rule::public(), routes!(healthz))
        .add(Rule::public(), routes!(readyz))
        .add(Rule::public(), routes!(crate::openapi::document))
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, description = "up", body = HealthStatus)))]
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The store is reachable.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "ready", body = HealthStatus), (status = 503, description = "store unreachable", body = HealthStatus)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({"status": "ready"}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "not ready", "reason": "store unreachable"})),
            )
        }
    }
}
