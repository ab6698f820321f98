//! Request-response hooks end to end: starting a REQUEST_RESPONSE trigger (native and SailPoint
//! shapes), SYNC / ASYNC / DYNAMIC subscribers answering a local receiver, the secret-guarded
//! completion callback, deadlines (also across a restart) and `wait`.

mod callbacks;
mod receiver;
mod sync;

use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;

pub const TRIGGER: &str = "acme:approve-order";

/// Fast retries and a short acknowledgement timeout keep the suite quick.
pub fn fast(c: &mut switchyard::config::Config) {
    c.retry_schedule = "100ms,200ms".into();
    c.delivery.subscription_timeout = "1s".into();
}

pub async fn server() -> TestServer {
    let s = TestServer::start_with(fast).await;
    trigger(&s).await;
    s
}

pub async fn server_in(dir: PathBuf) -> TestServer {
    TestServer::start_in(dir, fast).await
}

/// Registers the request-response trigger the tests use.
pub async fn trigger(s: &TestServer) {
    let (st, v) = s
        .post(
            "/v1/triggers",
            json!({
                "id": TRIGGER, "name": "Approve Order", "type": "REQUEST_RESPONSE",
                "inputSchema": "{\"type\":\"object\",\"required\":[\"orderId\"],\"properties\":{\"orderId\":{\"type\":\"string\"}}}",
                "exampleInput": {"orderId": "o-1"},
                "outputSchema": {"type": "object", "required": ["approved"],
                                 "properties": {"approved": {"type": "boolean"}}},
                "exampleOutput": {"approved": true},
            }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
}

/// Subscribes `url` to the trigger with a dispatch mode and response deadline.
pub async fn subscribe(s: &TestServer, url: &str, mode: &str, deadline: &str) -> String {
    let (st, v) = s
        .post(
            "/trigger-subscriptions/v1",
            json!({"name": "approver", "triggerId": TRIGGER, "type": "HTTP",
                   "responseDeadline": deadline,
                   "httpConfig": {"url": url, "httpDispatchMode": mode}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// `POST /v1/invocations`; returns status and body.
pub async fn start(s: &TestServer, wait: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"triggerId": TRIGGER, "input": {"orderId": "o-1"}});
    if let Some(w) = wait {
        body["wait"] = json!(w);
    }
    s.post("/v1/invocations", body).await
}

/// The single invocation of a start answer.
pub fn only(v: &Value) -> &Value {
    let list = v["invocations"].as_array().expect("invocations");
    assert_eq!(list.len(), 1, "{v}");
    &list[0]
}

/// Completes an invocation without a token, as a subscriber does.
pub async fn complete(s: &TestServer, id: &str, body: Value) -> (StatusCode, Value) {
    s.anon(
        Method::POST,
        &format!("/trigger-invocations/v1/{id}/complete"),
        Some(body),
    )
    .await
}

/// Polls `GET /v1/invocations/{id}` (bounded) until its status is `want`.
pub async fn until_status(s: &TestServer, id: &str, want: &str) -> Value {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (st, v) = s.get(&format!("/v1/invocations/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        if v["status"] == want {
            return v;
        }
        assert!(
            std::time::Instant::now() < until,
            "status stayed {} (want {want}): {v}",
            v["status"]
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
