//! Queue rows (claimed invocations, invocation views, attempts, SailPoint status rows) and their
//! decoding into the contract's types.

use crate::queue::{
    AttemptOutcome, AttemptRecord, Claimed, DestinationKind, InvocationKind, InvocationStatus,
    InvocationStatusRow, InvocationView, RouteKind,
};
use crate::sql::sql_row;
use crate::{StoreError, StoreResult};
use std::collections::HashMap;
use switchyard_core::{InstanceId, Timestamp};

/// The columns of [`ClaimedRow`], the invocation `i` joined to its event `e`.
pub const CLAIMED_COLUMNS: &str = "i.id, i.instance_id, i.event_id, i.trigger_id, e.payload,
    e.created_at AS event_created_at, i.route_kind, i.route_id, i.kind, i.attempts, i.round_base,
    i.deadline_at, i.cancel_reason, i.order_key";

sql_row! {
    pub struct ClaimedRow {
        id: String,
        instance_id: InstanceId,
        event_id: String,
        trigger_id: String,
        payload: String,
        event_created_at: Timestamp,
        route_kind: RouteKind,
        route_id: String,
        kind: InvocationKind,
        attempts: i64,
        round_base: i64,
        deadline_at: Option<Timestamp>,
        cancel_reason: Option<String>,
        order_key: Option<String>,
    }
}

/// Decodes claimed invocations and puts them in the order of `ids` (the fast path hands work
/// over in publish order).
pub fn claimed(rows: Vec<ClaimedRow>, ids: &[String]) -> Vec<Claimed> {
    let pos: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut out: Vec<Claimed> = rows
        .into_iter()
        .map(|r| Claimed {
            id: r.id,
            instance: r.instance_id,
            event_id: r.event_id,
            event_type: r.trigger_id,
            payload: r.payload.into(),
            event_created_at: r.event_created_at,
            route_kind: r.route_kind,
            route_id: r.route_id,
            kind: r.kind,
            attempts_done: r.attempts as u32,
            round_attempts: (r.attempts - r.round_base) as u32,
            deadline_at: r.deadline_at,
            cancel_reason: r.cancel_reason,
            ordered: r.order_key.is_some(),
        })
        .collect();
    out.sort_by_key(|c| pos.get(c.id.as_str()).copied().unwrap_or(usize::MAX));
    out
}

sql_row! {
    pub struct AttemptRow {
        n: i64,
        at: Timestamp,
        transport: Option<String>,
        destination: Option<String>,
        outcome: Option<String>,
        request_headers: String,
        status: Option<i64>,
        duration_ms: i64,
        response_excerpt: Option<String>,
        error: Option<String>,
    }
}

impl AttemptRow {
    fn decode(self) -> StoreResult<AttemptRecord> {
        Ok(AttemptRecord {
            n: self.n as u32,
            at: self.at,
            transport: self
                .transport
                .as_deref()
                .map(DestinationKind::parse)
                .transpose()
                .map_err(|e| StoreError::Internal(e.into()))?,
            destination: self.destination,
            outcome: self
                .outcome
                .as_deref()
                .map(AttemptOutcome::parse)
                .transpose()
                .map_err(|e| StoreError::Internal(e.into()))?,
            request_headers: serde_json::from_str(&self.request_headers)?,
            status: self.status.map(|s| s as u16),
            duration_ms: self.duration_ms as u64,
            response_excerpt: self.response_excerpt,
            error: self.error,
        })
    }
}

sql_row! {
    pub struct ViewRow {
        id: String,
        event_id: String,
        trigger_id: String,
        route_kind: RouteKind,
        route_id: String,
        kind: InvocationKind,
        status: InvocationStatus,
        attempts: i64,
        next_attempt_at: Timestamp,
        created_at: Timestamp,
        completed_at: Option<Timestamp>,
        last_error: Option<String>,
        last_status: Option<i64>,
        output: Option<String>,
        deadline_at: Option<Timestamp>,
    }
}

impl ViewRow {
    pub fn decode(self, attempts: Vec<AttemptRow>) -> StoreResult<InvocationView> {
        Ok(InvocationView {
            next_attempt_at: (self.status == InvocationStatus::Pending)
                .then_some(self.next_attempt_at),
            id: self.id,
            event_id: self.event_id,
            trigger_id: self.trigger_id,
            route_kind: self.route_kind,
            route_id: self.route_id,
            kind: self.kind,
            status: self.status,
            attempts: self.attempts as u32,
            created_at: self.created_at,
            completed_at: self.completed_at,
            last_error: self.last_error,
            last_status: self.last_status.map(|s| s as u16),
            output: self.output.and_then(|t| serde_json::from_str(&t).ok()),
            deadline_at: self.deadline_at,
            attempt_log: attempts
                .into_iter()
                .map(AttemptRow::decode)
                .collect::<StoreResult<_>>()?,
        })
    }
}

sql_row! {
    pub struct StatusRow {
        id: String,
        trigger_id: String,
        route_id: String,
        subscription_name: String,
        kind: InvocationKind,
        status: InvocationStatus,
        created_at: Timestamp,
        completed_at: Option<Timestamp>,
        payload: String,
        content_json: Option<String>,
        output: Option<String>,
        last_error: Option<String>,
    }
}

impl From<StatusRow> for InvocationStatusRow {
    fn from(r: StatusRow) -> Self {
        InvocationStatusRow {
            id: r.id,
            trigger_id: r.trigger_id,
            subscription_id: r.route_id,
            subscription_name: r.subscription_name,
            kind: r.kind,
            status: r.status,
            created_at: r.created_at,
            completed_at: r.completed_at,
            input: r.payload,
            content_json: r.content_json,
            output: r.output,
            error: r.last_error,
        }
    }
}
