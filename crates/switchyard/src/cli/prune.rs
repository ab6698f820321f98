//! `switchyard prune`: one retention pass, offline and without pauses (after a long outage, or
//! to shrink a database at once with shorter ages than the configured ones). It purges exactly
//! what the background purge would: attempt-log entries older than `retention.attempts`, and
//! events older than `retention.events` whose invocations have all ended, with their history.
//! The data directory lock keeps a server on this directory from running meanwhile; against a
//! PostgreSQL cluster it takes the retention lease like a node would, so it never races one.

use crate::Config;
use std::path::PathBuf;
use std::sync::Arc;
use switchyard_delivery::retention::{purge_pass, NoPause, RetentionMetrics};

#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Data directory (default: the configured one).
    #[arg(long, env = "SWITCHYARD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (default: the configured one; empty = SQLite in the data directory).
    #[arg(long, env = "SWITCHYARD_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Age of the attempt-log entries to purge (default: retention.attempts; "off" keeps them).
    #[arg(long)]
    pub attempts: Option<String>,
    /// Age of the events to purge (default: retention.events; "off" keeps them).
    #[arg(long)]
    pub events: Option<String>,
}

/// The lease name the background purge uses (see `switchyard_delivery::retention`).
const LEASE: &str = "retention";

pub async fn run(mut config: Config, args: PruneArgs) -> anyhow::Result<()> {
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let Some(u) = args.database_url {
        config.database_url = u;
    }
    if let Some(a) = args.attempts {
        config.retention.attempts = a;
    }
    if let Some(e) = args.events {
        config.retention.events = e;
    }
    config.validate()?;
    let policy = config.retention.policy()?;
    let data = crate::open_data_dir(&config)?;
    let _lock = data.lock()?;
    let store = crate::open_store(&config, &data).await?;
    let now = switchyard_core::Clock::now(&switchyard_core::SystemClock);
    let holder = format!("prune-{}", switchyard_core::ids::hex_id());
    let lease_until = now.plus(std::time::Duration::from_secs(3600));
    if !store.take_lease(LEASE, &holder, now, lease_until).await? {
        store.close().await;
        anyhow::bail!(
            "another node is purging right now (it holds the retention lease); try again later"
        );
    }
    let metrics = Arc::new(RetentionMetrics::default());
    let started = std::time::Instant::now();
    let result = purge_pass(store.as_ref(), &policy, now, &metrics, &mut NoPause).await;
    // Hand the lease back at once: a running node may purge again at its next pass.
    let _ = store.take_lease(LEASE, &holder, now, now).await;
    store.close().await;
    let purged = result?;
    let secs = started.elapsed().as_secs_f64();
    tracing::info!(rows = purged.total(), secs, "prune finished");
    println!(
        "{}",
        serde_json::json!({
            "events": purged.events,
            "invocations": purged.invocations,
            "attempts": purged.attempts,
            "calls": purged.calls,
            "callAttempts": purged.call_attempts,
            "seconds": (secs * 1000.0).round() / 1000.0,
        })
    );
    Ok(())
}
