//! The load generator: C connections, each sending its share of N POSTs back to back over a
//! keep-alive connection, recording each request's latency and, for publishes, when each
//! resulting invocation was sent.

use super::BenchArgs;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct LoadResult {
    pub elapsed: Duration,
    pub requests: usize,
    pub latencies: Vec<Duration>,
    /// Invocation id → when the publish that created it was sent.
    pub sent_at: HashMap<String, Instant>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn p(&self, q: f64) -> Duration {
        super::percentile(&self.latencies, q)
    }
}

pub async fn run(
    urls: &[String],
    args: &BenchArgs,
    body: impl Fn(usize) -> Vec<u8> + Send + Sync + Clone + 'static,
    token: Option<&str>,
) -> anyhow::Result<LoadResult> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.concurrency);
    for worker in 0..args.concurrency {
        let client = client.clone();
        // Workers spread over the nodes.
        let url = urls[worker % urls.len()].clone();
        let body = body.clone();
        let token = token.map(str::to_string);
        let (n, c) = (args.events, args.concurrency);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut sent = Vec::new();
            let mut i = worker;
            while i < n {
                let t0 = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body(i));
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                let resp = req.send().await?;
                let status = resp.status();
                let bytes = resp.bytes().await?;
                if !status.is_success() {
                    anyhow::bail!("HTTP {status}: {}", String::from_utf8_lossy(&bytes));
                }
                lat.push(t0.elapsed());
                if !bytes.is_empty() {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                        for inv in v["invocations"].as_array().into_iter().flatten() {
                            if let Some(id) = inv["id"].as_str() {
                                sent.push((id.to_string(), t0));
                            }
                        }
                    }
                }
                i += c;
            }
            Ok::<_, anyhow::Error>((lat, sent))
        }));
    }
    let mut latencies = Vec::with_capacity(args.events);
    let mut sent_at = HashMap::with_capacity(args.events * 2);
    for t in tasks {
        let (lat, sent) = t.await??;
        latencies.extend(lat);
        sent_at.extend(sent);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(LoadResult {
        elapsed,
        requests: args.events,
        latencies,
        sent_at,
    })
}
