//! Retention: `POST /v1/events/{id}/expunge` erases one event's data at once (payload, response
//! excerpts) and keeps its shape (ids, times, statuses), refuses while the event is live and
//! blocks replays afterwards; the background purge removes ended history older than the
//! configured age while a publishing load runs, never an event whose invocation is still
//! retrying, and never anything accepted before it was delivered. Write-stall figures come from
//! `switchyard bench --mode purge`; these tests check correctness.

use super::*;
use crate::support::TestServer;
use std::sync::Arc;

async fn publish_with_id(s: &TestServer, id: &str, payload: Value) -> Value {
    let (st, v) = s
        .post(
            "/v1/events",
            json!({"type": "idn:identity-created", "payload": payload, "id": id}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    v
}

#[tokio::test]
async fn expunge_erases_an_events_data_and_keeps_its_history() {
    let s = server_with_schedule("5s").await;
    let r = Receiver::start().await;
    r.default_for(
        "/ok",
        Reply::status(200).body("{\"greeting\":\"hello Ada\"}"),
    );
    r.default_for("/down", 503);
    let ok = subscribe(&s, &r.url("/ok"), json!({})).await;
    let ok_id = ok["id"].as_str().unwrap();
    let published = publish_with_id(&s, "erase-me", identity("ada", "Ops")).await;
    let inv = invocation_for(&published, ok_id);
    let before = wait_status(&s, &inv, "delivered").await;
    assert_eq!(
        before["attempts"][0]["responseExcerpt"],
        "{\"greeting\":\"hello Ada\"}"
    );

    // A producer token may publish but not erase.
    let producer = s.token("events:publish");
    let (st, v) = s
        .call_as(
            Some(&producer),
            Method::POST,
            "/v1/events/erase-me/expunge",
            None,
        )
        .await;
    assert_eq!(st, 403, "{v}");

    let (st, v) = s
        .call(Method::POST, "/v1/events/erase-me/expunge", None)
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["eventId"], "erase-me");
    assert_eq!(
        (v["invocations"].as_u64(), v["attempts"].as_u64()),
        (Some(1), Some(1))
    );
    let first_at = v["expungedAt"].clone();
    assert!(first_at.is_string(), "{v}");

    let (st, event) = s.get("/v1/events/erase-me").await;
    assert_eq!(st, 200, "{event}");
    assert_eq!(event["payload"], json!({}), "{event}");
    assert_eq!(event["expungedAt"], first_at);
    assert!(!event.to_string().contains("ada@example.com"), "{event}");

    let after = invocation(&s, &inv).await;
    assert_eq!(after["status"], "delivered");
    assert_eq!(after["createdAt"], before["createdAt"]);
    assert_eq!(after["completedAt"], before["completedAt"]);
    assert_eq!(after["attemptCount"], 1);
    let attempt = &after["attempts"][0];
    assert_eq!(attempt["responseExcerpt"], Value::Null);
    assert_eq!(attempt["status"], 200, "the status stays");
    assert_eq!(attempt["at"], before["attempts"][0]["at"]);

    // Nothing is left to deliver.
    let (st, v) = s
        .call(Method::POST, &format!("/v1/invocations/{inv}/replay"), None)
        .await;
    assert!(st.is_client_error(), "{st} {v}");
    assert!(v.to_string().contains("expunged"), "{v}");

    // Again: the same answer, the first time.
    let (st, v) = s
        .call(Method::POST, "/v1/events/erase-me/expunge", None)
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["expungedAt"], first_at);

    let (st, v) = s
        .call(Method::POST, "/v1/events/no-such-event/expunge", None)
        .await;
    assert_eq!(st, 404, "{v}");

    // A live event (retrying in 5 s) is refused and keeps its data.
    let down = subscribe(&s, &r.url("/down"), json!({"name": "down"})).await;
    let down_id = down["id"].as_str().unwrap();
    let published = publish_with_id(&s, "still-live", identity("bob", "Ops")).await;
    let live = invocation_for(&published, down_id);
    wait_invocation(&s, &live, "a failed first attempt", |v| {
        v["attemptCount"] == 1
    })
    .await;
    let (st, v) = s
        .call(Method::POST, "/v1/events/still-live/expunge", None)
        .await;
    assert_eq!(st, 409, "{v}");
    assert!(v.to_string().contains("live"), "{v}");

    let text = metrics_text(&s).await;
    assert_eq!(metric(&text, "switchyard_expunged_events_total"), Some(1.0));
}

/// Publishes `n` events through `workers` concurrent producers; returns the slowest publish.
async fn load(s: Arc<TestServer>, n: usize, workers: usize) -> Duration {
    let mut tasks = Vec::new();
    for w in 0..workers {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut slowest = Duration::ZERO;
            for k in (w..n).step_by(workers) {
                let started = std::time::Instant::now();
                publish(
                    &s,
                    "idn:identity-created",
                    identity(&format!("u{k}"), "Load"),
                )
                .await;
                slowest = slowest.max(started.elapsed());
                // Spread the load over the purge passes.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            slowest
        }));
    }
    let mut slowest = Duration::ZERO;
    for t in tasks {
        slowest = slowest.max(t.await.unwrap());
    }
    slowest
}

#[tokio::test]
async fn the_purge_removes_ended_history_while_a_load_runs_and_spares_live_events() {
    let s = Arc::new(
        TestServer::start_with(|c| {
            c.retry_schedule = "30s".into();
            c.delivery.poll_interval = "200ms".into();
            c.retention.events = "1s".into();
            c.retention.attempts = "1s".into();
            c.retention.interval = "200ms".into();
            c.retention.batch = 25;
            c.retention.pause = "2ms".into();
        })
        .await,
    );
    let r = Receiver::start().await;
    r.default_for("/ok", 200);
    r.default_for("/down", 503);
    subscribe(&s, &r.url("/ok"), json!({})).await;
    // A ZITADEL event delivered to a failing target: retrying (for 30 s), so it must stay.
    let (target_id, _) = target(
        &s,
        "down",
        &r.url("/down"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&target_id]).await;
    let live = publish(&s, "user.human.added", json!({"userId": "u-live"})).await;
    let live_inv = invocation_for(&live, &target_id);
    let old = publish(&s, "idn:identity-created", identity("early", "Ops")).await;
    let old_inv = old["invocations"][0]["id"].as_str().unwrap().to_string();
    wait_status(&s, &old_inv, "delivered").await;

    const N: usize = 400;
    let slowest = load(s.clone(), N, 4).await;
    eprintln!("slowest publish during the purge: {slowest:?}");
    // Everything accepted was delivered: the purge took nothing before its time.
    r.wait_for_path("/ok", N + 1, WAIT).await;

    // Every delivered event goes once it is older than a second.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = metrics_text(&s).await;
        let purged = metric(&text, "switchyard_purged_rows_total{table=\"events\"}").unwrap();
        if purged >= (N + 1) as f64 {
            assert_eq!(purged, (N + 1) as f64, "only the ended events");
            assert!(
                metric(&text, "switchyard_purged_rows_total{table=\"invocations\"}").unwrap()
                    >= (N + 1) as f64
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "purged {purged} of {} events",
            N + 1
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (st, _) = s.get(&format!("/v1/invocations/{old_inv}")).await;
    assert_eq!(st, 404, "the early event was purged");
    let v = invocation(&s, &live_inv).await;
    assert_eq!(v["status"], "pending", "the retrying invocation stays: {v}");
    assert_eq!(r.on("/down").len(), 1);
}

/// A server that held the retention lease hands it back when it stops, so `switchyard prune`
/// may run on its data directory at once (not only after the lease's 30 s).
#[tokio::test]
async fn a_stopped_server_hands_the_retention_lease_back() {
    let s = TestServer::start_with(|c| {
        c.retention.events = "1s".into();
        c.retention.interval = "100ms".into();
    })
    .await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while metric(&metrics_text(&s).await, "switchyard_retention_passes_total") < Some(1.0) {
        assert!(tokio::time::Instant::now() < deadline, "no purge pass ran");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = s.stop().await.expect("the data directory");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["prune", "--data-dir"])
        .arg(&dir.0)
        .args(["--events", "1s"])
        .env_remove("SWITCHYARD_DATABASE_URL")
        .output()
        .expect("switchyard prune runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert!(report["events"].is_u64(), "{report}");
}
