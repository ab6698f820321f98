//! `--mode events`: fan-out at full speed. The raw loopback rate first (generator → receiver),
//! then the same generator publishes to Switchyard for the same time while the receiver counts
//! the deliveries to `--fanout` subscriptions; the run waits until every accepted event has been
//! delivered to every subscription. With `--destination` the subscriptions deliver to a broker
//! instead, and the server's own count of acknowledged deliveries is read from `/metrics`.

use super::acknowledged::Acknowledged;
use super::load::{self, Limit, Load};
use super::{fmt, percentile, ratio, receiver, server, BenchArgs};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let duration = args.duration()?;
    let recv = receiver::Receiver::start(args.receiver_delay()?).await?;
    let bodies = Arc::new(super::sample_bodies(args.ordering_keys)?);

    // 1. The physical limit: the same generator straight at the receiver.
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

    // 2. Switchyard in between.
    let cluster = server::Cluster::new(args).await?;
    let mut servers = Vec::with_capacity(args.nodes);
    for node in 0..args.nodes {
        servers.push(cluster.start(node, false).await?);
    }
    let token = cluster.admin_token()?;
    let client = reqwest::Client::new();
    let broker = match &args.destination {
        Some(url) => Some(Acknowledged::new(url, &servers, &cluster)?),
        None => None,
    };
    let hooks = match &broker {
        Some(b) => vec![b.destination.clone(); args.fanout],
        None => recv.hooks(args.fanout),
    };
    servers[0]
        .subscribe(&client, &token, &hooks, args.policy())
        .await?;
    // One event first, so routes are cached and connections open as on a running server.
    let warm = client
        .post(servers[0].url("/v1/events"))
        .bearer_auth(&token)
        .json(&super::sample_event())
        .send()
        .await?;
    super::check(warm, "publishing the first event").await?;
    let warmed = match &broker {
        Some(b) => {
            b.wait_for(args.fanout, Duration::from_secs(30))
                .await?
                .count
        }
        None => {
            recv.wait_for(args.fanout, Duration::from_secs(30)).await;
            recv.reset();
            0
        }
    };

    let urls: Vec<String> = servers.iter().map(|s| s.url("/v1/events")).collect();
    let started = Instant::now();
    let published = load::run(
        args.load,
        &Load {
            urls: &urls,
            bodies,
            token: Some(&token),
            concurrency: args.concurrency,
            limit: args.publish_limit()?,
        },
    )
    .await?;
    let published_at = Instant::now();
    let expected = published.ok as usize * args.fanout;
    let (delivered, last) = match &broker {
        Some(b) => {
            let seen = b.wait_for(warmed + expected, args.drain_timeout()?).await?;
            (seen.count.saturating_sub(warmed), seen.at)
        }
        None => {
            recv.wait_for(expected, args.drain_timeout()?).await;
            let last = recv.last_arrival().unwrap_or_else(Instant::now);
            (recv.count(), last)
        }
    };
    let latencies = recv.latencies();
    for server in servers {
        server.stop().await;
    }

    let storage = match &args.database_url {
        Some(_) => format!("PostgreSQL, {} node(s)", args.nodes),
        None => "SQLite, 1 node".to_string(),
    };
    let raw_rate = raw.rate();
    let accepted = published.rate();
    let delivered_rate = delivered as f64 / last.duration_since(started).as_secs_f64();
    let destination = match &broker {
        Some(b) => format!("to {}", b.destination),
        None => format!("receiver delay {}", args.receiver_delay),
    };
    println!(
        "Switchyard benchmark: fan-out {}, ordering keys {}, {} connections, {} events in {} ({}), {destination}, {storage}",
        args.fanout,
        args.ordering_keys,
        args.concurrency,
        published.ok,
        fmt(published.elapsed),
        published.tool,
    );
    println!("| measure | value |\n|---|---|");
    println!("| raw loopback HTTP (generator → receiver) | {raw_rate:.0} req/s |");
    println!(
        "| accepted (POST /v1/events → 202) | {accepted:.0} events/s ({}) |",
        ratio(accepted, raw_rate)
    );
    println!(
        "| delivered | {delivered_rate:.0} deliveries/s ({}); {delivered} of {expected} |",
        ratio(delivered_rate, raw_rate)
    );
    println!(
        "| publish latency p50 / p99 | {} / {} |",
        fmt(published.p50),
        fmt(published.p99)
    );
    if broker.is_none() {
        println!(
            "| end-to-end latency p50 / p99 / max | {} / {} / {} |",
            fmt(percentile(&latencies, 0.5)),
            fmt(percentile(&latencies, 0.99)),
            fmt(latencies.last().copied().unwrap_or_default())
        );
    }
    println!(
        "| last delivery after the last publish | {} |",
        fmt(last.saturating_duration_since(published_at))
    );
    if broker.is_none() {
        println!(
            "| longest pause between deliveries | {} |",
            fmt(recv.longest_pause())
        );
    }
    println!("| publishes refused | {} |", published.failed);
    println!(
        "SUMMARY mode=events fanout={} ordering_keys={} raw={raw_rate:.0} accepted/s={accepted:.0} ({:.3}x) delivered/s={delivered_rate:.0} ({:.3}x) short={} longest_pause_s={:.2}",
        args.fanout,
        args.ordering_keys,
        accepted / raw_rate.max(1.0),
        delivered_rate / raw_rate.max(1.0),
        expected.saturating_sub(delivered),
        recv.longest_pause().as_secs_f64()
    );
    if delivered < expected {
        anyhow::bail!("only {delivered} of {expected} deliveries arrived");
    }
    cluster.finish().await?;
    Ok(())
}
