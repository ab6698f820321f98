//! The MQTT transport (`mqtt://[USER:PASSWORD@]HOST:PORT/TOPIC`, `mqtts://` over TLS). Each delivery is one QoS 1 `PUBLISH` (MQTT 5)
//! and counts as delivered when the broker's `PUBACK` says it accepted the message (success, or
//! accepted with no subscriber matching); any other reason code (not authorized, quota exceeded,
//! invalid topic, ...) or a connection lost before the `PUBACK` is a failed attempt. The message
//! carries the body, `content-type`, and every metadata field (`webhook-id`, `webhook-timestamp`,
//! the signature) as an MQTT 5 user property.
//!
//! One long-lived connection per server and login, owned by a task that drives the client's
//! event loop: it keeps the connection alive, reconnects with backoff while the link is in use,
//! and matches each `PUBACK` to its publish by packet id. A publish is handed to the client and
//! registered under one lock, in the order the client sends them, so the packet ids the event
//! loop reports map back to the right waiters. While the broker is unreachable, publishes fail
//! at once with the last connection error; every send is bounded by its own timeout, so a
//! broker that is down holds up only its own deliveries. Before each connection the host is
//! resolved and checked by outbound protection and the client is given the checked address; over
//! TLS the transport opens the connection to that address and does the handshake itself (with the
//! broker's name for SNI and the certificate), and hands the client the stream through a private
//! Unix socket ([`super::relay`]), so the client never resolves the name again.

use super::reconnect::Reconnects;
use super::tls::Trust;
use super::{resolve_checked, Response, SendError};
use crate::prepare::Prepared;
use rumqttc::v5::mqttbytes::v5::{PubAckReason, PublishProperties};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, EventLoop, Incoming, MqttOptions};
use rumqttc::{Outgoing, Transport};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::{mqtt_topic, DeliveryUrl};
use switchyard_core::netguard::OutboundPolicy;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch, Notify};

/// Publishes handed to one connection and not yet acknowledged.
const MAX_IN_FLIGHT: u16 = 256;
/// A link with no publish for this long, and not connected, stops reconnecting and is dropped.
const IDLE: Duration = Duration::from_secs(120);
const KEEP_ALIVE: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT_SECS: u64 = 10;

type Waiter = oneshot::Sender<Result<String, SendError>>;

/// What identifies a connection: where and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LinkKey {
    tls: bool,
    host: String,
    port: u16,
    user: Option<(String, String)>,
}

impl LinkKey {
    fn shown(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// One connection's state, shared by the publishers and the task driving it.
struct Link {
    state: Mutex<LinkState>,
    /// Signalled when a connection attempt ends (connected or failed).
    changed: Notify,
}

struct LinkState {
    /// The client of the current connection, while connected.
    client: Option<AsyncClient>,
    /// Why the last connection attempt failed, while waiting to try again.
    down: Option<String>,
    /// Handed to the client, waiting for the packet id the event loop gives them (in order).
    unsent: VecDeque<Waiter>,
    /// Sent, waiting for their `PUBACK`, by packet id.
    in_flight: HashMap<u16, Waiter>,
    last_used: Instant,
    /// The task ended: a new link must be made.
    closed: bool,
}

pub struct Mqtt {
    policy: Arc<OutboundPolicy>,
    trust: Arc<Trust>,
    links: Mutex<HashMap<LinkKey, Arc<Link>>>,
    /// Dropped with the transport: every link task ends.
    shutdown: watch::Sender<()>,
    reconnects: Arc<Reconnects>,
}

impl Mqtt {
    pub fn new(policy: Arc<OutboundPolicy>, trust: Arc<Trust>) -> Self {
        Self {
            policy,
            trust,
            links: Mutex::new(HashMap::new()),
            shutdown: watch::channel(()).0,
            reconnects: Arc::default(),
        }
    }

    /// Publishes `msg` with QoS 1 and waits for the broker's `PUBACK`.
    pub async fn publish(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        match tokio::time::timeout(timeout, self.send(url, msg)).await {
            Ok(Ok(ack)) => Response::acknowledged(ack, started),
            Ok(Err(e)) => Response::failed(e, started),
            Err(_) => Response::failed(
                SendError::TimedOut(format!("MQTT: no PUBACK within {} ms", timeout.as_millis())),
                started,
            ),
        }
    }

    async fn send(&self, url: &DeliveryUrl, msg: Prepared) -> Result<String, SendError> {
        if let Err(reason) = self.policy.check_url(url) {
            return Err(SendError::Refused(reason));
        }
        let topic = mqtt_topic(url.url()).map_err(SendError::Failed)?;
        let key = link_key(url);
        let link = self.link(&key);
        let (tx, rx) = oneshot::channel();
        let mut body = Some(msg.body);
        let notified = link.changed.notified();
        tokio::pin!(notified);
        loop {
            notified.as_mut().enable();
            {
                let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
                st.last_used = Instant::now();
                if let Some(client) = &st.client {
                    // Handed over and registered under one lock: the event loop reports packet
                    // ids in the order publishes were handed over.
                    client
                        .try_publish_with_properties(
                            topic.clone(),
                            QoS::AtLeastOnce,
                            false,
                            body.take().unwrap_or_default(),
                            properties(&msg.headers),
                        )
                        .map_err(|e| {
                            SendError::Failed(format!("MQTT publish to {}: {e}", key.shown()))
                        })?;
                    st.unsent.push_back(tx);
                    break;
                }
                if let Some(why) = &st.down {
                    return Err(SendError::Failed(why.clone()));
                }
                if st.closed {
                    return Err(SendError::Failed(format!(
                        "the MQTT link to {} was closed",
                        key.shown()
                    )));
                }
            }
            // Connecting: wait for the attempt to end.
            notified.as_mut().await;
            notified.set(link.changed.notified());
        }
        match rx.await {
            Ok(result) => result.map(|ack| format!("{ack} (topic {topic})")),
            Err(_) => Err(SendError::Failed(format!(
                "MQTT connection to {} ended before the PUBACK",
                key.shown()
            ))),
        }
    }

    /// The link for `key`, starting its task if there is none (or the last one ended).
    fn link(&self, key: &LinkKey) -> Arc<Link> {
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(link) = links.get(key) {
            if !link.state.lock().unwrap_or_else(|e| e.into_inner()).closed {
                return link.clone();
            }
        }
        let link = Arc::new(Link {
            changed: Notify::new(),
            state: Mutex::new(LinkState {
                client: None,
                down: None,
                unsent: VecDeque::new(),
                in_flight: HashMap::new(),
                last_used: Instant::now(),
                closed: false,
            }),
        });
        links.insert(key.clone(), link.clone());
        tokio::spawn(drive(
            link.clone(),
            key.clone(),
            self.policy.clone(),
            self.trust.clone(),
            self.reconnects.clone(),
            self.shutdown.subscribe(),
        ));
        link
    }
}

/// Connects, drives the event loop while connected, and reconnects with backoff while the link
/// is used; ends when the transport is dropped or the link has been idle and disconnected.
async fn drive(
    link: Arc<Link>,
    key: LinkKey,
    policy: Arc<OutboundPolicy>,
    trust: Arc<Trust>,
    reconnects: Arc<Reconnects>,
    mut shutdown: watch::Receiver<()>,
) {
    let server = key.shown();
    loop {
        link.state.lock().unwrap_or_else(|e| e.into_inner()).down = None;
        let attempt = tokio::select! {
            a = connect(&key, &policy, &trust) => a,
            _ = shutdown.changed() => break,
        };
        let wait = match attempt {
            Ok((client, eventloop)) => {
                reconnects.succeeded(&server);
                link.state.lock().unwrap_or_else(|e| e.into_inner()).client = Some(client);
                link.changed.notify_waiters();
                let error = tokio::select! {
                    e = serve(&link, eventloop) => e,
                    _ = shutdown.changed() => break,
                };
                tracing::debug!(broker = %server, %error, "MQTT connection lost");
                disconnected(&link, &error);
                Duration::ZERO
            }
            Err(error) => {
                disconnected(&link, &error);
                reconnects.failed(&server, &error)
            }
        };
        let idle = {
            let st = link.state.lock().unwrap_or_else(|e| e.into_inner());
            st.last_used.elapsed() > IDLE
        };
        if idle {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
    {
        let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
        st.closed = true;
        st.client = None;
        fail_all(&mut st, "the MQTT link was closed");
    }
    link.changed.notify_waiters();
}

/// Opens a connection to a checked address and waits for the broker's `CONNACK`.
async fn connect(
    key: &LinkKey,
    policy: &OutboundPolicy,
    trust: &Trust,
) -> Result<(AsyncClient, EventLoop), SendError> {
    let addr = resolve_checked(policy, &key.host, key.port).await?;
    let id = format!("switchyard-{:016x}", rand::random::<u64>());
    let mut opts = if key.tls {
        let relay = tls_relay(key, addr, trust).await?;
        let mut opts = MqttOptions::new(id, relay.path.to_string_lossy(), 0);
        opts.set_transport(Transport::Unix);
        opts
    } else {
        MqttOptions::new(id, addr.ip().to_string(), addr.port())
    };
    opts.set_keep_alive(KEEP_ALIVE)
        .set_clean_start(true)
        .set_connection_timeout(CONNECT_TIMEOUT_SECS)
        .set_outgoing_inflight_upper_limit(MAX_IN_FLIGHT);
    if let Some((user, password)) = &key.user {
        opts.set_credentials(user.clone(), password.clone());
    }
    let (client, mut eventloop) = AsyncClient::new(opts, MAX_IN_FLIGHT as usize);
    match eventloop.poll().await {
        Ok(Event::Incoming(Incoming::ConnAck(_))) => Ok((client, eventloop)),
        Ok(other) => Err(SendError::Failed(format!(
            "MQTT connect to {}: unexpected {other:?}",
            key.shown()
        ))),
        Err(e) => Err(SendError::Failed(format!(
            "MQTT connect to {}: {e}",
            key.shown()
        ))),
    }
}

/// TCP to the checked `addr` and the TLS handshake with the broker's name, handed over for the
/// client to connect to.
async fn tls_relay(
    key: &LinkKey,
    addr: std::net::SocketAddr,
    trust: &Trust,
) -> Result<super::relay::Relay, SendError> {
    let wait = Duration::from_secs(CONNECT_TIMEOUT_SECS);
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        SendError::Failed(format!("MQTT {what} {}: {e}", key.shown()))
    };
    let handshake = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| failed("connect to", &e))?;
        let _ = tcp.set_nodelay(true);
        trust
            .connect(&key.host, tcp)
            .await
            .map_err(|e| failed("TLS with", &e))
    };
    let stream = tokio::time::timeout(wait, handshake)
        .await
        .map_err(|_| failed("connect to", &"no TLS session within the timeout"))??;
    super::relay::hand_over(stream, wait).map_err(|e| failed("local relay for", &e))
}

/// Drives a connected event loop: matches packet ids to waiters and `PUBACK`s to packet ids.
/// Returns the error that ended the connection.
async fn serve(link: &Link, mut eventloop: EventLoop) -> SendError {
    loop {
        match eventloop.poll().await {
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => {
                let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(w) = st.unsent.pop_front() {
                    st.in_flight.insert(pkid, w);
                }
            }
            Ok(Event::Incoming(Incoming::PubAck(ack))) => {
                let waiter = link
                    .state
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .in_flight
                    .remove(&ack.pkid);
                if let Some(w) = waiter {
                    let _ = w.send(puback(&ack.reason));
                }
            }
            Ok(Event::Incoming(Incoming::Disconnect(d))) => {
                let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
                // Nothing handed over is sent on the next connection (a clean start).
                eventloop.clean();
                st.client = None;
                return SendError::Failed(format!(
                    "the MQTT broker disconnected: {:?}",
                    d.reason_code
                ));
            }
            Ok(_) => {}
            Err(e) => {
                let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
                eventloop.clean();
                st.client = None;
                return SendError::Failed(format!("MQTT connection lost: {e}"));
            }
        }
    }
}

/// Marks the link disconnected and fails every publish waiting on it.
fn disconnected(link: &Link, error: &SendError) {
    {
        let mut st = link.state.lock().unwrap_or_else(|e| e.into_inner());
        st.client = None;
        st.down = Some(error.to_string());
        fail_all(&mut st, &error.to_string());
    }
    link.changed.notify_waiters();
}

fn fail_all(st: &mut LinkState, why: &str) {
    let waiters = st
        .unsent
        .drain(..)
        .chain(st.in_flight.drain().map(|(_, w)| w));
    for w in waiters.collect::<Vec<_>>() {
        let _ = w.send(Err(SendError::Failed(format!("{why} before the PUBACK"))));
    }
}

/// What a `PUBACK` reason code means for the delivery.
fn puback(reason: &PubAckReason) -> Result<String, SendError> {
    match reason {
        PubAckReason::Success => Ok("PUBACK".into()),
        PubAckReason::NoMatchingSubscribers => Ok("PUBACK: no matching subscribers".into()),
        refused => Err(SendError::Failed(format!(
            "the MQTT broker refused the message: {refused:?}"
        ))),
    }
}

fn link_key(url: &DeliveryUrl) -> LinkKey {
    let u = url.url();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    LinkKey {
        tls: url.is_tls(),
        host: u.host_str().unwrap_or("").to_string(),
        port: u.port().unwrap_or(if url.is_tls() { 8883 } else { 1883 }),
        user: (!u.username().is_empty() || u.password().is_some()).then(|| {
            (
                decode(u.username()),
                u.password().map(decode).unwrap_or_default(),
            )
        }),
    }
}

/// The delivery metadata as MQTT 5 properties.
fn properties(meta: &[(&'static str, String)]) -> PublishProperties {
    let mut props = PublishProperties::default();
    for (k, v) in meta {
        if *k == "content-type" {
            props.content_type = Some(v.clone());
        }
        props.user_properties.push((k.to_string(), v.clone()));
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puback_reasons() {
        assert!(puback(&PubAckReason::Success).is_ok());
        assert!(puback(&PubAckReason::NoMatchingSubscribers).is_ok());
        let e = puback(&PubAckReason::NotAuthorized).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the MQTT broker refused the message: NotAuthorized"
        );
        assert!(puback(&PubAckReason::QuotaExceeded).is_err());
    }

    #[test]
    fn metadata_becomes_user_properties() {
        let p = properties(&[
            ("content-type", "application/json".into()),
            ("webhook-id", "msg_1".into()),
        ]);
        assert_eq!(p.content_type.as_deref(), Some("application/json"));
        assert!(p
            .user_properties
            .contains(&("webhook-id".to_string(), "msg_1".to_string())));
    }
}
