//! A ZITADEL target's health and the operator's switch: `GET /v1/targets/{id}/health` shows its
//! circuit breaker as seen by this node and whether it is switched off (by a 410, `autoDisable`
//! or an operator), so an operator can tell why calls skip or fail fast on it;
//! `POST /v1/targets/{id}/disable` switches it off as a 410 would (its live invocations are
//! cancelled, fan-out and calls skip it, subscribers of `switchyard:route-disabled` hear of it)
//! and `POST /v1/targets/{id}/enable` (or any change to the target) switches it back on.

use super::wire::{BreakerState, TargetDisabledOut, TargetHealthOut};
use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use switchyard_core::auth::Scope;
use switchyard_core::InstanceId;
use switchyard_store::queue::RouteKind;
use switchyard_store::StoreError;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::TargetsRead), routes!(target_health))
        .add(
            Rule::scope(Scope::TargetsWrite).changes_routes(),
            routes!(disable_target),
        )
        .add(
            Rule::scope(Scope::TargetsWrite).changes_routes(),
            routes!(enable_target),
        )
}

async fn existing_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> ApiResult<(), Native> {
    match state.store.get_target(instance, id).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => {
            Err(ApiError::not_found(format!("target '{id}' not found")).into())
        }
        Err(other) => Err(other.into()),
    }
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
    existing_target(&state, &tenant.instance, &id).await?;
    let disabled = state
        .store
        .route_disabled(&tenant.instance, RouteKind::Target, &id)
        .await?;
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
        disabled: disabled.map(|(at, reason)| TargetDisabledOut {
            at: at.rfc3339(),
            reason,
        }),
    }))
}

/// Switches the target off.
#[utoipa::path(post, path = "/v1/targets/{id}/disable", tag = "native",
    params(("id" = String, Path, description = "target id")),
    responses((status = 204, description = "the target is off (it may have been already)"),
              (status = 404, description = "no such target in this instance")))]
async fn disable_target(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, Native> {
    existing_target(&state, &tenant.instance, &id).await?;
    let now = state.clock.now();
    if state
        .store
        .disable_route(&tenant.instance, RouteKind::Target, &id, now)
        .await?
    {
        state
            .engine
            .route_disabled_by_operator(&tenant.instance, RouteKind::Target, &id);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Switches the target back on.
#[utoipa::path(post, path = "/v1/targets/{id}/enable", tag = "native",
    params(("id" = String, Path, description = "target id")),
    responses((status = 204, description = "the target is on"),
              (status = 404, description = "no such target in this instance")))]
async fn enable_target(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, Native> {
    existing_target(&state, &tenant.instance, &id).await?;
    state
        .store
        .enable_route(&tenant.instance, RouteKind::Target, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
