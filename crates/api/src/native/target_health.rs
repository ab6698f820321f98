//! `GET /v1/targets/{id}/health`: a ZITADEL target's circuit breaker as seen by this node, so an
//! operator can tell why calls skip or fail fast on it.

use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
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
    responses((status = 200, description = "`{targetId, state: closed|open|half_open, consecutiveFailures, openedAt?, retryAt?}`"),
              (status = 404, description = "no such target in this instance")))]
async fn target_health(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>, Native> {
    state
        .store
        .get_target(&tenant.instance, &id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("target '{id}' not found")),
            other => other.into(),
        })?;
    let s = state.calls.health(&tenant.instance, &id);
    let mut body = json!({
        "targetId": id,
        "state": s.state.as_str(),
        "consecutiveFailures": s.consecutive_failures,
    });
    if let Some(t) = s.opened_at {
        body["openedAt"] = json!(t.rfc3339());
    }
    if let Some(t) = s.retry_at {
        body["retryAt"] = json!(t.rfc3339());
    }
    Ok(Json(body))
}
