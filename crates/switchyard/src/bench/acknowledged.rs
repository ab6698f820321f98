//! Deliveries to a broker (`--destination`), counted where they are known: the servers' own
//! count of acknowledged deliveries in `/metrics` (a broker has no receiver in this process).

use super::server::{Cluster, Server};
use anyhow::Context;
use std::time::{Duration, Instant};

/// The servers whose acknowledged deliveries are counted, and where they deliver.
pub struct Acknowledged {
    client: reqwest::Client,
    metrics: Vec<String>,
    token: String,
    pub destination: String,
}

/// A count and when it was read.
pub struct Seen {
    pub count: usize,
    pub at: Instant,
    /// When a count above zero was first read.
    pub first: Option<Instant>,
}

impl Acknowledged {
    pub fn new(destination: &str, servers: &[Server], cluster: &Cluster) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::new(),
            metrics: servers.iter().map(|s| s.url("/metrics")).collect(),
            token: cluster.token("metrics:read")?,
            destination: destination.to_string(),
        })
    }

    /// Polls the count every 10 ms until it reaches `n` or `timeout` passes.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> anyhow::Result<Seen> {
        let deadline = Instant::now() + timeout;
        let mut first = None;
        loop {
            let count = self.count().await?;
            let at = Instant::now();
            if count > 0 && first.is_none() {
                first = Some(at);
            }
            if count >= n || at > deadline {
                return Ok(Seen { count, at, first });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Acknowledged deliveries over every server.
    async fn count(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        for url in &self.metrics {
            let text = self
                .client
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await?
                .text()
                .await
                .context("reading /metrics")?;
            total += delivered(&text);
        }
        Ok(total)
    }
}

/// Deliveries acknowledged by any transport, from a `/metrics` text.
fn delivered(text: &str) -> usize {
    super::metric_total(
        text,
        "switchyard_transport_deliveries_total",
        "outcome=\"delivered\"",
    ) as usize
}

#[cfg(test)]
mod tests {
    #[test]
    fn delivered_counts_every_transport() {
        let text = "switchyard_transport_deliveries_total{transport=\"redis\",outcome=\"delivered\"} 7\nswitchyard_transport_deliveries_total{transport=\"redis\",outcome=\"retried\"} 2\nswitchyard_transport_deliveries_total{transport=\"nats\",outcome=\"delivered\"} 3\n";
        assert_eq!(super::delivered(text), 10);
    }
}
