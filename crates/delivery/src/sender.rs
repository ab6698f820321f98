//! The one pooled HTTP client all deliveries share: keep-alive connections per host, no
//! redirects (a 3xx is a failed attempt, as Standard Webhooks asks), per-request timeouts.

use crate::guard::GuardedResolver;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::netguard::OutboundPolicy;

/// Longest response excerpt kept in the attempt log.
pub const EXCERPT_BYTES: usize = 4096;

/// What came back from one request.
#[derive(Debug)]
pub struct Response {
    pub status: Option<u16>,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    pub error: Option<String>,
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
}

#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Arc<OutboundPolicy>,
}

impl Sender {
    pub fn new(max_idle_per_host: usize, policy: Arc<OutboundPolicy>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver::new(policy.clone())))
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
    /// attempt log keeps the first [`EXCERPT_BYTES`].
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
        timeout: Duration,
    ) -> Response {
        let started = Instant::now();
        if let Err(reason) = self.policy.check_url(url) {
            return Response {
                status: None,
                retry_after: None,
                body: Vec::new(),
                error: Some(format!("refused by outbound protection: {reason}")),
                duration: started.elapsed(),
            };
        }
        let mut req = self.client.post(url).timeout(timeout).body(body);
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
                    Err(e) => (Vec::new(), Some(describe(&e))),
                };
                Response {
                    status: Some(status),
                    retry_after,
                    body,
                    error,
                    duration: started.elapsed(),
                }
            }
            Err(e) => Response {
                status: None,
                retry_after: None,
                body: Vec::new(),
                error: Some(describe(&e)),
                duration: started.elapsed(),
            },
        }
    }
}

/// A one-line description of a request failure with its cause chain.
fn describe(e: &reqwest::Error) -> String {
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
