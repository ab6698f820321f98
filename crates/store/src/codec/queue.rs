//! Backend-neutral decoding of queue rows (claimed invocations, invocation views, attempts,
//! SailPoint status rows). Each backend selects the columns in the order of these row types.

use crate::queue::{
    AttemptRecord, Claimed, InvocationKind, InvocationStatusRow, InvocationView, RouteKind,
};
use crate::{StoreError, StoreResult};
use std::collections::HashMap;
use switchyard_core::{InstanceId, Timestamp};

/// `i.id, i.instance_id, i.event_id, i.trigger_id, e.payload, e.created_at, i.route_kind,
/// i.route_id, i.kind, i.attempts, i.round_base, i.deadline_at` (invocation joined to its event).
pub type ClaimedRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    i64,
    i64,
    Option<i64>,
);

/// Decodes claimed invocations and puts them in the order of `ids` (the fast path hands work
/// over in publish order).
pub fn claimed(rows: Vec<ClaimedRow>, ids: &[String]) -> StoreResult<Vec<Claimed>> {
    let mut out = rows
        .into_iter()
        .map(|r| {
            let (
                id,
                instance,
                event_id,
                event_type,
                payload,
                event_at,
                route_kind,
                route_id,
                kind,
                attempts,
                round_base,
                deadline,
            ) = r;
            let instance = InstanceId::parse(&instance)
                .map_err(|e| StoreError::Internal(anyhow::anyhow!("stored instance id: {e}")))?;
            Ok(Claimed {
                id,
                instance,
                event_id,
                event_type,
                payload: payload.into(),
                event_created_at: Timestamp(event_at),
                route_kind: RouteKind::parse(&route_kind).unwrap_or(RouteKind::Subscription),
                route_id,
                kind: InvocationKind::parse(&kind),
                attempts_done: attempts as u32,
                round_attempts: (attempts - round_base) as u32,
                deadline_at: deadline.map(Timestamp),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let pos: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    out.sort_by_key(|c| pos.get(c.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(out)
}

/// `n, at, request_headers, status, duration_ms, response_excerpt, error`.
pub type AttemptRow = (
    i64,
    i64,
    String,
    Option<i64>,
    i64,
    Option<String>,
    Option<String>,
);

pub fn attempt(r: AttemptRow) -> StoreResult<AttemptRecord> {
    let (n, at, headers, status, duration_ms, response_excerpt, error) = r;
    Ok(AttemptRecord {
        n: n as u32,
        at: Timestamp(at),
        request_headers: serde_json::from_str(&headers)?,
        status: status.map(|s| s as u16),
        duration_ms: duration_ms as u64,
        response_excerpt,
        error,
    })
}

/// `id, event_id, trigger_id, route_kind, route_id, kind, status, attempts, next_attempt_at,
/// created_at, completed_at, last_error, last_status, output, deadline_at`.
pub type ViewRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

pub fn view(r: ViewRow, attempts: Vec<AttemptRow>) -> StoreResult<InvocationView> {
    let (
        id,
        event_id,
        trigger_id,
        route_kind,
        route_id,
        kind,
        status,
        count,
        next_at,
        created,
        completed,
        last_error,
        last_status,
        output,
        deadline,
    ) = r;
    let pending = status == "pending";
    Ok(InvocationView {
        id,
        event_id,
        trigger_id,
        route_kind: RouteKind::parse(&route_kind).unwrap_or(RouteKind::Subscription),
        route_id,
        kind: InvocationKind::parse(&kind),
        status,
        attempts: count as u32,
        next_attempt_at: pending.then_some(Timestamp(next_at)),
        created_at: Timestamp(created),
        completed_at: completed.map(Timestamp),
        last_error,
        last_status: last_status.map(|s| s as u16),
        output: output.and_then(|t| serde_json::from_str(&t).ok()),
        deadline_at: deadline.map(Timestamp),
        attempt_log: attempts
            .into_iter()
            .map(attempt)
            .collect::<StoreResult<_>>()?,
    })
}

/// `i.id, i.trigger_id, i.route_id, subscription name (or ''), i.kind, i.status, i.created_at,
/// i.completed_at, e.payload, e.content_json, i.output, i.last_error`.
pub type StatusRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

pub fn status(r: StatusRow) -> InvocationStatusRow {
    let (
        id,
        trigger_id,
        subscription_id,
        subscription_name,
        kind,
        status,
        created,
        completed,
        input,
        content_json,
        output,
        error,
    ) = r;
    InvocationStatusRow {
        id,
        trigger_id,
        subscription_id,
        subscription_name,
        kind: InvocationKind::parse(&kind),
        status,
        created_at: Timestamp(created),
        completed_at: completed.map(Timestamp),
        input,
        content_json,
        output,
        error,
    }
}
