//! The NATS transport (`nats://HOST:PORT/SUBJECT`). A subject that a JetStream stream captures
//! is published through JetStream and counts as delivered only when the stream acknowledges it
//! (`Nats-Msg-Id` = the webhook id, so a retry of a stored message is recognised as a duplicate);
//! any other subject gets a core publish followed by a flush. A `restCall` target on NATS is a
//! request-reply: the reply is the answer, exactly as an HTTP response body is.
//!
//! A password in the URL is the login (`nats://USER:PASSWORD@...`) or, alone, a token
//! (`nats://:TOKEN@...`); `tls://` connects over TLS. One long-lived client per server and login,
//! made on first use and kept: the client reconnects by itself
//! with backoff, and every send is bounded by its own timeout, so a server that is down holds up
//! only its own deliveries. Before connecting, the host's addresses pass outbound protection and
//! the client connects to a checked address only (servers the cluster advertises are ignored),
//! over TLS too: NATS starts TLS inside its own protocol, so the client is given the address and
//! a TLS configuration that verifies the certificate against the host's name
//! ([`Trust::pinned_to`]); the name is not resolved a second time.

use super::tls::Trust;
use super::{Response, SendError};
use crate::prepare::Prepared;
use async_nats::{Client, ConnectOptions, HeaderMap};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::DeliveryUrl;
use switchyard_core::netguard::OutboundPolicy;
use tokio::sync::OnceCell;

/// How long a "does a stream capture this subject" answer is used before it is asked again.
const STREAM_LOOKUP_TTL: Duration = Duration::from_secs(5);

/// The NATS clients, one per server.
pub struct Nats {
    policy: Arc<OutboundPolicy>,
    trust: Arc<Trust>,
    clients: Mutex<HashMap<String, Arc<OnceCell<Client>>>>,
    /// `(server, subject)` → whether a stream captures it, and when that was learned.
    captured: Mutex<HashMap<(String, String), (Instant, bool)>>,
}

impl Nats {
    pub fn new(policy: Arc<OutboundPolicy>, trust: Arc<Trust>) -> Self {
        Self {
            policy,
            trust,
            clients: Mutex::new(HashMap::new()),
            captured: Mutex::new(HashMap::new()),
        }
    }

    /// Publishes `msg` to the URL's subject: acknowledged by JetStream or flushed to the server.
    pub async fn publish(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        let work = async {
            let (server, client) = self.client(url, timeout).await?;
            let subject = subject_of(url);
            let headers = headers(&msg.headers, true);
            if self.stream_captures(&server, &client, &subject).await {
                let reply = client
                    .request_with_headers(subject.clone(), headers, msg.body.into())
                    .await
                    .map_err(|e| failed(&format!("JetStream publish to {subject}"), &e))?;
                pub_ack(&reply.payload)
            } else {
                client
                    .publish_with_headers(subject.clone(), headers, msg.body.into())
                    .await
                    .map_err(|e| failed(&format!("publish to {subject}"), &e))?;
                client.flush().await.map_err(|e| failed("flush", &e))?;
                Ok(format!("published to {subject} (no stream captures it)"))
            }
        };
        finish(tokio::time::timeout(timeout, work).await, timeout, started)
    }

    /// A request-reply (a restCall target): the reply's payload is the answer.
    pub async fn request(
        &self,
        url: &DeliveryUrl,
        meta: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Response {
        let started = Instant::now();
        let work = async {
            let (_, client) = self.client(url, timeout).await?;
            let subject = subject_of(url);
            let reply = client
                .request_with_headers(subject.clone(), headers(meta, false), body.into())
                .await
                .map_err(|e| failed(&format!("request to {subject}"), &e))?;
            Ok::<_, SendError>(reply.payload.to_vec())
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(Ok(payload)) => Response::acknowledged(payload, started),
            other => finish(other.map(|r| r.map(|_| String::new())), timeout, started),
        }
    }

    /// The server's client, connecting on first use to an address outbound protection allows.
    async fn client(
        &self,
        url: &DeliveryUrl,
        timeout: Duration,
    ) -> Result<(String, Client), SendError> {
        if let Err(reason) = self.policy.check_url(url) {
            return Err(SendError::Refused(reason));
        }
        let host = url.url().host_str().unwrap_or("").to_string();
        let port = url.url().port().unwrap_or(4222);
        let server = format!("{host}:{port}");
        let login = login(url);
        let tls = url.is_tls();
        // One client per server, login and TLS choice.
        let key = format!("{tls} {server} {login:?}");
        let cell = {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            clients.entry(key).or_default().clone()
        };
        let client = cell
            .get_or_try_init(|| async {
                let addr = super::resolve_checked(&self.policy, &host, port).await?;
                let mut options = ConnectOptions::new()
                    .name("switchyard")
                    .ignore_discovered_servers()
                    .connection_timeout(timeout);
                match login {
                    Some((user, pass)) if user.is_empty() => options = options.token(pass),
                    Some((user, pass)) => options = options.user_and_password(user, pass),
                    None => {}
                }
                let target = if tls {
                    let config = self
                        .trust
                        .pinned_to(&host)
                        .map_err(|e| SendError::Failed(format!("NATS TLS with {server}: {e}")))?;
                    options = options.require_tls(true).tls_client_config(config);
                    format!("tls://{addr}")
                } else {
                    format!("nats://{addr}")
                };
                options
                    .connect(target)
                    .await
                    .map_err(|e| SendError::Failed(format!("NATS connect to {server}: {e}")))
            })
            .await?
            .clone();
        Ok((server, client))
    }

    /// Whether a JetStream stream captures `subject` (asked of the server, cached briefly). A
    /// server without JetStream captures nothing.
    async fn stream_captures(&self, server: &str, client: &Client, subject: &str) -> bool {
        let key = (server.to_string(), subject.to_string());
        if let Some((at, captured)) = self
            .captured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if at.elapsed() < STREAM_LOOKUP_TTL {
                return *captured;
            }
        }
        let query = serde_json::json!({ "subject": subject }).to_string();
        let captured = match client
            .request("$JS.API.STREAM.NAMES".to_string(), query.into())
            .await
        {
            Ok(reply) => serde_json::from_slice::<serde_json::Value>(&reply.payload)
                .ok()
                .and_then(|v| v.get("streams").and_then(|s| s.as_array()).cloned())
                .is_some_and(|s| !s.is_empty()),
            Err(_) => false,
        };
        self.captured
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (Instant::now(), captured));
        captured
    }
}

/// The URL's login: a user and password, or a token (the password alone).
fn login(url: &DeliveryUrl) -> Option<(String, String)> {
    let password = url.password()?;
    let user = percent_encoding::percent_decode_str(url.url().username())
        .decode_utf8_lossy()
        .into_owned();
    Some((user, password))
}

/// The subject a `nats://` URL names (its path without the leading `/`).
pub fn subject_of(url: &DeliveryUrl) -> String {
    url.url().path().trim_start_matches('/').to_string()
}

/// The delivery metadata as NATS headers; `dedup` adds `Nats-Msg-Id` = the webhook id.
fn headers(meta: &[(&'static str, String)], dedup: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in meta {
        h.insert(*k, v.as_str());
        if dedup && *k == "webhook-id" {
            h.insert("Nats-Msg-Id", v.as_str());
        }
    }
    h
}

/// A JetStream publish acknowledgement, or the stream's refusal.
fn pub_ack(payload: &[u8]) -> Result<String, SendError> {
    let v: serde_json::Value = serde_json::from_slice(payload).map_err(|_| {
        SendError::Failed("JetStream answered something that is not an acknowledgement".into())
    })?;
    if let Some(err) = v.get("error") {
        return Err(SendError::Failed(format!(
            "JetStream refused the message: {}",
            err.get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("unknown error")
        )));
    }
    let stream = v.get("stream").and_then(|s| s.as_str()).unwrap_or("");
    let seq = v.get("seq").and_then(|s| s.as_u64()).unwrap_or(0);
    if stream.is_empty() {
        return Err(SendError::Failed(
            "JetStream answered without a stream".into(),
        ));
    }
    let duplicate = if v.get("duplicate").and_then(|d| d.as_bool()) == Some(true) {
        " (duplicate: already stored)"
    } else {
        ""
    };
    Ok(format!("stream={stream} seq={seq}{duplicate}"))
}

fn failed(what: &str, e: &dyn std::fmt::Display) -> SendError {
    SendError::Failed(format!("NATS {what}: {e}"))
}

fn finish(
    result: Result<Result<String, SendError>, tokio::time::error::Elapsed>,
    timeout: Duration,
    started: Instant,
) -> Response {
    match result {
        Ok(Ok(ack)) => Response::acknowledged(ack, started),
        Ok(Err(e)) => Response::failed(e, started),
        Err(_) => Response::failed(
            SendError::TimedOut(format!(
                "NATS: no acknowledgement within {} ms",
                timeout.as_millis()
            )),
            started,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jetstream_acknowledgements() {
        assert_eq!(
            pub_ack(br#"{"stream":"ORDERS","seq":7}"#),
            Ok("stream=ORDERS seq=7".into())
        );
        assert!(pub_ack(br#"{"stream":"ORDERS","seq":7,"duplicate":true}"#)
            .unwrap()
            .contains("duplicate"));
        let refused = pub_ack(br#"{"error":{"code":503,"description":"no space"}}"#).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "JetStream refused the message: no space"
        );
        assert!(pub_ack(b"+OK").is_err());
    }
}
