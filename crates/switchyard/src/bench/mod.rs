//! `switchyard bench`: measures Switchyard against the physical limit of this machine. It starts
//! a fast local receiver and a fresh server (child process, own data dir), subscribes the
//! receiver to a trigger and binds it as a target of an execution for all events, publishes N
//! events at concurrency C, and reports accepted/s, delivered/s and end-to-end latency. As the
//! baseline, the same load generator hits the receiver directly (raw loopback HTTP rate).
//! `--mode calls` measures request-response instead: the latency Switchyard adds to a
//! synchronous ZITADEL call chain (see [`calls`]).

mod calls;
mod load;
mod receiver;
mod server;

use anyhow::Context;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchMode {
    /// Fire-and-forget fan-out: publish events, count deliveries.
    Events,
    /// Request-response: `POST /v1/calls` with one restCall target vs calling it directly.
    Calls,
}

/// Benchmark parameters.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = BenchMode::Events)]
    pub mode: BenchMode,
    /// Events to publish (calls to make in `--mode calls`).
    #[arg(long, default_value_t = 20_000)]
    pub events: usize,
    /// Concurrent producer connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Longest time to wait for all deliveries after the last publish.
    #[arg(long, default_value = "120s")]
    pub drain_timeout: String,
    /// Run the servers on this PostgreSQL database instead of SQLite (postgres://...).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Servers sharing the database (more than one needs --database-url); publishes are spread
    /// over them.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
}

/// Runs the benchmark and prints the report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.mode == BenchMode::Calls {
        return calls::run(&args).await;
    }
    let drain =
        switchyard_core::duration::parse_human(&args.drain_timeout).map_err(anyhow::Error::msg)?;
    let recv = receiver::Receiver::start().await?;
    let body = serde_json::to_vec(&sample_event())?;

    // 1. The physical limit: the same generator straight at the receiver.
    let raw = load::run(&[recv.url("/raw")], &args, move |_| body.clone(), None).await?;
    recv.reset();

    // 2. Switchyard in between.
    if args.nodes == 0 || (args.nodes > 1 && args.database_url.is_none()) {
        anyhow::bail!("--nodes must be 1, or more with --database-url (nodes share one database)");
    }
    let cluster = server::Cluster::new(args.database_url.clone())?;
    let mut servers = Vec::with_capacity(args.nodes);
    for node in 0..args.nodes {
        servers.push(cluster.start(node).await?);
    }
    let token = cluster.admin_token()?;
    let client = reqwest::Client::new();
    servers[0]
        .setup_routes(&client, &token, &recv.url("/hook"))
        .await?;
    let urls: Vec<String> = servers.iter().map(|s| s.url("/v1/events")).collect();
    // Ids unique per run, so a reused PostgreSQL database sees no duplicates.
    let run_id = format!("{}-{}", std::process::id(), switchyard_core::ids::hex_id());
    let per_event = 2; // one subscription + one execution target
    let started = Instant::now();
    let published = load::run(
        &urls,
        &args,
        move |i| {
            serde_json::to_vec(&json!({"type": "idn:identity-created", "id": format!("bench-{run_id}-{i}"), "payload": sample_event()}))
                .unwrap_or_default()
        },
        Some(&token),
    )
    .await?;
    let expected = args.events * per_event;
    recv.wait_for(expected, drain).await;
    let delivered_at = recv.last_arrival().unwrap_or_else(Instant::now);
    let latencies = recv.latencies(&published.sent_at);
    let delivered = recv.count();
    for server in servers {
        server.stop().await;
    }

    let e2e = delivered_at.duration_since(started).as_secs_f64();
    let storage = match &args.database_url {
        Some(_) => format!("PostgreSQL, {} node(s)", args.nodes),
        None => "SQLite, 1 node".to_string(),
    };
    println!("Switchyard benchmark: {} events, concurrency {}, fan-out {per_event} (1 subscription + 1 execution target), {storage}", args.events, args.concurrency);
    println!("| measure | value |\n|---|---|");
    println!(
        "| raw loopback HTTP (generator → receiver) | {:.0} req/s |",
        raw.rate()
    );
    println!(
        "| accepted (POST /v1/events → 202) | {:.0} events/s |",
        published.rate()
    );
    println!(
        "| delivered | {:.0} deliveries/s ({delivered} of {expected}) |",
        delivered as f64 / e2e
    );
    println!(
        "| publish latency p50 / p99 | {} / {} |",
        fmt(published.p(0.5)),
        fmt(published.p(0.99))
    );
    println!(
        "| end-to-end latency p50 / p99 / max | {} / {} / {} |",
        fmt(percentile(&latencies, 0.5)),
        fmt(percentile(&latencies, 0.99)),
        fmt(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "| accepted / raw | {:.0} % |",
        100.0 * published.rate() / raw.rate().max(1.0)
    );
    if delivered < expected {
        anyhow::bail!("only {delivered} of {expected} deliveries arrived within {drain:?}");
    }
    Ok(())
}

fn sample_event() -> Value {
    json!({
        "identity": {"type": "IDENTITY", "id": "2c9180835d191a86015d28455b4b232a", "name": "john.doe"},
        "attributes": {"firstname": "John", "lastname": "Doe", "email": "john.doe@example.com", "department": "Sales"}
    })
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn fmt(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// Fails with the answer's text unless it is a success; parses its JSON.
pub(crate) async fn check(resp: reqwest::Response, what: &str) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp.text().await.context(what.to_string())?;
    if !status.is_success() {
        anyhow::bail!("{what}: HTTP {status}: {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}
