//! The HTTP transport: the one pooled client all HTTP deliveries (and synchronous call chains)
//! share: keep-alive connections per host, no redirects (a 3xx is a failed attempt, as Standard
//! Webhooks asks), no proxy (a proxy would resolve and connect on our behalf, past outbound
//! protection), per-request timeouts.

use super::tls::Trust;
use super::{Response, SendError};
use crate::guard::{find_refusal, GuardedResolver};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::DeliveryUrl;
use switchyard_core::netguard::OutboundPolicy;

/// `url` as shown in attempt records and logs: a password in it masked.
pub fn masked(url: &DeliveryUrl) -> String {
    let mut shown = url.url().clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl Sender {
    pub fn new(
        max_idle_per_host: usize,
        policy: Arc<OutboundPolicy>,
        trust: &Trust,
    ) -> anyhow::Result<Self> {
        let client = trust
            .http_client(reqwest::Client::builder())?
            .dns_resolver(Arc::new(GuardedResolver::new(policy.clone())))
            .no_proxy()
            .https_only(policy.https_only())
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(max_idle_per_host)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, policy })
    }

    /// POSTs `body` and reads the answer completely (so the connection can be reused); the
    /// attempt log keeps the first [`EXCERPT_BYTES`]. The normalized host of `url` is checked
    /// here (address literals) or by the resolver (names), and the client is given the same
    /// parsed URL, so it connects to nothing the check did not see.
    pub async fn post(
        &self,
        url: &DeliveryUrl,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Response {
        let started = Instant::now();
        if let Err(reason) = self.policy.check_url(url) {
            return Response::failed(SendError::Refused(reason), started);
        }
        self.send(url, headers, body, timeout, started).await
    }

    /// The request itself; names are still checked by the resolver.
    async fn send(
        &self,
        url: &DeliveryUrl,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
        started: Instant,
    ) -> Response {
        let mut req = self
            .client
            .post(url.url().clone())
            .timeout(timeout)
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let (body, error) = match resp.bytes().await {
                    Ok(b) => (b.to_vec(), None),
                    Err(e) => (Vec::new(), Some(classify(&e))),
                };
                Response {
                    status: Some(status),
                    retry_after,
                    body,
                    error,
                    duration: started.elapsed(),
                }
            }
            Err(e) => Response::failed(classify(&e), started),
        }
    }
}

/// A request failure, typed, with a one-line description of its cause chain.
fn classify(e: &reqwest::Error) -> SendError {
    if let Some(refused) = find_refusal(e) {
        return SendError::Refused(refused.0.clone());
    }
    let msg = describe(e);
    if e.is_timeout() {
        SendError::TimedOut(msg)
    } else {
        SendError::Failed(msg)
    }
}

/// A one-line description of a failed request with its cause chain (also for the AWS calls).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DeliveryUrl {
        DeliveryUrl::parse("url", s).unwrap()
    }

    fn closed() -> Sender {
        Sender::new(
            1,
            Arc::new(OutboundPolicy::new("", false).unwrap()),
            &Trust::public(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn literal_addresses_are_refused_before_any_connection() {
        let sender = closed();
        for spelling in [
            "http://127.1:9/",
            "http://0x7f000001:9/",
            "http://[::ffff:127.0.0.1]:9/",
        ] {
            let r = sender
                .post(&url(spelling), &[], Vec::new(), Duration::from_secs(1))
                .await;
            assert!(
                matches!(&r.error, Some(SendError::Refused(_))),
                "{spelling}: {r:?}"
            );
            assert!(r.status.is_none() && r.excerpt().is_none());
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused_by_the_resolver_as_a_refusal() {
        // Past the sender's own check (which refuses `localhost` by name), the resolver drops
        // the loopback addresses, and its refusal is recognised in reqwest's error chain.
        let sender = closed();
        let u = url("http://localhost:9/");
        let r = sender
            .send(&u, &[], Vec::new(), Duration::from_secs(5), Instant::now())
            .await;
        match &r.error {
            Some(SendError::Refused(reason)) => assert!(reason.contains("loopback"), "{reason}"),
            other => panic!("not a refusal: {other:?}"),
        }
        assert!(r
            .error
            .as_ref()
            .unwrap()
            .to_string()
            .starts_with("refused by outbound protection"));
    }
}
