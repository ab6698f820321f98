//! The durable delivery queue: accepted events with their invocations, lease-based claims, and
//! the outcome of every attempt. Operations take batches so the delivery engine can group-commit
//! many concurrent requests in one transaction (one fsync for many events).

use crate::StoreResult;
use async_trait::async_trait;
use serde::Serialize;
use switchyard_core::{InstanceId, Timestamp};

pub use switchyard_core::invocation::{
    AttemptOutcome, DestinationKind, InvocationKind, InvocationStatus, RouteKind,
};

/// How a new invocation enters the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    /// Due now; any worker may claim it.
    Pending,
    /// Claimed by the publishing node right away (the in-memory fast path), leased until then.
    Leased(Timestamp),
    /// Behind an earlier target of its chain; released when that one ends.
    Waiting,
}

#[derive(Debug, Clone)]
pub struct NewInvocation {
    pub id: String,
    /// SHA-256 of the invocation's secret, for invocations that get one.
    pub secret_hash: Option<String>,
    pub route_kind: RouteKind,
    pub route_id: String,
    pub state: InitialState,
    pub chain_next: Option<String>,
    pub interrupt_on_error: bool,
    /// Request-response invocations: when they time out (created + the route's deadline).
    pub deadline_at: Option<Timestamp>,
    /// Its route has a gate (`maxInFlight` or `rateLimit`): it is claimed only through it (and so
    /// must be `Pending`, never `Leased`).
    pub gated: bool,
    /// Its route delivers FIFO per key and this is its event's key: it is not attempted while an
    /// earlier invocation of the same route and key lives (and so must not be `Leased`).
    pub order_key: Option<String>,
}

/// An event to accept with its fan-out.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub instance: InstanceId,
    pub id: String,
    pub event_type: String,
    /// Shared with the deliveries started from memory, so fan-out copies no payload.
    pub payload: std::sync::Arc<str>,
    /// SailPoint's `contentJson` metadata map, as given.
    pub content_json: Option<String>,
    pub created_at: Timestamp,
    pub kind: InvocationKind,
    pub invocations: Vec<NewInvocation>,
    /// The JSON answer to give the producer; replayed verbatim for a duplicate id.
    pub response: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishResult {
    Created,
    /// An event with this id was accepted before: nothing was written; here is the first answer.
    Duplicate {
        response: String,
    },
}

/// A claimed invocation with everything needed to deliver it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    pub instance: InstanceId,
    pub event_id: String,
    pub event_type: String,
    pub payload: std::sync::Arc<str>,
    pub event_created_at: Timestamp,
    pub route_kind: RouteKind,
    pub route_id: String,
    pub kind: InvocationKind,
    /// Attempts ever made; the next one is number `attempts_done + 1` in the log.
    pub attempts_done: u32,
    /// Attempts since the last replay; drives the retry schedule.
    pub round_attempts: u32,
    /// Set for request-response invocations: no attempt may start after it.
    pub deadline_at: Option<Timestamp>,
    /// Set when its route was disabled, deleted or unbound while it was in flight: it is not
    /// attempted again.
    pub cancel_reason: Option<String>,
    /// It has a FIFO key (see [`NewInvocation::order_key`]).
    pub ordered: bool,
}

/// One delivery attempt as recorded, whatever carried it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub n: u32,
    pub at: Timestamp,
    /// What carried it (`None` when nothing was sent: cancelled, or the route could not be read).
    pub transport: Option<DestinationKind>,
    /// Where it went, credentials masked (`None` when nothing was sent, and for attempts
    /// recorded before transports were recorded).
    pub destination: Option<String>,
    /// How it was classified (`None` for attempts recorded before outcomes were recorded).
    pub outcome: Option<AttemptOutcome>,
    /// The message metadata as sent (HTTP headers, broker headers or properties), secrets masked.
    pub request_headers: serde_json::Value,
    /// The receiver's HTTP status, for transports that have one.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// The start of the receiver's answer, reply or acknowledgement.
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
}

/// What happens to an invocation after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    Delivered,
    RetryAt(Timestamp),
    /// Terminal failure; the message explains it.
    Failed(String),
    /// The receiver said 410 Gone: fail, and switch the route off.
    FailedDisableRoute(String),
    /// Request-response: the subscriber answered with a valid output (JSON text).
    Completed(String),
    /// Request-response: the subscriber acknowledged and will POST the output to the callback.
    AwaitingCallback,
    /// The route is gone or switched off: no further attempts; the message says why.
    Cancelled(String),
}

impl NextStep {
    /// How the attempt that led to this step is classified in the attempt log.
    pub fn attempt_outcome(&self) -> AttemptOutcome {
        match self {
            NextStep::Delivered | NextStep::Completed(_) | NextStep::AwaitingCallback => {
                AttemptOutcome::Delivered
            }
            NextStep::RetryAt(_) => AttemptOutcome::Retry,
            NextStep::Failed(_) => AttemptOutcome::Failed,
            NextStep::FailedDisableRoute(_) => AttemptOutcome::Gone,
            NextStep::Cancelled(_) => AttemptOutcome::Cancelled,
        }
    }

    /// Whether the invocation ends with this step (nothing more will happen to it).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, NextStep::RetryAt(_) | NextStep::AwaitingCallback)
    }
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub invocation_id: String,
    pub instance: InstanceId,
    pub route_kind: RouteKind,
    pub route_id: String,
    pub attempt: AttemptRecord,
    pub next: NextStep,
    pub at: Timestamp,
}

/// An invocation as shown by the API.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvocationView {
    pub id: String,
    pub event_id: String,
    pub trigger_id: String,
    pub route_kind: RouteKind,
    pub route_id: String,
    pub kind: InvocationKind,
    pub status: InvocationStatus,
    #[serde(rename = "attemptCount")]
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
    /// Request-response: the output the subscriber completed the invocation with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<serde_json::Value>,
    /// Request-response: when the invocation times out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_at: Option<Timestamp>,
    #[serde(rename = "attempts")]
    pub attempt_log: Vec<AttemptRecord>,
}

/// A subscription invocation as SailPoint's status list shows it.
#[derive(Debug, Clone)]
pub struct InvocationStatusRow {
    pub id: String,
    pub trigger_id: String,
    pub subscription_id: String,
    /// Empty when the subscription was deleted since.
    pub subscription_name: String,
    pub kind: InvocationKind,
    pub status: InvocationStatus,
    pub created_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub input: String,
    pub content_json: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// What the callback endpoint needs to authenticate and check a completion.
#[derive(Debug, Clone)]
pub struct CallbackTarget {
    pub instance: InstanceId,
    pub trigger_id: String,
    pub status: InvocationStatus,
    /// [`switchyard_core::crypto::hash_secret`] of the invocation secret.
    pub secret_hash: Option<String>,
    /// `None` for invocations that are not request-response.
    pub deadline_at: Option<Timestamp>,
    /// Why it failed ([`TIMED_OUT`] after the deadline sweep).
    pub last_error: Option<String>,
}

/// The result of a completion attempt (a compare-and-set on the status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompleteResult {
    /// This call completed (or failed) the invocation.
    Done,
    /// It had already ended (completed, failed or timed out) or its deadline passed.
    AlreadyEnded,
}

/// The current result of one invocation, as `POST /v1/invocations` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationOutcome {
    pub id: String,
    pub route_id: String,
    pub status: InvocationStatus,
    /// The output as JSON text.
    pub output: Option<String>,
    pub error: Option<String>,
}

impl InvocationOutcome {
    /// Whether nothing more will happen to the invocation.
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// The error recorded on a request-response invocation that reached its deadline.
pub const TIMED_OUT: &str = "invocation timed out";

/// What [`QueueStore::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelResult {
    /// It was queued or retrying: it is cancelled now.
    Cancelled,
    /// An attempt is in flight: that attempt ends as it ends, but no further one follows.
    AfterAttempt,
    /// It had already ended; nothing changed.
    AlreadyEnded(InvocationStatus),
}

#[async_trait]
pub trait QueueStore {
    /// Accepts events and their invocations atomically (all of one event or none).
    async fn publish(&self, batch: &[NewEvent]) -> StoreResult<Vec<PublishResult>>;

    /// Leases up to `limit` due invocations (pending and due, or in flight with an expired
    /// lease) until `lease_until`.
    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>>;

    /// The earliest time at which something becomes due (pending work or an expiring lease).
    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>>;

    /// Records attempts and applies their next steps; releases or cancels chained invocations.
    /// Returns how many invocations became pending (so the caller can wake workers).
    async fn record_outcomes(&self, outcomes: &[Outcome]) -> StoreResult<usize>;

    /// One invocation with its attempt log.
    async fn invocation(&self, instance: &InstanceId, id: &str) -> StoreResult<InvocationView>;

    /// Cancels one invocation (an operator's request), with `reason` in its attempt log.
    async fn cancel(
        &self,
        instance: &InstanceId,
        id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CancelResult>;

    /// Puts a failed invocation back in the queue for another full round of tries.
    async fn replay(&self, instance: &InstanceId, id: &str, now: Timestamp) -> StoreResult<()>;

    /// The instance's subscription invocations created at or after `since`, newest first, at
    /// most `max` of them.
    async fn subscription_invocations(
        &self,
        instance: &InstanceId,
        since: Timestamp,
        max: u32,
    ) -> StoreResult<Vec<InvocationStatusRow>>;

    /// The invocation a callback names (looked up by id alone: the secret authenticates it).
    async fn callback_target(&self, id: &str) -> StoreResult<CallbackTarget>;

    /// Completes a request-response invocation with `output` (or fails it with `error`): one
    /// atomic compare-and-set that only applies while the invocation is open (pending, in
    /// flight or awaiting its callback) and its deadline has not passed.
    async fn complete(
        &self,
        id: &str,
        output: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<CompleteResult>;

    /// Fails open invocations whose deadline is at or before `now` with [`TIMED_OUT`]; returns
    /// their ids (at most `limit`).
    async fn expire_due(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<String>>;

    /// The earliest deadline of an open request-response invocation.
    async fn next_deadline(&self) -> StoreResult<Option<Timestamp>>;

    /// Forgets at most `limit` FIFO lines that have ended (their newest invocation is over);
    /// returns how many. Keeps the table of line tails as small as the live keys.
    async fn sweep_ordering_tails(&self, limit: u32) -> StoreResult<usize>;

    /// The current status, output and error of the instance's invocations `ids` (unknown ids are
    /// left out), in the given order.
    async fn invocation_outcomes(
        &self,
        instance: &InstanceId,
        ids: &[String],
    ) -> StoreResult<Vec<InvocationOutcome>>;

    /// Live invocations (waiting, pending, in flight, awaiting a callback) by status, for
    /// metrics; finished ones are counted by the engine's counters instead.
    async fn queue_depth(&self) -> StoreResult<Vec<(InvocationStatus, i64)>>;

    /// Whether the delivery engine or an operator switched a route off.
    async fn is_route_disabled(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<bool> {
        Ok(self.route_disabled(instance, kind, id).await?.is_some())
    }

    /// When and why a route was switched off (by a 410, `autoDisable` or an operator), if it is.
    async fn route_disabled(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<Option<(Timestamp, String)>>;

    /// An operator switches a target off: as a 410 would (its live invocations are cancelled,
    /// fan-out skips it) until it is switched back on or changed. False when it already was.
    async fn disable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
        at: Timestamp,
    ) -> StoreResult<bool>;

    /// Switches a route back on (after its owner changed it).
    async fn enable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<()>;
}
