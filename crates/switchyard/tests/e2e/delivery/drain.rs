//! The durable path under pressure: a backlog larger than the worker pool drains at once instead
//! of at the claimer's fallback poll, a slow receiver keeps every worker busy, and a publish
//! whose client disconnects while it commits is still delivered promptly.

use super::*;
use std::time::Instant;
use tokio::io::AsyncWriteExt;

/// A server with few workers and a fallback poll far longer than any wait in these tests: work
/// that waited for the poll would time the test out.
async fn small_pool(workers: usize) -> TestServer {
    TestServer::start_with(move |c| {
        c.retry_schedule = "100ms".into();
        c.delivery.concurrency = workers;
        c.delivery.poll_interval = "120s".into();
    })
    .await
}

/// Publishes `n` events concurrently (8 at a time); returns every invocation id.
async fn publish_many(s: &TestServer, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(8) {
        let answers = futures_util::future::join_all(
            chunk
                .iter()
                .map(|i| publish(s, "idn:identity-created", identity(&format!("u{i}"), "Ops"))),
        )
        .await;
        for a in answers {
            ids.extend(
                a["invocations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].as_str().unwrap().to_string()),
            );
        }
    }
    ids
}

#[tokio::test]
async fn a_backlog_larger_than_the_pool_drains_without_waiting_for_the_poll() {
    let s = small_pool(4).await;
    let r = Receiver::start().await;
    r.set_delay(Duration::from_millis(20));
    subscribe(&s, &r.url("/backlog"), json!({})).await;
    let ids = publish_many(&s, 120).await;
    assert_eq!(ids.len(), 120);
    // 120 deliveries of 20 ms on 4 workers take about 0.6 s; waiting for the 120 s poll would
    // time out.
    r.wait_for_path("/backlog", 120, WAIT).await;
    for id in ids.iter().step_by(17) {
        wait_status(&s, id, "delivered").await;
    }
}

#[tokio::test]
async fn a_slow_receiver_keeps_every_worker_busy() {
    let workers = 8;
    let s = small_pool(workers).await;
    let r = Receiver::start().await;
    let delay = Duration::from_millis(100);
    r.set_delay(delay);
    subscribe(&s, &r.url("/slow"), json!({})).await;
    let started = Instant::now();
    publish_many(&s, 80).await;
    let got = r.wait_for_path("/slow", 80, WAIT).await;
    // Each request is in flight from its arrival until the receiver answers `delay` later; the
    // most at once is the pool's size (and never more).
    let mut edges: Vec<(Instant, i32)> = got
        .iter()
        .flat_map(|q| [(q.at, 1), (q.at + delay, -1)])
        .collect();
    edges.sort();
    let (mut now, mut most) = (0, 0);
    for (_, d) in edges {
        now += d;
        most = most.max(now);
    }
    assert_eq!(most, workers as i32, "concurrent requests at the receiver");
    // 80 requests of 100 ms on 8 workers: about one second of work.
    let took = got.last().unwrap().at.duration_since(started);
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[tokio::test]
async fn a_publish_whose_client_disconnects_while_it_commits_is_still_delivered_promptly() {
    use sqlx::Connection;
    let s = server().await;
    let r = Receiver::start().await;
    subscribe(&s, &r.url("/dropped"), json!({})).await;
    // Hold SQLite's write lock from outside, so every publish waits in its commit.
    let db = s.data_dir.join("switchyard.db");
    let mut blocker = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let addr = s.base.trim_start_matches("http://").to_string();
    let n = 32;
    let body = |i: usize| {
        json!({"type": "idn:identity-created", "id": format!("dropped-{i}"),
               "payload": identity(&format!("d{i}"), "Ops")})
    };
    // Each publish is sent on its own connection, which is reset while the publish waits for
    // the commit: the server drops the request's handler.
    let mut conns = Vec::new();
    for i in 0..n {
        let text = body(i).to_string();
        let request = format!(
            "POST /v1/events HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{text}",
            s.admin_token,
            text.len()
        );
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        conn.write_all(request.as_bytes()).await.unwrap();
        conns.push(conn);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    for conn in conns {
        // Linger 0: the close resets the connection, as a client that gives up does (and, with
        // zero, closing never blocks, which is what the deprecation warns of).
        #[allow(deprecated)]
        conn.set_linger(Some(Duration::ZERO)).unwrap();
        drop(conn);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut blocker)
        .await
        .unwrap();
    drop(blocker);
    // Publishing each id again answers with the first answer (the dropped publishes did commit);
    // every event must arrive well before a lease (330 s by default) could run out.
    let mut ids = Vec::new();
    for i in 0..n {
        let (st, v) = s.post("/v1/events", body(i)).await;
        assert_eq!(st, 202, "{v}");
        ids.push(v["invocations"][0]["id"].as_str().unwrap().to_string());
    }
    r.wait_until(WAIT, "every dropped publish delivered", |all| {
        ids.iter()
            .all(|id| all.iter().any(|q| q.header("webhook-id") == id))
    })
    .await;
}
