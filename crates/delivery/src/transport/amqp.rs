//! The RabbitMQ transport (`amqp://[USER:PASSWORD@]HOST:PORT/VHOST?exchange=EX&routingKey=RK`,
//! AMQP 0-9-1; `amqps://` over TLS, the socket opened to the checked address and the
//! certificate verified against the host's name with the roots every transport trusts).
//! Each delivery is one `basic.publish` with the mandatory flag on a channel in confirm mode,
//! and counts as delivered only when the broker confirms it: a nack, or a message returned as
//! unroutable (no queue bound for its routing key), is a failed attempt, as is a channel the
//! broker closes (an exchange that does not exist, a vhost the user may not use). The message
//! carries the body and the delivery metadata as properties: `content-type`, `message-id` (the
//! webhook id), `timestamp`, persistent delivery mode, and every metadata field as a header.
//!
//! One long-lived connection per server, virtual host and login, with one channel per exchange
//! (a channel the broker closes for one exchange does not disturb the others). Both are made on
//! first use and replaced when found closed; failed connection attempts are paced by
//! [`Reconnects`], and every send is bounded by its own timeout, so a broker that is down holds
//! up only its own deliveries. The TCP connection goes to an address outbound protection
//! checked, resolved here, not by the client.

use super::reconnect::Reconnects;
use super::tls::Trust;
use super::{resolve_checked, Response, SendError};
use crate::prepare::Prepared;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::tcp::{AsyncTcpStream, RustlsConnector};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::{AmqpTarget, DeliveryUrl};
use switchyard_core::netguard::OutboundPolicy;
use tokio::sync::OnceCell;

/// One connection and its channels, by exchange.
struct Link {
    conn: Connection,
    channels: Mutex<HashMap<String, Arc<OnceCell<Channel>>>>,
}

/// What identifies a connection: where, which virtual host, as whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct LinkKey {
    tls: bool,
    host: String,
    port: u16,
    vhost: String,
    user: String,
    password: String,
}

impl LinkKey {
    /// How the connection is named in errors and logs (no password).
    fn shown(&self) -> String {
        format!("{}:{} vhost '{}'", self.host, self.port, self.vhost)
    }
}

pub struct Amqp {
    policy: Arc<OutboundPolicy>,
    /// The TLS client every `amqps` connection uses.
    tls: Arc<RustlsConnector>,
    links: Mutex<HashMap<LinkKey, Arc<OnceCell<Arc<Link>>>>>,
    reconnects: Reconnects,
}

impl Amqp {
    pub fn new(policy: Arc<OutboundPolicy>, trust: &Trust) -> Self {
        Self {
            policy,
            tls: Arc::new(RustlsConnector::from(trust.client_config())),
            links: Mutex::new(HashMap::new()),
            reconnects: Reconnects::default(),
        }
    }

    /// Publishes `msg` and waits for the broker's confirm.
    pub async fn publish(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        match tokio::time::timeout(timeout, self.send(url, msg, timeout)).await {
            Ok(Ok(ack)) => Response::acknowledged(ack, started),
            Ok(Err(e)) => Response::failed(e, started),
            Err(_) => Response::failed(
                SendError::TimedOut(format!(
                    "RabbitMQ: no confirm within {} ms",
                    timeout.as_millis()
                )),
                started,
            ),
        }
    }

    async fn send(
        &self,
        url: &DeliveryUrl,
        msg: Prepared,
        timeout: Duration,
    ) -> Result<String, SendError> {
        if let Err(reason) = self.policy.check_url(url) {
            return Err(SendError::Refused(reason));
        }
        let target = AmqpTarget::of(url.url()).map_err(SendError::Failed)?;
        let key = link_key(url, &target);
        let link = self.link(&key, timeout).await?;
        let channel = channel(&link, &key, &target.exchange).await?;
        let failed = |what: &str, e: lapin::Error| {
            SendError::Failed(format!("RabbitMQ {what} at {}: {e}", key.shown()))
        };
        let confirm = channel
            .basic_publish(
                ShortString::from(target.exchange.as_str()),
                ShortString::from(target.routing_key.as_str()),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                &msg.body,
                properties(&msg.headers),
            )
            .await
            .map_err(|e| failed("publish", e))?
            .await
            .map_err(|e| failed("publish", e))?;
        let to = describe(&target);
        match confirm {
            Confirmation::Ack(None) => Ok(format!("confirmed by the broker ({to})")),
            Confirmation::Ack(Some(returned)) | Confirmation::Nack(Some(returned)) => {
                Err(SendError::Failed(format!(
                    "RabbitMQ returned the message as unroutable ({to}): {} {}",
                    returned.reply_code, returned.reply_text
                )))
            }
            Confirmation::Nack(None) => Err(SendError::Failed(format!(
                "RabbitMQ refused the message (nack) ({to})"
            ))),
            Confirmation::NotRequested => Err(SendError::Failed(
                "RabbitMQ: the channel is not in confirm mode".into(),
            )),
        }
    }

    /// The open connection for `key`, connecting (to a checked address) if there is none or the
    /// last one closed.
    async fn link(&self, key: &LinkKey, timeout: Duration) -> Result<Arc<Link>, SendError> {
        let cell = {
            let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
            let cell = links.entry(key.clone()).or_default();
            if cell.get().is_some_and(|l| !l.conn.status().connected()) {
                *cell = Arc::default();
            }
            cell.clone()
        };
        let link = cell
            .get_or_try_init(|| async {
                let server = key.shown();
                self.reconnects.check(&server)?;
                match tokio::time::timeout(
                    timeout,
                    connect(self.policy.clone(), self.tls.clone(), key),
                )
                .await
                {
                    Ok(Ok(conn)) => {
                        self.reconnects.succeeded(&server);
                        Ok(Arc::new(Link {
                            conn,
                            channels: Mutex::new(HashMap::new()),
                        }))
                    }
                    Ok(Err(e)) => {
                        if !e.is_refused() {
                            self.reconnects.failed(&server, &e);
                        }
                        Err(e)
                    }
                    Err(_) => {
                        let e = SendError::TimedOut(format!(
                            "RabbitMQ connect to {server}: no answer within {} ms",
                            timeout.as_millis()
                        ));
                        self.reconnects.failed(&server, &e);
                        Err(e)
                    }
                }
            })
            .await?;
        Ok(link.clone())
    }
}

/// Opens a connection: TCP to a checked address, TLS for `amqps`, then the AMQP handshake.
async fn connect(
    policy: Arc<OutboundPolicy>,
    connector: Arc<RustlsConnector>,
    key: &LinkKey,
) -> Result<Connection, SendError> {
    let uri = AMQPUri {
        scheme: if key.tls {
            AMQPScheme::AMQPS
        } else {
            AMQPScheme::AMQP
        },
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo {
                username: key.user.clone(),
                password: key.password.clone(),
            },
            host: key.host.clone(),
            port: key.port,
        },
        vhost: key.vhost.clone(),
        query: AMQPQueryString::default(),
    };
    let runtime = lapin::runtime::default_runtime()
        .map_err(|e| SendError::Failed(format!("RabbitMQ: no runtime: {e}")))?;
    // The address is checked before the socket is opened, and the client is given only it.
    let addr = resolve_checked(&policy, &key.host, key.port).await?;
    let (host, tls) = (key.host.clone(), key.tls);
    let props =
        ConnectionProperties::default().with_connection_name(LongString::from("switchyard"));
    Connection::connector(
        uri,
        runtime,
        async move |_uri, runtime| {
            let stream = AsyncTcpStream::connect(&runtime, addr)
                .await
                .map_err(lapin::Error::from)?;
            if tls {
                let bare = host.trim_start_matches('[').trim_end_matches(']');
                return stream
                    .into_rustls(&connector, bare)
                    .await
                    .map_err(lapin::Error::from);
            }
            Ok(stream)
        },
        props,
    )
    .await
    .map_err(|e| SendError::Failed(format!("RabbitMQ connect to {}: {e}", key.shown())))
}

/// The open confirm-mode channel of `link` for `exchange`, opened if there is none or the last
/// one was closed (by the broker, for an error of its own).
async fn channel(link: &Link, key: &LinkKey, exchange: &str) -> Result<Channel, SendError> {
    let cell = {
        let mut channels = link.channels.lock().unwrap_or_else(|e| e.into_inner());
        let cell = channels.entry(exchange.to_string()).or_default();
        if cell.get().is_some_and(|c| !c.status().connected()) {
            *cell = Arc::default();
        }
        cell.clone()
    };
    let channel = cell
        .get_or_try_init(|| async {
            let failed = |e: lapin::Error| {
                SendError::Failed(format!("RabbitMQ channel at {}: {e}", key.shown()))
            };
            let channel = link.conn.create_channel().await.map_err(failed)?;
            channel
                .confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(failed)?;
            Ok::<_, SendError>(channel)
        })
        .await?;
    Ok(channel.clone())
}

fn link_key(url: &DeliveryUrl, target: &AmqpTarget) -> LinkKey {
    let u = url.url();
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = decode(u.username());
    LinkKey {
        tls: url.is_tls(),
        host: u.host_str().unwrap_or("").to_string(),
        port: u
            .port()
            .unwrap_or(if u.scheme() == "amqps" { 5671 } else { 5672 }),
        vhost: target.vhost.clone(),
        // AMQP's default login, as every client reads a URL without one.
        user: if user.is_empty() {
            "guest".into()
        } else {
            user
        },
        password: u.password().map_or_else(|| "guest".into(), decode),
    }
}

/// The delivery metadata as message properties and headers.
fn properties(meta: &[(&'static str, String)]) -> BasicProperties {
    let mut headers = FieldTable::default();
    let mut props = BasicProperties::default().with_delivery_mode(2);
    for (k, v) in meta {
        match *k {
            "content-type" => props = props.with_content_type(ShortString::from(v.as_str())),
            "webhook-id" => props = props.with_message_id(ShortString::from(v.as_str())),
            "webhook-timestamp" => {
                if let Ok(t) = v.parse::<u64>() {
                    props = props.with_timestamp(t);
                }
            }
            _ => {}
        }
        headers.insert(
            ShortString::from(*k),
            AMQPValue::LongString(LongString::from(v.as_str())),
        );
    }
    props.with_headers(headers)
}

fn describe(t: &AmqpTarget) -> String {
    let exchange = if t.exchange.is_empty() {
        "the default exchange"
    } else {
        t.exchange.as_str()
    };
    format!("exchange {exchange}, routing key '{}'", t.routing_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_becomes_properties_and_headers() {
        let p = properties(&[
            ("content-type", "application/json".into()),
            ("webhook-id", "msg_1".into()),
            ("webhook-timestamp", "1700000000".into()),
            ("webhook-signature", "v1,abc".into()),
        ]);
        assert_eq!(
            p.content_type().as_ref().unwrap().as_str(),
            "application/json"
        );
        assert_eq!(p.message_id().as_ref().unwrap().as_str(), "msg_1");
        assert_eq!(*p.timestamp(), Some(1_700_000_000));
        assert_eq!(*p.delivery_mode(), Some(2));
        let headers = p.headers().as_ref().unwrap();
        assert_eq!(
            headers.inner().get("webhook-signature"),
            Some(&AMQPValue::LongString("v1,abc".into()))
        );
    }

    #[test]
    fn a_url_without_a_login_uses_the_default_one() {
        let url = DeliveryUrl::parse("u", "amqp://127.0.0.1/%2f?exchange=e").unwrap();
        let key = link_key(&url, &AmqpTarget::of(url.url()).unwrap());
        assert_eq!(
            (key.user.as_str(), key.password.as_str()),
            ("guest", "guest")
        );
        assert_eq!((key.port, key.vhost.as_str()), (5672, "/"));
        assert_eq!(key.shown(), "127.0.0.1:5672 vhost '/'");
    }
}
