//! `switchyard bench --mode calls`: the latency Switchyard adds to a synchronous call chain.
//! One restCall target on the local receiver, an execution on a request condition; the same
//! generator at the same concurrency first calls the receiver directly, then `POST /v1/calls`
//! through Switchyard. The difference of the percentiles is the added latency (signing, chain
//! resolution from cache, the extra loopback hop, recording handed off asynchronously).

use super::load::{self, Limit, Load};
use super::{fmt, receiver, server, BenchArgs};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const METHOD: &str = "/zitadel.user.v2.UserService/AddHumanUser";

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let recv = receiver::Receiver::start(Duration::ZERO).await?;
    let request = json!({"username": "john.doe", "profile": {"givenName": "John", "familyName": "Doe"},
                         "email": {"email": "john.doe@example.com"}});
    // What the target receives from Switchyard, so both runs move the same bytes to it.
    let direct_body = serde_json::to_vec(&json!({
        "fullMethod": METHOD, "instanceID": "default", "orgID": "", "projectID": "", "userID": "",
        "request": request, "headers": {}
    }))?;
    let calls = args.events.unwrap_or(20_000);
    let load = |urls, body, token, n| Load {
        urls,
        bodies: Arc::new(vec![body]),
        token,
        concurrency: args.concurrency,
        limit: Limit::Requests(n),
    };
    let direct_url = [recv.url("/call")];
    let direct = load::run(args.load, &load(&direct_url, direct_body, None, calls)).await?;

    let cluster = server::Cluster::new(args).await?;
    let server = cluster.start(0, false).await?;
    let token = cluster.admin_token()?;
    let client = reqwest::Client::new();
    server
        .setup_call_route(&client, &token, &recv.url("/call"), METHOD)
        .await?;
    let call_body = serde_json::to_vec(
        &json!({"condition": {"request": {"method": METHOD}}, "payload": request}),
    )?;
    let via_url = [server.url("/v1/calls")];
    // Warm the chain cache and the connection pool, as a running server would be.
    load::run(
        args.load,
        &load(
            &via_url,
            call_body.clone(),
            Some(&token),
            args.concurrency.max(64),
        ),
    )
    .await?;
    let via = load::run(args.load, &load(&via_url, call_body, Some(&token), calls)).await?;
    server.stop().await;

    let added = |a: Duration, b: Duration| {
        if b >= a {
            fmt(b - a)
        } else {
            format!("-{}", fmt(a - b))
        }
    };
    println!(
        "Switchyard call benchmark: {} calls, concurrency {}, one restCall target (request condition)",
        calls, args.concurrency
    );
    println!("| measure | direct to target | POST /v1/calls | added |\n|---|---|---|---|");
    println!(
        "| p50 latency | {} | {} | {} |",
        fmt(direct.p50),
        fmt(via.p50),
        added(direct.p50, via.p50)
    );
    println!(
        "| p99 latency | {} | {} | {} |",
        fmt(direct.p99),
        fmt(via.p99),
        added(direct.p99, via.p99)
    );
    println!(
        "| throughput | {:.0} req/s | {:.0} calls/s | |",
        direct.rate(),
        via.rate()
    );
    cluster.finish().await?;
    Ok(())
}
