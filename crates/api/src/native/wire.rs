//! The native API's wire types, apart from the store's row types (as Svix's `MessageOut`): what
//! `/v1/...` answers is declared here, documented in OpenAPI from these types, and built from the
//! store's views by `From`, so a change to a store type cannot silently change the API.

use serde::Serialize;
use serde_json::Value;
use switchyard_store::calls::CallRecord;
use switchyard_store::queue::{AttemptRecord, InvocationKind, InvocationView, RouteKind};
use switchyard_store::search::{EventRecord, InvocationSummary};
use utoipa::ToSchema;

/// What an invocation delivers to.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteKindOut {
    /// A SailPoint subscription (or a native route).
    Subscription,
    /// A ZITADEL target.
    Target,
}

impl From<RouteKind> for RouteKindOut {
    fn from(k: RouteKind) -> Self {
        match k {
            RouteKind::Subscription => RouteKindOut::Subscription,
            RouteKind::Target => RouteKindOut::Target,
        }
    }
}

/// Why the invocation exists.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvocationKindOut {
    /// A published event or started trigger.
    RealTime,
    /// A SailPoint test invocation.
    Test,
    /// A restAsync target of a ZITADEL call chain.
    Call,
}

impl From<InvocationKind> for InvocationKindOut {
    fn from(k: InvocationKind) -> Self {
        match k {
            InvocationKind::RealTime => InvocationKindOut::RealTime,
            InvocationKind::Test => InvocationKindOut::Test,
            InvocationKind::Call => InvocationKindOut::Call,
        }
    }
}

/// One outbound request of an invocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    /// 1-based number among the invocation's attempts.
    pub n: u32,
    /// When it started (RFC 3339).
    pub at: String,
    /// What carried it: `http`, `eventbridge`, `nats`, `amqp`, `redis`, `mqtt` or `sqs`;
    /// absent when nothing was sent.
    #[schema(example = "http")]
    pub transport: Option<String>,
    /// Where it went, credentials masked; absent when nothing was sent.
    pub destination: Option<String>,
    /// How it was classified: `delivered`, `retry`, `failed`, `gone` or `cancelled`.
    #[schema(example = "delivered")]
    pub outcome: Option<String>,
    /// The message metadata as sent (HTTP headers, broker headers or properties), secrets
    /// masked.
    #[schema(value_type = Object)]
    pub request_headers: Value,
    /// The receiver's HTTP status, when it answered over HTTP.
    pub status: Option<u16>,
    pub duration_ms: u64,
    /// The start of the receiver's answer, reply or acknowledgement.
    pub response_excerpt: Option<String>,
    /// Why the attempt failed.
    pub error: Option<String>,
}

impl From<AttemptRecord> for AttemptOut {
    fn from(a: AttemptRecord) -> Self {
        Self {
            n: a.n,
            at: a.at.rfc3339(),
            transport: a.transport.map(|k| k.as_str().to_string()),
            destination: a.destination,
            outcome: a.outcome.map(|o| o.as_str().to_string()),
            request_headers: a.request_headers,
            status: a.status,
            duration_ms: a.duration_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
        }
    }
}

/// An invocation: one event (or call) for one route, with its attempt log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvocationOut {
    pub id: String,
    pub event_id: String,
    /// The trigger id or ZITADEL event type.
    pub trigger_id: String,
    pub route_kind: RouteKindOut,
    pub route_id: String,
    pub kind: InvocationKindOut,
    /// `waiting`, `pending`, `in_flight`, `delivered`, `awaiting_callback`, `completed` or
    /// `failed`.
    #[schema(example = "delivered")]
    pub status: String,
    /// Attempts made so far.
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
    /// Request-response: the output the subscriber completed the invocation with.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    /// Request-response: when the invocation times out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_at: Option<String>,
    /// The event payload its request bodies were built from: the body each attempt sent is
    /// this payload in the route's format (native, CloudEvents, ZITADEL's or SailPoint's
    /// envelope). Bodies themselves are not recorded, as request-response bodies carry the
    /// invocation's callback secret. `null` when the event was expunged.
    #[schema(value_type = Option<Object>)]
    pub request_payload: Option<Value>,
    pub attempts: Vec<AttemptOut>,
}

impl From<InvocationView> for InvocationOut {
    fn from(v: InvocationView) -> Self {
        Self {
            id: v.id,
            event_id: v.event_id,
            trigger_id: v.trigger_id,
            route_kind: v.route_kind.into(),
            route_id: v.route_id,
            kind: v.kind.into(),
            status: v.status.to_string(),
            attempt_count: v.attempts,
            next_attempt_at: v.next_attempt_at.map(|t| t.rfc3339()),
            created_at: v.created_at.rfc3339(),
            completed_at: v.completed_at.map(|t| t.rfc3339()),
            last_error: v.last_error,
            last_status: v.last_status,
            output: v.output,
            deadline_at: v.deadline_at.map(|t| t.rfc3339()),
            request_payload: None,
            attempts: v.attempt_log.into_iter().map(AttemptOut::from).collect(),
        }
    }
}

/// One target call of a call chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallAttemptOut {
    pub n: u32,
    pub target_id: String,
    pub at: String,
    /// `succeeded`, `failed`, `skipped` (circuit open) or `dispatched` (restAsync).
    #[schema(example = "succeeded")]
    pub outcome: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

/// The record of a `POST /v1/calls` chain.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallOut {
    pub id: String,
    /// The condition in ZITADEL's JSON, as it was sent.
    pub condition: crate::zitadel::wire::ConditionJson,
    pub created_at: String,
    pub duration_ms: u64,
    /// The HTTP status the caller got.
    pub status: u16,
    pub error: Option<String>,
    pub attempts: Vec<CallAttemptOut>,
}

impl CallOut {
    /// `None` when the stored condition key is not one this build understands.
    pub fn from_record(r: CallRecord) -> Option<Self> {
        let condition = switchyard_core::zitadel::Condition::from_key(&r.condition)?;
        Some(Self {
            id: r.id,
            condition: crate::zitadel::wire::ConditionJson::from_core(&condition),
            created_at: r.created_at.rfc3339(),
            duration_ms: r.duration_ms,
            status: r.status,
            error: r.error,
            attempts: r
                .attempts
                .into_iter()
                .map(|a| CallAttemptOut {
                    n: a.n,
                    target_id: a.target_id,
                    at: a.at.rfc3339(),
                    outcome: a.outcome.as_str().to_string(),
                    status: a.status,
                    duration_ms: a.duration_ms,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                })
                .collect(),
        })
    }
}

/// One invocation a publish created.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedInvocation {
    pub id: String,
    pub route_kind: RouteKindOut,
    pub route_id: String,
}

/// `202` of `POST /v1/events` (replayed verbatim for a repeated idempotency `id`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublishedOut {
    pub event_id: String,
    pub invocations: Vec<PublishedInvocation>,
}

/// The current result of one request-response invocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeOut {
    pub id: String,
    pub subscription_id: String,
    /// `pending`, `in_flight`, `awaiting_callback`, `completed` or `failed`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub output: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `200` of `POST /v1/invocations`.
#[derive(Debug, Serialize, ToSchema)]
pub struct StartedOut {
    pub invocations: Vec<OutcomeOut>,
}

/// `200` of `POST /v1/calls`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallAnswer {
    /// The payload after every restCall target.
    #[schema(value_type = Object)]
    pub payload: Value,
}

/// `200` of an expunge.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpungedOut {
    pub event_id: String,
    /// When the event's data was erased (RFC 3339; the first time when expunged before).
    pub expunged_at: String,
    /// Its invocations (kept, their outputs erased).
    pub invocations: u64,
    /// Their attempt-log entries (kept, their response excerpts erased).
    pub attempts: u64,
}

/// `202` of a replay.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayedOut {
    pub id: String,
    /// Always `pending`: queued for another round of tries.
    pub status: String,
}

/// A secret still signing during a rotation's grace period.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviousSecret {
    pub secret: String,
    pub expires_at: Option<String>,
}

/// `GET /v1/subscriptions/{id}/secret`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    /// The current Standard Webhooks secret (`whsec_...`).
    pub secret: String,
    pub previous: Vec<PreviousSecret>,
}

/// `POST /v1/subscriptions/{id}/secret/rotate`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedOut {
    pub secret: String,
    /// When the previous secret stops signing; `null` for a grace period of zero.
    pub previous_expires_at: Option<String>,
}

/// A circuit breaker's state.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// `GET /v1/targets/{id}/health`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetHealthOut {
    pub target_id: String,
    pub state: BreakerState,
    pub consecutive_failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<String>,
    /// Set while the target is switched off (fan-out and calls skip it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<TargetDisabledOut>,
}

/// When and why a target was switched off.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetDisabledOut {
    pub at: String,
    /// `operator`, `autoDisable: …`, or the 410 that switched it off.
    pub reason: String,
}

/// An invocation in a list (its attempts are in `GET /v1/invocations/{id}`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvocationSummaryOut {
    pub id: String,
    pub event_id: String,
    /// The trigger id or ZITADEL event type.
    pub trigger_id: String,
    pub route_kind: RouteKindOut,
    pub route_id: String,
    pub kind: InvocationKindOut,
    /// `waiting`, `pending`, `in_flight`, `delivered`, `awaiting_callback`, `completed`,
    /// `failed` or `cancelled`.
    #[schema(example = "failed")]
    pub status: String,
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
}

impl From<InvocationSummary> for InvocationSummaryOut {
    fn from(v: InvocationSummary) -> Self {
        Self {
            id: v.id,
            event_id: v.event_id,
            trigger_id: v.trigger_id,
            route_kind: v.route_kind.into(),
            route_id: v.route_id,
            kind: v.kind.into(),
            status: v.status.to_string(),
            attempt_count: v.attempts,
            next_attempt_at: v.next_attempt_at.map(|t| t.rfc3339()),
            created_at: v.created_at.rfc3339(),
            completed_at: v.completed_at.map(|t| t.rfc3339()),
            last_error: v.last_error,
            last_status: v.last_status,
        }
    }
}

/// `GET /v1/invocations`: one page, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvocationPage {
    pub data: Vec<InvocationSummaryOut>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// An accepted event in a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventSummaryOut {
    pub id: String,
    /// The trigger id or ZITADEL event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When it was accepted (durable).
    pub accepted_at: String,
}

/// `GET /v1/events`: one page, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub data: Vec<EventSummaryOut>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// `GET /v1/events/{id}`: an accepted event, how it was accepted, and where it went.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventOut {
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload as accepted.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// SailPoint's `contentJson` metadata, when the event came with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub content_json: Option<Value>,
    /// When it became durable.
    pub accepted_at: String,
    /// The answer the producer got (a repeated publish with the same id got the same one).
    #[schema(value_type = Object)]
    pub acceptance: Value,
    /// When its data was erased on request (`POST /v1/events/{id}/expunge`; the payload is `{}`
    /// since); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expunged_at: Option<String>,
    /// Its invocations, oldest first.
    pub invocations: Vec<InvocationSummaryOut>,
}

impl From<EventRecord> for EventOut {
    fn from(e: EventRecord) -> Self {
        let json = |t: &str| serde_json::from_str(t).unwrap_or(Value::String(t.to_string()));
        Self {
            payload: json(&e.payload),
            content_json: e.content_json.as_deref().map(json),
            acceptance: json(&e.response),
            id: e.id,
            event_type: e.event_type,
            accepted_at: e.created_at.rfc3339(),
            expunged_at: e.expunged_at.map(|t| t.rfc3339()),
            invocations: e.invocations.into_iter().map(Into::into).collect(),
        }
    }
}

/// `POST /v1/invocations/{id}/cancel`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledOut {
    pub id: String,
    /// `cancelled`, or `in_flight` when an attempt is under way: it ends as it ends and no
    /// further attempt follows.
    pub status: String,
}

/// `POST /v1/invocations/replay`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReplayedOut {
    /// Invocations queued again.
    pub replayed: u64,
    /// More matched than one call replays (10000): call again to continue.
    pub more: bool,
}

/// An API client (its secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientOut {
    pub id: String,
    /// Space-separated scopes its tokens carry.
    pub scopes: String,
    pub rate_limit: Option<String>,
    pub producer_rate_limit: Option<String>,
    pub created_at: String,
}

/// `GET /v1/clients`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    pub clients: Vec<ClientOut>,
}

/// A route's delivery policy. Every field is optional; an absent one takes the server's default.
/// `PUT` replaces the whole policy (`{}` restores every default); `GET` answers what was set.
#[derive(Debug, Default, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"retrySchedule": ["5s", "1m", "10m"], "maxAttempts": 10, "timeout": "10s",
    "maxInFlight": 8, "rateLimit": "100/1s", "ordering": {"key": "$.identity.id", "onFailure": "block"},
    "format": "native", "autoDisable": {"after": "72h"}}))]
pub struct PolicyBody {
    /// Waits between tries (100ms to 7d each, at most 50), replacing the server's schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_items = 50, value_type = Option<Vec<String>>, example = json!(["5s", "1m"]))]
    pub retry_schedule: Option<Vec<DurationText>>,
    /// Tries in all, the first included (1 to 100); beyond the schedule its last wait repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_attempts: Option<u32>,
    /// Subscriptions: how long one request may take (1s to 5m). Targets keep their own timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, pattern = r"^[0-9]{1,12}(ms|s|m|h|d)$", example = "10s")]
    pub timeout: Option<DurationText>,
    /// At most this many deliveries to the route at once, across all nodes (1 to 10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 10000)]
    pub max_in_flight: Option<u32>,
    /// Deliveries per period (`count/period`, count 1 to 1000000, period 1s to 1d), a token
    /// bucket shared by all nodes; work over the limit waits in the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]{1,7}/[0-9]{1,12}(ms|s|m|h|d)$", example = "100/1s")]
    pub rate_limit: Option<String>,
    /// FIFO per key: real-time event deliveries of the route reach it in acceptance order per
    /// key, across nodes, restarts and crashes; other keys are not held up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<OrderingBody>,
    /// The body the route receives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FormatBody>,
    /// Disable the route after failing without a single success for this long.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disable: Option<AutoDisableBody>,
}

/// A duration such as `500ms`, `5s`, `2m`, `1h` or `1d`.
pub type DurationText = String;

/// FIFO per key: an invocation is not attempted while an earlier one of the same route and key
/// has not ended.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderingBody {
    /// A singular JSONPath into the payload (names and indexes only); an event without a value
    /// there is not ordered.
    #[schema(example = "$.identity.id", max_length = 256)]
    pub key: String,
    /// `block` (default): later events of the key wait until the head ends (delivered, finally
    /// failed or cancelled), retries included. `skip`: a head whose attempt fails is not retried;
    /// it ends failed (it can be replayed) and the key moves on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailureBody>,
}

#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailureBody {
    Block,
    Skip,
}

/// `native` (the dialect's body), `cloudevents-structured` or `cloudevents-binary`.
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, ToSchema)]
pub enum FormatBody {
    #[serde(rename = "native")]
    Native,
    #[serde(rename = "cloudevents-structured")]
    CloudEventsStructured,
    #[serde(rename = "cloudevents-binary")]
    CloudEventsBinary,
}

#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoDisableBody {
    /// 1m to 90d.
    #[schema(example = "72h", pattern = r"^[0-9]{1,12}(ms|s|m|h|d)$")]
    pub after: String,
}

mod policy_conversions {
    use super::*;
    use switchyard_core::policy::{AutoDisableDoc, BodyFormat, OnFailure, OrderingDoc, PolicyDoc};

    impl From<PolicyBody> for PolicyDoc {
        fn from(b: PolicyBody) -> Self {
            PolicyDoc {
                retry_schedule: b.retry_schedule,
                max_attempts: b.max_attempts,
                timeout: b.timeout,
                max_in_flight: b.max_in_flight,
                rate_limit: b.rate_limit,
                ordering: b.ordering.map(|o| OrderingDoc {
                    key: o.key,
                    on_failure: o.on_failure.map(|f| match f {
                        OnFailureBody::Block => OnFailure::Block,
                        OnFailureBody::Skip => OnFailure::Skip,
                    }),
                }),
                format: b.format.map(|f| match f {
                    FormatBody::Native => BodyFormat::Native,
                    FormatBody::CloudEventsStructured => BodyFormat::CloudEventsStructured,
                    FormatBody::CloudEventsBinary => BodyFormat::CloudEventsBinary,
                }),
                auto_disable: b.auto_disable.map(|a| AutoDisableDoc { after: a.after }),
            }
        }
    }

    impl From<PolicyDoc> for PolicyBody {
        fn from(d: PolicyDoc) -> Self {
            PolicyBody {
                retry_schedule: d.retry_schedule,
                max_attempts: d.max_attempts,
                timeout: d.timeout,
                max_in_flight: d.max_in_flight,
                rate_limit: d.rate_limit,
                ordering: d.ordering.map(|o| OrderingBody {
                    key: o.key,
                    on_failure: o.on_failure.map(|f| match f {
                        OnFailure::Block => OnFailureBody::Block,
                        OnFailure::Skip => OnFailureBody::Skip,
                    }),
                }),
                format: d.format.map(|f| match f {
                    BodyFormat::Native => FormatBody::Native,
                    BodyFormat::CloudEventsStructured => FormatBody::CloudEventsStructured,
                    BodyFormat::CloudEventsBinary => FormatBody::CloudEventsBinary,
                }),
                auto_disable: d.auto_disable.map(|a| AutoDisableBody { after: a.after }),
            }
        }
    }
}

/// The ZITADEL event types an `event` condition may name, and the groups (dotted prefixes)
/// a `group` condition may name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZitadelEventsOut {
    pub events: Vec<String>,
    pub groups: Vec<String>,
}

/// The new current key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotatedWebKeyOut {
    /// The new key's id, the `kid` of JWT payloads from now on.
    pub key_id: String,
    pub algorithm: String,
    /// When the previous key leaves the JWKS (absent: it left at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_expires_at: Option<String>,
}
