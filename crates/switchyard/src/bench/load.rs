//! Load generation: the same POST (or a few variants of it, in turn), over and over, on C
//! keep-alive connections, for a duration or a number of requests. `wrk` drives it when available ([`super::wrk`]); the built-in generator
//! here is the fallback and the tool for count-bound runs (`--mode calls`).

use super::LoadTool;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to send and for how long.
pub struct Load<'a> {
    /// Connections are spread over these (one per node).
    pub urls: &'a [String],
    /// Bodies sent in turn (request `i` sends `bodies[i % len]`); `wrk` sends only one.
    pub bodies: Arc<Vec<Vec<u8>>>,
    pub token: Option<&'a str>,
    pub concurrency: usize,
    pub limit: Limit,
}

#[derive(Debug, Clone, Copy)]
pub enum Limit {
    For(Duration),
    Requests(usize),
}

/// What a load phase achieved.
pub struct LoadReport {
    pub tool: &'static str,
    pub elapsed: Duration,
    /// 2xx answers.
    pub ok: u64,
    pub failed: u64,
    pub p50: Duration,
    pub p99: Duration,
    /// The slowest answer (a stall shows here first).
    pub max: Duration,
}

impl LoadReport {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Whether `wrk` can be run.
pub fn wrk_installed() -> bool {
    std::process::Command::new("wrk")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

/// Runs `load` with the chosen tool.
pub async fn run(tool: LoadTool, load: &Load<'_>) -> anyhow::Result<LoadReport> {
    let use_wrk = match (tool, load.limit) {
        (_, Limit::Requests(_)) | (LoadTool::Builtin, _) => false,
        _ if load.bodies.len() > 1 => false,
        (LoadTool::Wrk, _) => true,
        (LoadTool::Auto, _) => wrk_installed(),
    };
    if use_wrk {
        super::wrk::run(load).await
    } else {
        builtin(load).await
    }
}

async fn builtin(load: &Load<'_>) -> anyhow::Result<LoadReport> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .tcp_nodelay(true)
        .build()?;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(load.concurrency);
    for worker in 0..load.concurrency {
        let client = client.clone();
        let url = load.urls[worker % load.urls.len()].clone();
        let bodies = load.bodies.clone();
        let token = load.token.map(str::to_string);
        let (limit, c) = (load.limit, load.concurrency);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut failed = 0u64;
            let mut i = worker;
            loop {
                match limit {
                    Limit::Requests(n) if i >= n => break,
                    Limit::For(d) if started.elapsed() >= d => break,
                    _ => {}
                }
                let t0 = Instant::now();
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(bodies[i % bodies.len()].clone());
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                let resp = req.send().await?;
                let ok = resp.status().is_success();
                resp.bytes().await?;
                if ok {
                    lat.push(t0.elapsed());
                } else {
                    failed += 1;
                }
                i += c;
            }
            Ok::<_, anyhow::Error>((lat, failed))
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for t in tasks {
        let (lat, f) = t.await??;
        latencies.extend(lat);
        failed += f;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    Ok(LoadReport {
        tool: "built-in",
        elapsed,
        ok: latencies.len() as u64,
        failed,
        p50: super::percentile(&latencies, 0.5),
        p99: super::percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
    })
}
