//! The send stage: one module per transport, each turning a [`Prepared`] message into a
//! [`Response`] — what came back, in transport-neutral terms (an HTTP answer, a broker's
//! acknowledgement or reply, or a typed [`SendError`]). Classifying the response is the next
//! stage ([`crate::classify`]); nothing here decides about retries.
//!
//! [`Transports`] is the registry the engine owns: every long-lived client (the pooled HTTP
//! client today, broker connections as they are added) is built once and shared by all workers,
//! so no delivery sets up its own connection and one destination's outage cannot hold up a
//! worker beyond that delivery's own timeout.

#[cfg(feature = "amqp")]
pub mod amqp;
pub mod aws;
pub mod eventbridge;
pub mod http;
#[cfg(feature = "mqtt")]
pub mod mqtt;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(any(feature = "amqp", feature = "mqtt"))]
mod reconnect;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "mqtt")]
mod relay;
#[cfg(feature = "aws")]
pub mod sqs;
pub mod tls;

use crate::prepare::Prepared;
use crate::routing::Endpoint;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::invocation::DestinationKind;
use switchyard_core::netguard::OutboundPolicy;
use switchyard_core::Clock;

/// Longest response, reply or acknowledgement excerpt kept in the attempt log.
pub const EXCERPT_BYTES: usize = 4096;

/// Why a send got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Outbound protection refused the destination; nothing was sent. Permanent.
    Refused(String),
    /// No answer within the timeout.
    TimedOut(String),
    /// Connection, protocol or broker failure (a nack, an unroutable message, a refused entry).
    Failed(String),
    /// The destination can never take this message (larger than it accepts, content it refuses
    /// whatever the moment): retrying cannot help. Permanent.
    Rejected(String),
    /// The route's transport cannot send from this server (not configured or not compiled in).
    /// Nothing was sent; the invocation stays queued until it can be.
    Unavailable(String),
}

impl SendError {
    pub fn is_refused(&self) -> bool {
        matches!(self, SendError::Refused(_))
    }
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Refused(reason) => write!(f, "refused by outbound protection: {reason}"),
            SendError::Rejected(m) => write!(f, "the destination cannot take this message: {m}"),
            SendError::TimedOut(m) | SendError::Failed(m) | SendError::Unavailable(m) => {
                f.write_str(m)
            }
        }
    }
}

/// What came back from one send, whatever the transport.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status, for transports that answer with one.
    pub status: Option<u16>,
    /// The receiver's `Retry-After`, for transports that have one.
    pub retry_after: Option<String>,
    /// The answer's body, the reply's payload or the broker's acknowledgement.
    pub body: Vec<u8>,
    pub error: Option<SendError>,
    pub duration: Duration,
}

impl Response {
    /// The first 4 KiB of the body as text.
    pub fn excerpt(&self) -> Option<String> {
        if self.body.is_empty() {
            return None;
        }
        let end = self.body.len().min(EXCERPT_BYTES);
        Some(String::from_utf8_lossy(&self.body[..end]).into_owned())
    }

    /// A send that got no answer.
    pub fn failed(error: SendError, started: Instant) -> Self {
        Response {
            status: None,
            retry_after: None,
            body: Vec::new(),
            error: Some(error),
            duration: started.elapsed(),
        }
    }

    /// A broker's acknowledgement (no HTTP status); `ack` describes it for the attempt log.
    pub fn acknowledged(ack: impl Into<Vec<u8>>, started: Instant) -> Self {
        Response {
            status: None,
            retry_after: None,
            body: ack.into(),
            error: None,
            duration: started.elapsed(),
        }
    }
}

/// The long-lived clients of every transport, owned by the engine and shared by its workers.
pub struct Transports {
    http: http::Sender,
    #[cfg(feature = "aws")]
    eventbridge: eventbridge::EventBridge,
    #[cfg(feature = "nats")]
    nats: nats::Nats,
    #[cfg(feature = "redis")]
    redis: redis::Redis,
    #[cfg(feature = "amqp")]
    amqp: amqp::Amqp,
    #[cfg(feature = "mqtt")]
    mqtt: mqtt::Mqtt,
    #[cfg(feature = "aws")]
    sqs: sqs::Sqs,
}

/// What the transports are built from.
pub struct TransportConfig {
    /// Bounds the HTTP pool per host.
    pub max_idle_per_host: usize,
    pub policy: Arc<OutboundPolicy>,
    /// The certificates outbound TLS trusts.
    pub trust: Arc<tls::Trust>,
    /// The environment the AWS transports read (credentials, endpoint overrides).
    pub aws_env: aws::Env,
    pub eventbridge: eventbridge::EventBridgeSettings,
}

impl Transports {
    pub fn new(config: TransportConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        #[cfg(feature = "aws")]
        let aws = Arc::new(aws::Aws::new(config.aws_env, clock, &config.trust)?);
        #[cfg(not(feature = "aws"))]
        let _ = (config.aws_env, config.eventbridge, clock);
        Ok(Self {
            #[cfg(feature = "nats")]
            nats: nats::Nats::new(config.policy.clone(), config.trust.clone()),
            #[cfg(feature = "redis")]
            redis: redis::Redis::new(config.policy.clone(), config.trust.clone()),
            #[cfg(feature = "amqp")]
            amqp: amqp::Amqp::new(config.policy.clone(), &config.trust),
            #[cfg(feature = "mqtt")]
            mqtt: mqtt::Mqtt::new(config.policy.clone(), config.trust.clone()),
            http: http::Sender::new(config.max_idle_per_host, config.policy, &config.trust)?,
            #[cfg(feature = "aws")]
            sqs: sqs::Sqs::new(aws.clone()),
            #[cfg(feature = "aws")]
            eventbridge: eventbridge::EventBridge::new(aws, config.eventbridge),
        })
    }

    /// The pooled, outbound-protected HTTP client (also used by synchronous call chains).
    pub fn http(&self) -> &http::Sender {
        &self.http
    }

    /// The EventBridge client (partner event sources are created and deleted through it).
    #[cfg(feature = "aws")]
    pub fn eventbridge(&self) -> &eventbridge::EventBridge {
        &self.eventbridge
    }

    /// The NATS clients (also used by synchronous call chains for request-reply).
    #[cfg(feature = "nats")]
    pub fn nats(&self) -> &nats::Nats {
        &self.nats
    }

    /// Sends `msg` to `endpoint`, waiting at most `timeout` for its answer or acknowledgement.
    pub async fn send(&self, endpoint: &Endpoint, msg: Prepared, timeout: Duration) -> Response {
        if let Err(missing) = compiled_in(kind(endpoint)) {
            return Response::failed(SendError::Unavailable(missing), Instant::now());
        }
        match endpoint {
            Endpoint::Http(url) => self.http.post(url, &msg.headers, msg.body, timeout).await,
            #[cfg(feature = "nats")]
            Endpoint::Nats(url) => self.nats.publish(url, msg, timeout).await,
            #[cfg(feature = "redis")]
            Endpoint::Redis(url) => self.redis.xadd(url, msg, timeout).await,
            #[cfg(feature = "amqp")]
            Endpoint::Amqp(url) => self.amqp.publish(url, msg, timeout).await,
            #[cfg(feature = "mqtt")]
            Endpoint::Mqtt(url) => self.mqtt.publish(url, msg, timeout).await,
            #[cfg(feature = "aws")]
            Endpoint::Sqs(url) => self.sqs.send(url, msg, timeout).await,
            #[cfg(feature = "aws")]
            Endpoint::EventBridge {
                account,
                region,
                partner_source,
            } => {
                self.eventbridge
                    .send(account, region, partner_source.as_deref(), msg, timeout)
                    .await
            }
            // A kind left out of this build (answered above).
            #[allow(unreachable_patterns)]
            _ => Response::failed(
                SendError::Unavailable("this build cannot send there".into()),
                Instant::now(),
            ),
        }
    }
}

/// The first address of `host` that outbound protection allows (brokers connect to it, so the
/// address checked is the address used).
#[cfg(any(
    feature = "nats",
    feature = "redis",
    feature = "amqp",
    feature = "mqtt"
))]
pub(crate) async fn resolve_checked(
    policy: &OutboundPolicy,
    host: &str,
    port: u16,
) -> Result<std::net::SocketAddr, SendError> {
    use std::net::{IpAddr, SocketAddr};
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| SendError::Failed(format!("cannot resolve {host}: {e}")))?
            .collect(),
    };
    let mut refusal = None;
    for addr in addrs {
        match policy.check_ip(addr.ip()) {
            Ok(()) => return Ok(addr),
            Err(reason) => refusal = Some(reason),
        }
    }
    Err(match refusal {
        Some(reason) => SendError::Refused(reason),
        None => SendError::Failed(format!("{host} has no addresses")),
    })
}

/// Whether this build carries `kind`'s transport: each broker and AWS is a cargo feature of the
/// binary (all in its default set). A route of a left-out kind is refused when saved (400) and
/// a stored one stays queued (`SendError::Unavailable`) until a build that has it runs.
pub fn compiled_in(kind: DestinationKind) -> Result<(), String> {
    let (present, feature) = match kind {
        DestinationKind::Http => (true, ""),
        DestinationKind::Nats => (cfg!(feature = "nats"), "nats"),
        DestinationKind::Amqp => (cfg!(feature = "amqp"), "amqp"),
        DestinationKind::Redis => (cfg!(feature = "redis"), "redis"),
        DestinationKind::Mqtt => (cfg!(feature = "mqtt"), "mqtt"),
        DestinationKind::EventBridge | DestinationKind::Sqs => (cfg!(feature = "aws"), "aws"),
    };
    if present {
        Ok(())
    } else {
        Err(format!(
            "this build has no {} support (built without the cargo feature '{feature}')",
            kind.as_str()
        ))
    }
}

/// The kind of transport that carries deliveries to `endpoint`.
pub fn kind(endpoint: &Endpoint) -> DestinationKind {
    match endpoint {
        Endpoint::Http(_) => DestinationKind::Http,
        Endpoint::Nats(_) => DestinationKind::Nats,
        Endpoint::Redis(_) => DestinationKind::Redis,
        Endpoint::Amqp(_) => DestinationKind::Amqp,
        Endpoint::Mqtt(_) => DestinationKind::Mqtt,
        Endpoint::Sqs(_) => DestinationKind::Sqs,
        Endpoint::EventBridge { .. } => DestinationKind::EventBridge,
    }
}
