//! `--mode drain`: the backlog after an outage. A node with delivery paused accepts events for
//! `--duration` (so the backlog is accepted × fan-out invocations in the durable queue); it stops
//! and `--nodes` delivering nodes start on the same storage. The drain rate is the deliveries
//! between the first and the last arrival over that time, set against the raw loopback rate of
//! the same generator; the delivering node's peak memory shows whether memory follows the backlog.
//! With `--destination` the subscriptions deliver to a broker and the delivering nodes' own
//! counts of acknowledged deliveries (`/metrics`) are read instead of the receiver's.

use super::acknowledged::Acknowledged;
use super::load::{self, Limit, Load};
use super::{fmt, ratio, receiver, server, BenchArgs};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let duration = args.duration()?;
    let recv = receiver::Receiver::start(args.receiver_delay()?).await?;
    let bodies = Arc::new(super::sample_bodies(args.ordering_keys)?);
    let raw = load::run(
        args.load,
        &Load {
            urls: &[recv.url("/raw")],
            bodies: bodies.clone(),
            token: None,
            concurrency: args.concurrency,
            limit: Limit::For(duration),
        },
    )
    .await?;

    // The outage: a paused node accepts and queues everything.
    let cluster = server::Cluster::new(args).await?;
    let paused = cluster.start(0, true).await?;
    let token = cluster.admin_token()?;
    let client = reqwest::Client::new();
    let hooks = match &args.destination {
        Some(url) => vec![url.clone(); args.fanout],
        None => recv.hooks(args.fanout),
    };
    paused
        .subscribe(&client, &token, &hooks, args.policy())
        .await?;
    let published = load::run(
        args.load,
        &Load {
            urls: &[paused.url("/v1/events")],
            bodies,
            token: Some(&token),
            concurrency: args.concurrency,
            limit: args.publish_limit()?,
        },
    )
    .await?;
    paused.stop().await;
    let backlog = published.ok as usize * args.fanout;

    // The recovery: delivering nodes drain the queue.
    let mut nodes = Vec::with_capacity(args.nodes);
    for node in 0..args.nodes {
        nodes.push(cluster.start(node, false).await?);
    }
    let pids: Vec<u32> = nodes.iter().filter_map(server::Server::pid).collect();
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = tokio::spawn(sample_rss(pids, peak.clone()));
    let (delivered, first, last) = match &args.destination {
        Some(url) => {
            let broker = Acknowledged::new(url, &nodes, &cluster)?;
            let seen = broker.wait_for(backlog, args.drain_timeout()?).await?;
            (seen.count, seen.first, Some(seen.at))
        }
        None => {
            recv.wait_for(backlog, args.drain_timeout()?).await;
            (recv.count(), recv.first_arrival(), recv.last_arrival())
        }
    };
    sampler.abort();
    for node in nodes {
        node.stop().await;
    }
    let span = match (first, last) {
        (Some(f), Some(l)) => l.duration_since(f),
        _ => Duration::ZERO,
    };
    let raw_rate = raw.rate();
    let drain_rate = delivered as f64 / span.as_secs_f64().max(1e-9);
    let rss_mib = peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0;
    println!(
        "Switchyard benchmark: backlog drain, fan-out {}, ordering keys {}, {} node(s), to {}, {}",
        args.fanout,
        args.ordering_keys,
        args.nodes,
        args.destination.as_deref().unwrap_or("the HTTP receiver"),
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!("| measure | value |\n|---|---|");
    println!(
        "| raw loopback HTTP (generator → receiver, {}) | {raw_rate:.0} req/s |",
        raw.tool
    );
    println!(
        "| accepted while paused | {} events/s ({}); backlog {backlog} deliveries |",
        published.rate() as u64,
        ratio(published.rate(), raw_rate)
    );
    println!(
        "| drained | {delivered} deliveries in {} = {drain_rate:.0}/s ({}) |",
        fmt(span),
        ratio(drain_rate, raw_rate)
    );
    if args.destination.is_none() {
        println!(
            "| longest pause between deliveries | {} |",
            fmt(recv.longest_pause())
        );
    }
    println!("| peak RSS of a delivering node | {rss_mib:.0} MiB |");
    println!(
        "SUMMARY mode=drain fanout={} ordering_keys={} raw={raw_rate:.0} backlog={backlog} drained/s={drain_rate:.0} ({:.3}x) short={} longest_pause_s={:.2} peak_rss_mib={rss_mib:.0}",
        args.fanout,
        args.ordering_keys,
        drain_rate / raw_rate.max(1.0),
        backlog.saturating_sub(delivered),
        recv.longest_pause().as_secs_f64()
    );
    if delivered < backlog {
        anyhow::bail!("only {delivered} of {backlog} deliveries arrived");
    }
    cluster.finish().await?;
    Ok(())
}

/// Keeps the highest resident set size (KiB) of `pids` in `peak`, sampled every 200 ms.
async fn sample_rss(pids: Vec<u32>, peak: Arc<std::sync::atomic::AtomicU64>) {
    loop {
        for pid in &pids {
            let kib = std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                });
            if let Some(kib) = kib {
                peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
