//! Storage contract for retention: purging history older than the configured ages in small
//! batches (each its own short transaction, so no writer waits long behind one), expunging one
//! event's data for an erasure request, and the maintenance lease that lets one node of a
//! cluster do the purging.
//!
//! An event is purged with its invocations and their attempts, and only once none of its
//! invocations is live (waiting, pending, in flight or awaiting a callback): accepted work is
//! never lost to retention. Attempt-log entries older than their own age are purged on their own
//! (the invocation keeps its status, counts and last error).

use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::{InstanceId, Timestamp};

/// Rows one purge batch deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub invocations: u64,
    pub attempts: u64,
    pub calls: u64,
    pub call_attempts: u64,
}

impl Purged {
    /// Every row deleted.
    pub fn total(&self) -> u64 {
        self.events + self.invocations + self.attempts + self.calls + self.call_attempts
    }

    /// Adds another batch's counts.
    pub fn add(&mut self, other: Purged) {
        self.events += other.events;
        self.invocations += other.invocations;
        self.attempts += other.attempts;
        self.calls += other.calls;
        self.call_attempts += other.call_attempts;
    }
}

/// What expunging an event erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expunged {
    /// When its data was erased (the first expunge's time when it was expunged before).
    pub at: Timestamp,
    /// Its invocations, whose outputs were erased.
    pub invocations: u64,
    /// Attempt-log entries whose response excerpts were erased.
    pub attempts: u64,
}

/// The payload an expunged event keeps (the column is required; an empty object is valid for
/// every reader).
pub const EXPUNGED_PAYLOAD: &str = "{}";

#[async_trait]
pub trait RetentionStore {
    /// Deletes at most `limit` attempt-log entries recorded before `before` (oldest first), and
    /// as many call-attempt records; returns what it deleted.
    async fn purge_attempts(&self, before: Timestamp, limit: u32) -> StoreResult<Purged>;

    /// Deletes at most `limit` events accepted before `before` (oldest first) none of whose
    /// invocations is live, together with their invocations and attempts, and at most `limit`
    /// call records made before `before` with their attempts; returns what it deleted.
    async fn purge_events(&self, before: Timestamp, limit: u32) -> StoreResult<Purged>;

    /// Erases one event's payload and metadata, the outputs of its invocations and the response
    /// excerpts of their attempts at once, keeping ids, times and statuses. `NotFound` for an
    /// unknown event; `Conflict` while any of its invocations is live (cancel them first).
    /// Expunging again changes nothing and reports the first time.
    async fn expunge_event(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Expunged>;

    /// Takes or renews the maintenance lease `name` for `holder` until `until`; true when
    /// `holder` holds it now (it was free, expired at `now`, or already `holder`'s).
    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool>;
}
