//! End-to-end tests of the delivery engine: a real server delivers to a local [`Receiver`], and
//! the tests check what arrived (bodies, headers, signatures verified by independent code written
//! here from the specifications), how the engine retried, and what the native API reports.
//! Servers use short retry schedules, so the whole suite runs in seconds.

mod chain;
mod disable;
mod drain;
mod operator;
mod ordering;
mod payload_types;
mod policy;
mod publish;
pub mod receiver;
mod retention;
mod retries;
mod sailpoint;
mod search;
mod signatures;
mod zitadel;

use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

pub use receiver::{Receiver, Reply};

pub const SUBS: &str = "/trigger-subscriptions/v1";
pub const V3: &str = "/resources/v3alpha/actions";
/// Every wait in this suite is bounded by this.
pub const WAIT: Duration = Duration::from_secs(10);

/// A server with a short retry schedule (three retries: 100 ms, 200 ms, 300 ms).
pub async fn server() -> TestServer {
    server_with_schedule("100ms,200ms,300ms").await
}

pub async fn server_with_schedule(schedule: &str) -> TestServer {
    let schedule = schedule.to_string();
    TestServer::start_with(move |c| {
        c.retry_schedule = schedule;
        c.delivery.poll_interval = "200ms".into();
    })
    .await
}

/// An `idn:identity-created` payload that satisfies the trigger's schema.
pub fn identity(name: &str, department: &str) -> Value {
    json!({
        "identity": {"type": "IDENTITY", "id": format!("id-{name}"), "name": name},
        "attributes": {"department": department, "email": format!("{name}@example.com")},
    })
}

/// Creates an HTTP subscription to `idn:identity-created` delivering to `url`, with extra
/// fields merged into the body; returns the created subscription.
pub async fn subscribe(s: &TestServer, url: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": "delivery test",
        "triggerId": "idn:identity-created",
        "type": "HTTP",
        "httpConfig": {"url": url},
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (st, v) = s.post(SUBS, body).await;
    assert_eq!(st, 201, "{v}");
    v
}

/// Publishes an event; asserts 202 and returns the answer.
pub async fn publish(s: &TestServer, event_type: &str, payload: Value) -> Value {
    let (st, v) = s
        .post(
            "/v1/events",
            json!({"type": event_type, "payload": payload}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    v
}

/// The invocation ids of a publish answer, for one route.
pub fn invocation_for(published: &Value, route_id: &str) -> String {
    published["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["routeId"] == route_id)
        .unwrap_or_else(|| panic!("no invocation for {route_id} in {published}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// `GET /v1/invocations/{id}`.
pub async fn invocation(s: &TestServer, id: &str) -> Value {
    let (st, v) = s.get(&format!("/v1/invocations/{id}")).await;
    assert_eq!(st, 200, "{v}");
    v
}

/// Polls the invocation until its status is `status` (bounded by [`WAIT`]).
pub async fn wait_status(s: &TestServer, id: &str, status: &str) -> Value {
    wait_invocation(s, id, &format!("status {status}"), |v| {
        v["status"] == status
    })
    .await
}

/// Polls the invocation until `done` holds (bounded by [`WAIT`]); returns it.
pub async fn wait_invocation(
    s: &TestServer,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let v = invocation(s, id).await;
        if done(&v) {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("invocation {id}: timed out waiting for {what}; last seen {v}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Creates a v3alpha target; returns `(id, signingKey)`.
pub async fn target(s: &TestServer, name: &str, url: &str, kind: Value) -> (String, String) {
    let mut body = json!({"name": name, "endpoint": url, "timeout": "5s"});
    for (k, v) in kind.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = s.post(&format!("{V3}/targets"), body).await;
    assert_eq!(st, 201, "{v}");
    (
        v["details"]["id"].as_str().unwrap().to_string(),
        v["signingKey"].as_str().unwrap().to_string(),
    )
}

/// Sets the execution of ZITADEL event `event` to `targets`, in order.
pub async fn execution(s: &TestServer, event: &str, targets: &[&str]) {
    let targets: Vec<Value> = targets.iter().map(|t| json!({"target": t})).collect();
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("{V3}/executions"),
            Some(json!({"condition": {"event": {"event": event}}, "execution": {"targets": targets}})),
        )
        .await;
    assert!(st.is_success(), "{st} {v}");
}

/// The value of one sample line (`name{labels} value`) in a Prometheus text exposition.
pub fn metric(text: &str, sample: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(sample)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// `GET /metrics` as text.
pub async fn metrics_text(s: &TestServer) -> String {
    let resp = s
        .send_as(Some(&s.admin_token), Method::GET, "/metrics", None)
        .await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}
