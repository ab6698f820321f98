//! `--mode purge`: what retention costs. (1) A node that keeps everything takes a publish load
//! (the baseline) and delivers it: that is the history to purge. (2) A node whose retention
//! makes all of it due (`events = 1s`) starts on the same storage and takes the same load while
//! its background purge works through the history in paced batches: publish latency (p99 and
//! the slowest publish, where a stalled writer would show) against the baseline, and the rate
//! at which the paced purge deleted the history. (3) `switchyard prune` purges what the second
//! load left, offline and unpaced: the raw purge rate.

use super::load::{self, Load};
use super::{fmt, receiver, server, BenchArgs, LoadTool};
use anyhow::Context;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Retention that keeps everything (the baseline node).
const KEEP: [(&str, &str); 2] = [
    ("SWITCHYARD_RETENTION__EVENTS", "off"),
    ("SWITCHYARD_RETENTION__ATTEMPTS", "off"),
];

/// Retention that makes every event older than a second due, checked every 100 ms. Attempts go
/// with their events, so every row purged is counted in one pass.
const PURGE: [(&str, &str); 3] = [
    ("SWITCHYARD_RETENTION__EVENTS", "1s"),
    ("SWITCHYARD_RETENTION__ATTEMPTS", "off"),
    ("SWITCHYARD_RETENTION__INTERVAL", "100ms"),
];

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let recv = receiver::Receiver::start(args.receiver_delay()?).await?;
    let bodies = Arc::new(vec![serde_json::to_vec(&super::sample_event())?]);
    let cluster = server::Cluster::new(args).await?;
    let token = cluster.admin_token()?;
    let scrape = cluster.token("metrics:read")?;
    let client = reqwest::Client::new();
    // The built-in generator: it reports the slowest publish exactly.
    let tool = match args.load {
        LoadTool::Auto => LoadTool::Builtin,
        other => other,
    };
    let publish = |url: String| {
        let bodies = bodies.clone();
        let token = token.clone();
        async move {
            load::run(
                tool,
                &Load {
                    urls: &[url],
                    bodies,
                    token: Some(&token),
                    concurrency: args.concurrency,
                    limit: args.publish_limit()?,
                },
            )
            .await
        }
    };

    // 1. The history, and the baseline.
    let node = cluster.start_with(0, false, &KEEP).await?;
    node.subscribe(&client, &token, &recv.hooks(args.fanout), None)
        .await?;
    let baseline = publish(node.url("/v1/events")).await?;
    let invocations = baseline.ok as usize * args.fanout;
    recv.wait_for(invocations, args.drain_timeout()?).await;
    node.stop().await;
    // Events, invocations and one attempt each.
    let history = baseline.ok + 2 * invocations as u64;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // 2. The same load while the history is purged.
    let started = Instant::now();
    let node = cluster.start_with(0, false, &PURGE).await?;
    let metrics_url = node.url("/metrics");
    let watcher = {
        let client = client.clone();
        let scrape = scrape.clone();
        let timeout = args.drain_timeout()?;
        tokio::spawn(async move {
            // When the purged rows first reach the history (oldest first, so it is the history).
            loop {
                let text = client
                    .get(&metrics_url)
                    .bearer_auth(&scrape)
                    .send()
                    .await?
                    .text()
                    .await?;
                if purged_rows(&text) >= history {
                    return Ok::<_, anyhow::Error>(Some(started.elapsed()));
                }
                if started.elapsed() > timeout {
                    return Ok(None);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let under = publish(node.url("/v1/events")).await?;
    let paced = watcher.await??;
    recv.wait_for(
        invocations + under.ok as usize * args.fanout,
        args.drain_timeout()?,
    )
    .await;
    // The watcher's scrapes may have used up the token's rate limit for a moment.
    let mut batches = String::new();
    for _ in 0..50 {
        let r = client
            .get(node.url("/metrics"))
            .bearer_auth(&scrape)
            .send()
            .await?;
        if r.status().is_success() {
            batches = r.text().await?;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    node.stop().await;

    // 3. Offline: `switchyard prune` on what the second load left.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = cluster
        .command(0)
        .args(["prune", "--events", "1s", "--attempts", "off"])
        .output()
        .await
        .context("running switchyard prune")?;
    if !out.status.success() {
        anyhow::bail!("prune failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let report: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .context("prune's report")?;
    let offline_rows: u64 = ["events", "invocations", "attempts"]
        .iter()
        .filter_map(|k| report[k].as_u64())
        .sum();
    let offline_secs = report["seconds"].as_f64().unwrap_or(0.0);

    println!(
        "Switchyard benchmark: retention purge, fan-out {}, {}",
        args.fanout,
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    println!();
    println!("| | baseline (nothing to purge) | while purging |");
    println!("|---|---|---|");
    println!(
        "| published/s | {:.0} | {:.0} |",
        baseline.rate(),
        under.rate()
    );
    println!(
        "| publish latency p50 / p99 | {} / {} | {} / {} |",
        fmt(baseline.p50),
        fmt(baseline.p99),
        fmt(under.p50),
        fmt(under.p99)
    );
    println!(
        "| slowest publish | {} | {} |",
        fmt(baseline.max),
        fmt(under.max)
    );
    println!();
    match paced {
        Some(t) => println!(
            "background purge (batches sized to 20 ms, a rest at least as long after each, under load): {history} rows in {:.2} s = {:.0} rows/s",
            t.as_secs_f64(),
            history as f64 / t.as_secs_f64().max(1e-9)
        ),
        None => println!("background purge: the history was not purged within the drain timeout"),
    }
    let value = |name: &str| {
        batches
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let count = value("switchyard_purge_batch_seconds_count");
    println!(
        "purge batches: {count:.0}, {:.1} ms on average, the longest {:.1} ms (the writer is held this long)",
        value("switchyard_purge_batch_seconds_sum") * 1e3 / count.max(1.0),
        value("switchyard_purge_batch_longest_seconds") * 1e3
    );
    println!(
        "offline `switchyard prune` (unpaced): {offline_rows} rows in {offline_secs:.2} s = {:.0} rows/s",
        offline_rows as f64 / offline_secs.max(1e-9)
    );
    cluster.finish().await?;
    Ok(())
}

/// Every row the purge deleted so far, from a `/metrics` text.
fn purged_rows(text: &str) -> u64 {
    super::metric_total(text, "switchyard_purged_rows_total", "") as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn purged_rows_sum_every_table() {
        let text = "# HELP x\nswitchyard_purged_rows_total{table=\"events\"} 3\nswitchyard_purged_rows_total{table=\"attempts\"} 4\nswitchyard_expunged_events_total 9\n";
        assert_eq!(super::purged_rows(text), 7);
    }
}
