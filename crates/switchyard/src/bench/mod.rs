//! `switchyard bench`: measures Switchyard against the physical limit of this machine, the raw
//! loopback HTTP rate, measured in the same run with the same load generator and receiver.
//!
//! Scenarios (`--mode`):
//! - `events`: publish for a while to `--fanout` subscriptions, count deliveries; reports accepted/s,
//!   delivered/s, publish and end-to-end latency percentiles and the longest pause in deliveries.
//! - `drain`: publish while delivery is paused (a backlog after an outage), then start a node that
//!   delivers and measure how fast the durable queue drains, and the node's memory meanwhile.
//! - `calls`: the latency Switchyard adds to a synchronous ZITADEL call chain (see [`calls`]).
//! - `purge`: publish latency while the retention purge deletes history, and the purge rate in
//!   rows/s, paced in the background and unpaced offline (see [`purge`]).
//!
//! The load generator is `wrk` when it is installed (it is much lighter than anything in-process,
//! so it is not the bottleneck), otherwise a built-in keep-alive generator. The receiver runs in
//! this process and takes end-to-end latency from the delivery's `webhook-id`: invocation ids are
//! UUIDv7, which carry the millisecond at which the event was accepted.

mod acknowledged;
mod calls;
mod drain;
mod events;
mod load;
mod purge;
mod receiver;
mod server;
mod wrk;

use anyhow::Context;
use serde_json::{json, Value};
use std::time::Duration;

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchMode {
    /// Fire-and-forget fan-out: publish events, count deliveries.
    Events,
    /// Backlog drain: accept events with delivery paused, then measure the drain.
    Drain,
    /// Request-response: `POST /v1/calls` with one restCall target vs calling it directly.
    Calls,
    /// Retention: publish latency while history is purged, and the purge rate.
    Purge,
}

/// Which load generator drives the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LoadTool {
    /// `wrk` when installed, else the built-in generator.
    Auto,
    Wrk,
    Builtin,
}

/// Benchmark parameters.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = BenchMode::Events)]
    pub mode: BenchMode,
    /// Subscriptions every event fans out to.
    #[arg(long, default_value_t = 1)]
    pub fanout: usize,
    /// How long each load phase runs.
    #[arg(long, default_value = "20s")]
    pub duration: String,
    /// Publish exactly this many events (built-in generator) instead of loading for
    /// `--duration`; in `--mode calls`, the number of calls (default 20000).
    #[arg(long)]
    pub events: Option<usize>,
    /// Concurrent producer connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// The load generator.
    #[arg(long, value_enum, default_value_t = LoadTool::Auto)]
    pub load: LoadTool,
    /// The receiver waits this long before answering each delivery (a slow endpoint).
    #[arg(long, default_value = "0s")]
    pub receiver_delay: String,
    /// Longest time to wait for all deliveries after the last publish.
    #[arg(long, default_value = "300s")]
    pub drain_timeout: String,
    /// Run the servers on this PostgreSQL database instead of SQLite (postgres://...).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Servers sharing the database (more than one needs --database-url); publishes are spread
    /// over them.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Deliver every subscription's messages to this broker URL (`nats://`, `redis://`,
    /// `mqtt://`, `amqp://`, ...) instead of the in-process HTTP receiver (`--mode events` and
    /// `drain`); deliveries are then counted from the servers' metrics, without end-to-end
    /// latency.
    #[arg(long)]
    pub destination: Option<String>,
    /// The switchyard binary to run as the server under test (default: this one), to compare
    /// two builds with one harness.
    #[arg(long)]
    pub server_bin: Option<std::path::PathBuf>,
    /// Deliver FIFO per key (`ordering` on `$.identity.id`) with events spread over this many
    /// identities in turn (the built-in generator then drives the load); 0: unordered.
    #[arg(long, default_value_t = 0)]
    pub ordering_keys: usize,
}

impl BenchArgs {
    fn duration(&self) -> anyhow::Result<Duration> {
        parse_duration("--duration", &self.duration)
    }

    /// How long, or how many publishes, a load phase of the events and drain modes runs.
    fn publish_limit(&self) -> anyhow::Result<load::Limit> {
        Ok(match self.events {
            Some(n) => load::Limit::Requests(n),
            None => load::Limit::For(self.duration()?),
        })
    }

    /// The policy every subscription gets.
    fn policy(&self) -> Option<Value> {
        (self.ordering_keys > 0).then(|| json!({"ordering": {"key": "$.identity.id"}}))
    }

    fn drain_timeout(&self) -> anyhow::Result<Duration> {
        parse_duration("--drain-timeout", &self.drain_timeout)
    }

    fn receiver_delay(&self) -> anyhow::Result<Duration> {
        parse_duration("--receiver-delay", &self.receiver_delay)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.nodes == 0 || (self.nodes > 1 && self.database_url.is_none()) {
            anyhow::bail!(
                "--nodes must be 1, or more with --database-url (nodes share one database)"
            );
        }
        if self.destination.is_some() && !matches!(self.mode, BenchMode::Events | BenchMode::Drain)
        {
            anyhow::bail!("--destination is for --mode events and drain");
        }
        if self.fanout == 0 || self.concurrency == 0 {
            anyhow::bail!("--fanout and --concurrency must be at least 1");
        }
        Ok(())
    }
}

fn parse_duration(flag: &str, v: &str) -> anyhow::Result<Duration> {
    switchyard_core::duration::parse_human(v).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// Runs the benchmark and prints the report.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    args.check()?;
    match args.mode {
        BenchMode::Events => events::run(&args).await,
        BenchMode::Drain => drain::run(&args).await,
        BenchMode::Calls => calls::run(&args).await,
        BenchMode::Purge => purge::run(&args).await,
    }
}

/// The bodies publishes carry in turn: the sample event, or with `keys` > 1 that many copies of
/// it with distinct identity ids (same size).
pub(crate) fn sample_bodies(keys: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    (0..keys.max(1))
        .map(|k| {
            let mut event = sample_event();
            if keys > 1 {
                event["payload"]["identity"]["id"] = json!(format!("{k:032x}"));
            }
            Ok(serde_json::to_vec(&event)?)
        })
        .collect()
}

/// The event every publish carries (the same ~320-byte identity as the wrk yardstick).
pub(crate) fn sample_event() -> Value {
    json!({
        "type": "idn:identity-created",
        "payload": {
            "identity": {"type": "IDENTITY", "id": "2c91808a7813090a017814121e121518", "name": "john.doe"},
            "attributes": {"firstname": "John", "lastname": "Doe", "email": "john.doe@example.com",
                           "department": "Sales", "displayName": "John Doe",
                           "created": "2020-04-27T16:48:33.597Z", "employeeNumber": "E009"}
        }
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

/// The sum of the samples of the labelled metric `name` whose labels contain `label` (every
/// sample when it is empty), from a `/metrics` text.
pub(crate) fn metric_total(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{'))
        })
        .filter(|l| l.contains(label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// `rate` as a multiple of the raw loopback rate.
fn ratio(rate: f64, raw: f64) -> String {
    format!("{:.3}× raw", rate / raw.max(1.0))
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
