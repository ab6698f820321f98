//! What the engine needs to know about routes, independent of the dialect that created them:
//! the fan-out plan of an event type and the destination of a route. The dialect-aware
//! implementation lives with the store and API wiring; the engine only sees these types.

use crate::payload_type::PayloadEncoding;
use async_trait::async_trait;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::delivery_url::DeliveryUrl;
use switchyard_core::jsonpath::{Budget, Exhausted};
use switchyard_core::policy::{KeyPath, RoutePolicy};
use switchyard_core::sailpoint::DispatchMode;
use switchyard_core::InstanceId;
use switchyard_store::queue::RouteKind;

/// Why an event cannot be routed.
#[derive(Debug, thiserror::Error)]
pub enum RoutingError {
    #[error("unknown event type '{0}': it is neither a trigger nor a known ZITADEL event")]
    UnknownType(String),
    #[error("payload does not match the input schema of '{trigger}': {}", .errors.join("; "))]
    InvalidPayload {
        trigger: String,
        errors: Vec<String>,
    },
    #[error("'{0}' is a request-response trigger; start it with POST /v1/invocations")]
    NotFireAndForget(String),
    #[error("'{0}' is not a request-response trigger; publish it with POST /v1/events")]
    NotRequestResponse(String),
    #[error(transparent)]
    Store(#[from] switchyard_store::StoreError),
}

/// How long a cached plan, destination or call chain may be used before it is read again.
/// Changes made through this node invalidate its caches at once; this bounds how long a change
/// made through another node (sharing the PostgreSQL database) takes to reach this one.
pub const ROUTE_CACHE_TTL_MS: i64 = 2_000;

/// The earlier of a key-expiry bound and the cache TTL from `now`.
pub fn cache_until(
    now: switchyard_core::Timestamp,
    key_expiry: Option<switchyard_core::Timestamp>,
) -> switchyard_core::Timestamp {
    let ttl = now.plus_millis(ROUTE_CACHE_TTL_MS);
    key_expiry.map_or(ttl, |k| k.min(ttl))
}

/// A predicate on the event payload (a compiled JSONPath filter), evaluated within a budget.
pub type PayloadFilter = Arc<dyn Fn(&Value, &mut Budget) -> Result<bool, Exhausted> + Send + Sync>;
/// Validates a payload, returning every violation.
pub type PayloadValidator = Arc<dyn Fn(&Value) -> Result<(), Vec<String>> + Send + Sync>;

/// One subscription an event may reach.
#[derive(Clone)]
pub struct PlannedSubscription {
    pub id: String,
    /// Disabled subscriptions get test invocations only.
    pub enabled: bool,
    pub filter: Option<PayloadFilter>,
    /// Request-response triggers: how long after creation an invocation times out.
    pub response_deadline: Duration,
    /// Its policy limits deliveries (`maxInFlight`, `rateLimit`): its invocations go through the
    /// durable queue and its gate, never the fast path.
    pub gated: bool,
    /// Its policy delivers FIFO per key: where the key is in the payload.
    pub ordering: Option<KeyPath>,
}

/// One target of the best-matching ZITADEL execution, in list order.
#[derive(Debug, Clone)]
pub struct PlannedTarget {
    pub id: String,
    /// restAsync targets are not awaited: they neither wait for nor hold up the chain.
    pub awaited: bool,
    pub interrupt_on_error: bool,
    /// See [`PlannedSubscription::gated`].
    pub gated: bool,
    /// See [`PlannedSubscription::ordering`].
    pub ordering: Option<KeyPath>,
}

/// Everything needed to fan an event of one type out, cached until routes change.
#[derive(Clone, Default)]
pub struct FanoutPlan {
    pub validator: Option<PayloadValidator>,
    /// The event type is a request-response trigger: its invocations wait for an output.
    pub request_response: bool,
    /// Checks a subscriber's output against the trigger's output schema (request-response).
    pub output_validator: Option<PayloadValidator>,
    pub subscriptions: Vec<PlannedSubscription>,
    pub targets: Vec<PlannedTarget>,
}

/// How a request is signed.
#[derive(Debug, Clone)]
pub enum Signing {
    /// Standard Webhooks; raw HMAC keys, current first.
    StandardWebhooks(Vec<Vec<u8>>),
    /// `ZITADEL-Signature`; keys, current first.
    Zitadel(Vec<String>),
}

/// The body the receiver expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStyle {
    /// SailPoint fire-and-forget: the input plus `_metadata`.
    SailPointFireAndForget,
    /// SailPoint request-response: the input plus `_metadata` with the response mode and, unless
    /// SYNC, the callback URL and the invocation secret.
    SailPointRequestResponse,
    /// A ZITADEL event envelope.
    ZitadelEvent,
}

/// Where a route's messages go: one variant per transport.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// An HTTP(S) receiver.
    Http(DeliveryUrl),
    /// A NATS subject (`nats://HOST:PORT/SUBJECT`).
    Nats(DeliveryUrl),
    /// A Redis stream (`redis://HOST:PORT/DB?stream=NAME`).
    Redis(DeliveryUrl),
    /// A RabbitMQ exchange (`amqp://HOST:PORT/VHOST?exchange=EX&routingKey=RK`).
    Amqp(DeliveryUrl),
    /// An MQTT topic (`mqtt://HOST:PORT/TOPIC`).
    Mqtt(DeliveryUrl),
    /// An AWS SQS queue (`sqs://REGION/ACCOUNT/QUEUE`).
    Sqs(DeliveryUrl),
    /// The default event bus of an AWS account in a region (a SailPoint EVENTBRIDGE
    /// subscription).
    /// `partner_source`: the subscription's partner event source, in partner mode.
    EventBridge {
        account: String,
        region: String,
        partner_source: Option<String>,
    },
}

impl Endpoint {
    /// The endpoint a route's URL names, by its scheme.
    pub fn of_url(url: DeliveryUrl) -> Self {
        use switchyard_core::invocation::DestinationKind as Kind;
        match url.kind() {
            Kind::Nats => Endpoint::Nats(url),
            Kind::Redis => Endpoint::Redis(url),
            Kind::Amqp => Endpoint::Amqp(url),
            Kind::Mqtt => Endpoint::Mqtt(url),
            Kind::Sqs => Endpoint::Sqs(url),
            Kind::Http | Kind::EventBridge => Endpoint::Http(url),
        }
    }

    /// The endpoint as shown in attempt records and logs, credentials masked.
    pub fn masked(&self) -> String {
        match self {
            Endpoint::Http(url)
            | Endpoint::Nats(url)
            | Endpoint::Redis(url)
            | Endpoint::Amqp(url)
            | Endpoint::Mqtt(url)
            | Endpoint::Sqs(url) => crate::transport::http::masked(url),
            Endpoint::EventBridge {
                account, region, ..
            } => {
                format!("eventbridge://{region}/{account}")
            }
        }
    }
}

/// Where and how to deliver one route's invocations: the endpoint and the route's settings that
/// the prepare stage builds each message from.
#[derive(Debug, Clone)]
pub struct Destination {
    pub endpoint: Endpoint,
    /// How long one attempt may wait for its answer or acknowledgement.
    pub timeout: Duration,
    /// The complete `Authorization` header value, if any.
    pub authorization: Option<String>,
    pub signing: Signing,
    pub body: BodyStyle,
    /// ZITADEL targets: the body as JSON, or that JSON as a JWS or JWE (with the target's
    /// active key), see [`crate::payload_type`]; JSON for everything else.
    pub payload: PayloadEncoding,
    /// SailPoint subscriptions: how a request-response subscriber answers.
    pub dispatch: Option<DispatchMode>,
}

/// The dialect-aware source of plans and destinations.
#[async_trait]
pub trait Routing: Send + Sync + 'static {
    /// Plans the fan-out of `event_type` in `instance`.
    async fn plan(
        &self,
        instance: &InstanceId,
        event_type: &str,
    ) -> Result<Arc<FanoutPlan>, RoutingError>;

    /// The destination of a route, or `None` if the route no longer exists.
    async fn destination(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> Result<Option<Arc<Destination>>, RoutingError>;

    /// The delivery policy of a route (the default policy when it has none).
    async fn policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> Result<Arc<RoutePolicy>, RoutingError>;

    /// Forgets cached plans, destinations and policies of `instance` (its routes changed).
    fn invalidate(&self, instance: &InstanceId);
}
