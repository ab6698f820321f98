//! The per-target circuit breaker: opens after N consecutive failures, skips (or fails fast
//! with interruptOnError) while open, lets one probe through after the cool-down, and shows in
//! the health endpoint and the metrics.

use super::*;
use crate::support::TestServer;
use serde_json::json;
use std::time::Duration;

const UPDATE: &str = "/zitadel.user.v2.UserService/UpdateUser";

async fn breaker_server() -> TestServer {
    TestServer::start_with(|c| {
        c.delivery.breaker_failures = 2;
        c.delivery.breaker_cooldown = "300ms".into();
    })
    .await
}

fn req(method: &str) -> Value {
    json!({"condition": {"request": {"method": method}}, "payload": {"n": 0}})
}

async fn health(s: &TestServer, id: &str) -> Value {
    let (st, v) = s.get(&format!("/v1/targets/{id}/health")).await;
    assert_eq!(st, 200, "{v}");
    v
}

async fn metrics(s: &TestServer) -> String {
    let resp = s
        .send_as(Some(&s.admin_token), Method::GET, "/metrics", None)
        .await;
    resp.text().await.unwrap()
}

#[tokio::test]
async fn a_failing_target_is_skipped_while_open_and_probed_after_the_cooldown() {
    let s = breaker_server().await;
    let r = Receiver::start().await;
    let (flaky, _) = target(&s, "flaky", &r.url("/flaky"), webhook_kind(false), "5s").await;
    let (ok, _) = target(&s, "ok", &r.url("/ok"), call_kind(true), "5s").await;
    r.set("/flaky", Answer::empty(500));
    r.set("/ok", Answer::json(200, json!({"ok": true})));
    execution(
        &s,
        json!({"request": {"method": ADD_HUMAN}}),
        &[&flaky, &ok],
    )
    .await;

    assert_eq!(health(&s, &flaky).await["state"], "closed");
    for _ in 0..2 {
        let (st, body, _) = call(&s, req(ADD_HUMAN)).await;
        assert_eq!(st, 200, "{body}");
    }
    assert_eq!(r.count("/flaky"), 2);
    let h = health(&s, &flaky).await;
    assert_eq!(h["targetId"], flaky.as_str());
    assert_eq!(h["state"], "open");
    assert_eq!(h["consecutiveFailures"], 2);
    assert!(h["openedAt"].is_string() && h["retryAt"].is_string(), "{h}");
    let m = metrics(&s).await;
    assert!(
        m.contains(&format!(
            "switchyard_target_circuit_open{{target=\"{flaky}\"}} 1"
        )),
        "{m}"
    );
    assert!(m.contains("switchyard_target_circuits_open 1"), "{m}");

    // Open: the target is skipped, the chain goes on, the record says so.
    let (st, body, id) = call(&s, req(ADD_HUMAN)).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], json!({"ok": true}));
    assert_eq!(r.count("/flaky"), 2);
    let rec = record(&s, &id, 2).await;
    assert_eq!(rec["attempts"][0]["outcome"], "skipped");
    assert!(rec["attempts"][0]["error"]
        .as_str()
        .unwrap()
        .contains("circuit open"));

    // After the cool-down one probe goes through; it succeeds and closes the circuit.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(health(&s, &flaky).await["state"], "half_open");
    r.set("/flaky", Answer::empty(204));
    let (st, _, _) = call(&s, req(ADD_HUMAN)).await;
    assert_eq!(st, 200);
    assert_eq!(r.count("/flaky"), 3);
    let h = health(&s, &flaky).await;
    assert_eq!(h["state"], "closed");
    assert_eq!(h["consecutiveFailures"], 0);
    assert!(h.get("retryAt").is_none());
    assert!(metrics(&s)
        .await
        .contains("switchyard_target_circuits_open 0"));
    let (st, _, _) = call(&s, req(ADD_HUMAN)).await;
    assert_eq!(st, 200);
    assert_eq!(r.count("/flaky"), 4);

    // Health of an unknown target is a 404.
    let (st, _) = s.get("/v1/targets/123/health").await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn an_interrupting_target_fails_fast_while_open_and_a_failed_probe_reopens() {
    let s = breaker_server().await;
    let r = Receiver::start().await;
    let (gate, _) = target(&s, "gate", &r.url("/gate"), call_kind(true), "5s").await;
    r.set("/gate", Answer::empty(500));
    execution(&s, json!({"request": {"method": UPDATE}}), &[&gate]).await;

    for _ in 0..2 {
        let (st, body, _) = call(&s, req(UPDATE)).await;
        assert_eq!(st, 502, "{body}");
    }
    let (st, body, _) = call(&s, req(UPDATE)).await;
    assert_eq!(st, 503, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("circuit open for target 'gate'"), "{msg}");
    assert_eq!(r.count("/gate"), 2);

    // The probe after the cool-down fails: open again for another cool-down.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let (st, _, _) = call(&s, req(UPDATE)).await;
    assert_eq!(st, 502);
    assert_eq!(r.count("/gate"), 3);
    let h = health(&s, &gate).await;
    assert_eq!(h["state"], "open");
    assert_eq!(h["consecutiveFailures"], 3);
    let (st, _, _) = call(&s, req(UPDATE)).await;
    assert_eq!(st, 503);
    assert_eq!(r.count("/gate"), 3);
}
