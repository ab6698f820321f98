//! `GET /metrics`: Prometheus text format.

use crate::dialect::DialectKind;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use switchyard_core::auth::Scope;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    // Every instance's counters: a server-wide scope an instance's admin does not hold.
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::MetricsRead), routes!(metrics))
}

/// Queue depth by state, deliveries by outcome, delivery latency, retries scheduled, open
/// circuit breakers, rows purged by retention.
#[utoipa::path(get, path = "/metrics", tag = "native",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let depth = match state.store.queue_depth().await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "queue depth unavailable for metrics");
            Vec::new()
        }
    };
    let mut text = state.engine.metrics().render(&depth);
    state.calls.render_metrics(&mut text);
    state.retention.metrics().render(&mut text);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
}
