//! `GET /v1/targets/{id}/health`: a ZITADEL target's circuit breaker as seen by this node, so an
//! operator can tell why calls skip or fail fast on it.

use super::wire::{BreakerState, TargetHealthOut};
use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use switchyard_core::auth::Scope;
use switchyard_store::StoreError;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::TargetsRead), routes!(target_health))
}

/// The target's circuit breaker.
#[utoipa::path(get, path = "/v1/targets/{id}/health", tag = "native",
    params(("id" = String, Path, description = "target id")),
    responses((status = 200, description = "the target's circuit breaker on this node", body = TargetHealthOut),
              (status = 404, description = "no such target in this instance")))]
async fn target_health(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<TargetHealthOut>, Native> {
    state
        .store
        .get_target(&tenant.instance, &id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("target '{id}' not found")),
            other => other.into(),
        })?;
    let s = state.calls.health(&tenant.instance, &id);
    Ok(Json(TargetHealthOut {
        target_id: id,
        state: match s.state {
            switchyard_core::breaker::BreakerState::Closed => BreakerState::Closed,
            switchyard_core::breaker::BreakerState::Open => BreakerState::Open,
            switchyard_core::breaker::BreakerState::HalfOpen => BreakerState::HalfOpen,
        },
        consecutive_failures: s.consecutive_failures,
        opened_at: s.opened_at.map(|t| t.rfc3339()),
        retry_at: s.retry_at.map(|t| t.rfc3339()),
    }))
}
