//! Inspecting and acting on invocations: `GET /v1/invocations/{id}` shows an invocation with
//! every attempt and the payload its bodies were built from; `POST /v1/invocations/{id}/replay`
//! sends a finished one again, `POST /v1/invocations/replay` every finished one a filter
//! matches (bulk recovery), and `POST /v1/invocations/{id}/cancel` stops a queued or retrying one.

use super::search::InvocationQuery;
use super::wire::{BulkReplayedOut, CancelledOut, InvocationOut, ReplayedOut};
use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Body;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use switchyard_core::auth::Scope;
use switchyard_store::queue::{CancelResult, InvocationStatus};
use switchyard_store::search::REPLAY_LIMIT;
use switchyard_store::StoreError;
use utoipa::ToSchema;
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
        .add(
            Rule::scope(Scope::InvocationsStart),
            routes!(replay_matching),
        )
        .add(Rule::scope(Scope::InvocationsStart), routes!(cancel))
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
    let payload = state
        .store
        .invocation_payload(&tenant.instance, &id)
        .await
        .map_err(|e| not_found(e, &id))?;
    let mut out = InvocationOut::from(view);
    out.request_payload = serde_json::from_str(&payload).ok();
    Ok(Json(out))
}

/// Stop a queued or retrying invocation: no further attempt is made. One in flight finishes
/// its attempt and is not retried.
#[utoipa::path(post, path = "/v1/invocations/{id}/cancel", tag = "native",
    params(("id" = String, Path, description = "invocation id")),
    responses((status = 200, description = "cancelled, or cancelled after the attempt in flight", body = CancelledOut),
              (status = 404, description = "not found"),
              (status = 409, description = "it had already ended")))]
async fn cancel(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<CancelledOut>, Native> {
    let now = state.clock.now();
    let result = state
        .store
        .cancel(&tenant.instance, &id, "cancelled by an operator", now)
        .await
        .map_err(|e| not_found(e, &id))?;
    let status = match result {
        CancelResult::Cancelled => InvocationStatus::Cancelled,
        CancelResult::AfterAttempt => InvocationStatus::InFlight,
        CancelResult::AlreadyEnded(s) => {
            let why = format!("invocation '{id}' is {s}: only a queued or retrying one can be");
            return Err(ApiError::new(Code::Aborted, format!("{why} cancelled")).into());
        }
    };
    Ok(Json(CancelledOut {
        id,
        status: status.as_str().into(),
    }))
}

/// Which invocations a bulk replay queues again: `since` is required, every other field narrows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"status": "failed", "routeId": "6f1c0e2a9b7d4c3e", "since": "2026-11-29T00:00:00Z"}))]
pub struct ReplayBody {
    /// `failed` (the default), `delivered` or `cancelled`.
    #[schema(pattern = "^(failed|delivered|cancelled)$")]
    status: Option<String>,
    /// `subscription` or `target`.
    #[schema(pattern = "^(subscription|target)$")]
    route_kind: Option<String>,
    #[schema(max_length = 256)]
    route_id: Option<String>,
    /// Trigger id or ZITADEL event type.
    #[schema(max_length = 256)]
    trigger_id: Option<String>,
    #[schema(max_length = 256)]
    event_id: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[schema(format = DateTime)]
    since: String,
    /// Created before this time (RFC 3339).
    #[schema(format = DateTime)]
    until: Option<String>,
}

impl ReplayBody {
    fn into_query(self) -> InvocationQuery {
        InvocationQuery {
            status: self.status,
            route_kind: self.route_kind,
            route_id: self.route_id,
            trigger_id: self.trigger_id,
            event_id: self.event_id,
            since: Some(self.since),
            until: self.until,
        }
    }
}

/// Bulk recovery: queue every failed (or, when `status` says so, delivered or cancelled)
/// invocation matching the filter for another round of tries, e.g. every failed invocation of
/// route X since T. At most 10000 per call; `more` says whether to call again.
#[utoipa::path(post, path = "/v1/invocations/replay", tag = "native", request_body = ReplayBody,
    responses((status = 202, description = "how many were queued again", body = BulkReplayedOut),
              (status = 400, description = "a filter is not valid, or names a status that cannot be replayed")))]
async fn replay_matching(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    body: Body<ReplayBody, Native>,
) -> ApiResult<(StatusCode, Json<BulkReplayedOut>), Native> {
    let mut filter = body.into_inner().into_query().filter()?;
    if filter.status.is_none() {
        filter.status = Some(InvocationStatus::Failed);
    } else if filter.status.is_some_and(|s| !s.is_replayable()) {
        return Err(ApiError::invalid(
            "status: only failed, delivered or cancelled invocations can be replayed",
        )
        .into());
    }
    let now = state.clock.now();
    let done = state
        .store
        .replay_matching(&tenant.instance, &filter, REPLAY_LIMIT, now)
        .await?;
    if done.replayed > 0 {
        state.engine.wake();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(BulkReplayedOut {
            replayed: done.replayed,
            more: done.more,
        }),
    ))
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
