//! Inspecting and replaying invocations: `GET /v1/invocations/{id}` shows an invocation with
//! every attempt; `POST /v1/invocations/{id}/replay` sends a finished one again.

use super::wire::{InvocationOut, ReplayedOut};
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
use switchyard_store::queue::InvocationStatus;
use switchyard_store::StoreError;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(
            Rule::scope(Scope::InvocationsRead).producer(),
            routes!(get_invocation),
        )
        .add(
            Rule::scope(Scope::InvocationsStart).producer(),
            routes!(replay),
        )
}

fn not_found(e: StoreError, id: &str) -> ApiError {
    match e {
        StoreError::NotFound => ApiError::not_found(format!("invocation '{id}' not found")),
        other => other.into(),
    }
}

/// An invocation with its attempts.
#[utoipa::path(get, path = "/v1/invocations/{id}", tag = "native",
    params(("id" = String, Path, description = "invocation id")),
    responses((status = 200, description = "the invocation and its attempt log", body = InvocationOut),
              (status = 404, description = "not found")))]
async fn get_invocation(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<InvocationOut>, Native> {
    let view = state
        .store
        .invocation(&tenant.instance, &id)
        .await
        .map_err(|e| not_found(e, &id))?;
    Ok(Json(view.into()))
}

/// Queue a failed (or delivered) invocation for another full round of tries.
#[utoipa::path(post, path = "/v1/invocations/{id}/replay", tag = "native",
    params(("id" = String, Path, description = "invocation id")),
    responses((status = 202, description = "queued again", body = ReplayedOut), (status = 404, description = "not found"),
              (status = 400, description = "still pending or in flight")))]
async fn replay(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ReplayedOut>), Native> {
    let now = state.clock.now();
    state
        .store
        .replay(&tenant.instance, &id, now)
        .await
        .map_err(|e| not_found(e, &id))?;
    state.engine.wake();
    Ok((
        StatusCode::ACCEPTED,
        Json(ReplayedOut {
            id,
            status: InvocationStatus::Pending.as_str().into(),
        }),
    ))
}
