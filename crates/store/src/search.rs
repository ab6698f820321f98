//! The operator's reads over the delivery history: invocations and events listed newest first
//! with filters, one event with its fan-out, and bulk recovery (replaying every match of a
//! filter). Lists page with a keyset cursor on `(created_at, id)` rather than an offset, so a
//! page costs the same at any depth and rows inserted while a client pages (always newer than
//! the pages it already has) never shift, duplicate or hide rows of the pages still to come.
//! Each filter has an index that ends in `(created_at, id)` on both backends.

use crate::queue::{InvocationKind, InvocationStatus, RouteKind};
use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::{InstanceId, Timestamp};

/// A position in a newest-first list: the last row of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: Timestamp,
    pub id: String,
}

/// Which invocations to list or replay. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InvocationFilter {
    pub status: Option<InvocationStatus>,
    pub route_kind: Option<RouteKind>,
    pub route_id: Option<String>,
    /// Trigger id or ZITADEL event type.
    pub trigger_id: Option<String>,
    pub event_id: Option<String>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// Trigger id or ZITADEL event type.
    pub event_type: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// An invocation as a list shows it (no attempt log).
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationSummary {
    pub id: String,
    pub event_id: String,
    pub trigger_id: String,
    pub route_kind: RouteKind,
    pub route_id: String,
    pub kind: InvocationKind,
    pub status: InvocationStatus,
    pub attempts: u32,
    /// Set while it is pending.
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
}

impl InvocationSummary {
    /// The cursor that continues a list after this row.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }
}

/// An accepted event as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSummary {
    pub id: String,
    pub event_type: String,
    pub created_at: Timestamp,
}

impl EventSummary {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id.clone(),
        }
    }
}

/// One accepted event in full, with the invocations it fanned out to.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: String,
    pub event_type: String,
    /// The payload as accepted (JSON text).
    pub payload: String,
    /// SailPoint's `contentJson` metadata, when the event came with it (JSON text).
    pub content_json: Option<String>,
    /// When it became durable.
    pub created_at: Timestamp,
    /// The answer the producer got (JSON text); a repeated publish with the same id got it too.
    pub response: String,
    /// When its data was erased (`POST /v1/events/{id}/expunge`); the payload is `{}` since.
    pub expunged_at: Option<Timestamp>,
    /// Oldest first.
    pub invocations: Vec<InvocationSummary>,
}

/// The most invocations one bulk replay touches; a larger match answers how many remain.
pub const REPLAY_LIMIT: u32 = 10_000;

/// What a bulk replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkReplay {
    /// Invocations queued again.
    pub replayed: u64,
    /// Whether more matched than [`REPLAY_LIMIT`]: run it again to continue.
    pub more: bool,
}

#[async_trait]
pub trait SearchStore {
    /// The instance's invocations matching `filter`, newest first, after `after`, at most `limit`.
    async fn list_invocations(
        &self,
        instance: &InstanceId,
        filter: &InvocationFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<InvocationSummary>>;

    /// The instance's events matching `filter`, newest first, after `after`, at most `limit`.
    async fn list_events(
        &self,
        instance: &InstanceId,
        filter: &EventFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<EventSummary>>;

    /// One event with its invocations; `NotFound` when the instance has no such event.
    async fn event(&self, instance: &InstanceId, id: &str) -> StoreResult<EventRecord>;

    /// The payload of the event an invocation delivers (JSON text).
    async fn invocation_payload(&self, instance: &InstanceId, id: &str) -> StoreResult<String>;

    /// Queues every replayable (failed, delivered or cancelled) invocation matching `filter`
    /// again, newest first, in small transactions, at most `max` of them.
    async fn replay_matching(
        &self,
        instance: &InstanceId,
        filter: &InvocationFilter,
        max: u32,
        now: Timestamp,
    ) -> StoreResult<BulkReplay>;
}
