//! Failure rules of a chain: forwarded errors, interruptOnError stopping or not, timeouts,
//! restAsync not being awaited, and bad requests.

use super::*;
use crate::support::TestServer;
use serde_json::json;
use std::time::{Duration, Instant};

fn req(method: &str, payload: Value) -> Value {
    json!({"condition": {"request": {"method": method}}, "payload": payload})
}

const UPDATE: &str = "/zitadel.user.v2.UserService/UpdateUser";
const DELETE: &str = "/zitadel.user.v2.UserService/DeleteUser";

#[tokio::test]
async fn forwarded_errors_and_interrupt_on_error() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (deny, _) = target(&s, "deny", &r.url("/deny"), webhook_kind(true), "5s").await;
    let (broken, _) = target(&s, "broken", &r.url("/broken"), webhook_kind(false), "5s").await;
    let (strict, _) = target(&s, "strict", &r.url("/strict"), call_kind(true), "5s").await;
    let (next, _) = target(&s, "next", &r.url("/next"), call_kind(true), "5s").await;
    r.set(
        "/deny",
        Answer::json(
            200,
            json!({"forwardedStatusCode": 403, "forwardedErrorMessage": "users from this domain are not allowed"}),
        ),
    );
    r.set("/broken", Answer::empty(500));
    r.set("/strict", Answer::json(503, json!({"down": true})));
    r.set("/next", Answer::json(200, json!({"done": true})));
    execution(
        &s,
        json!({"request": {"method": ADD_HUMAN}}),
        &[&deny, &next],
    )
    .await;
    execution(
        &s,
        json!({"request": {"method": UPDATE}}),
        &[&broken, &next],
    )
    .await;
    execution(
        &s,
        json!({"request": {"method": DELETE}}),
        &[&strict, &next],
    )
    .await;

    // A forwarded error goes back with its status and message; the chain stops.
    let (st, body, id) = call(&s, req(ADD_HUMAN, json!({}))).await;
    assert_eq!(st, 403, "{body}");
    assert_eq!(body["code"], "permission_denied");
    assert_eq!(body["message"], "users from this domain are not allowed");
    assert_eq!(r.count("/next"), 0);
    let rec = record(&s, &id, 1).await;
    assert_eq!(rec["status"], 403);
    assert_eq!(rec["attempts"][0]["outcome"], "failed");

    // Without interruptOnError a failure is recorded and the chain goes on.
    let (st, body, id) = call(&s, req(UPDATE, json!({"a": 1}))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], json!({"done": true}));
    assert_eq!(r.count("/next"), 1);
    let rec = record(&s, &id, 2).await;
    assert_eq!(rec["attempts"][0]["outcome"], "failed");
    assert_eq!(rec["attempts"][0]["status"], 500);
    assert_eq!(rec["attempts"][1]["outcome"], "succeeded");

    // With interruptOnError the chain stops and the caller learns which target failed.
    let (st, body, _) = call(&s, req(DELETE, json!({}))).await;
    assert_eq!(st, 502, "{body}");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("'strict'") && msg.contains(&strict) && msg.contains("503"),
        "{msg}"
    );
    assert_eq!(r.count("/next"), 1);
}

#[tokio::test]
async fn a_target_timeout_is_a_failure() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (slow, _) = target(&s, "slow", &r.url("/slow"), call_kind(true), "0.5s").await;
    let (lax, _) = target(&s, "lax", &r.url("/lax"), call_kind(false), "0.5s").await;
    r.set(
        "/slow",
        Answer::json(200, json!({"late": true})).after(Duration::from_millis(1500)),
    );
    r.set(
        "/lax",
        Answer::json(200, json!({"late": true})).after(Duration::from_millis(1500)),
    );
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&slow]).await;
    execution(&s, json!({"request": {"method": UPDATE}}), &[&lax]).await;

    let t0 = Instant::now();
    let (st, body, _) = call(&s, req(ADD_HUMAN, json!({"x": 1}))).await;
    assert!(
        t0.elapsed() < Duration::from_millis(1400),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(st, 504, "{body}");
    assert_eq!(body["code"], "deadline_exceeded");
    let msg = body["message"].as_str().unwrap();
    assert!(msg.contains("'slow'") && msg.contains("timed out"), "{msg}");

    // Not interrupting: the late answer is dropped, the payload stays.
    let (st, body, _) = call(&s, req(UPDATE, json!({"x": 1}))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], json!({"x": 1}));
}

#[tokio::test]
async fn rest_async_is_not_awaited_but_delivered() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (bg, key) = target(&s, "bg", &r.url("/bg"), json!({"restAsync": {}}), "5s").await;
    let (sync, _) = target(&s, "sync", &r.url("/sync"), call_kind(true), "5s").await;
    r.set(
        "/bg",
        Answer::json(200, json!({"ignored": true})).after(Duration::from_millis(1000)),
    );
    r.set("/sync", Answer::json(200, json!({"ok": true})));
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&bg, &sync]).await;

    let t0 = Instant::now();
    let (st, body, id) = call(&s, req(ADD_HUMAN, json!({"x": 1}))).await;
    assert!(
        t0.elapsed() < Duration::from_millis(800),
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], json!({"ok": true}));
    let got = r.wait_for("/bg").await;
    assert_eq!(got.body["request"], json!({"x": 1}));
    assert!(got.headers.contains_key("zitadel-signature"));
    assert!(!key.is_empty());
    // The call's record names the durable invocation the async target became; that invocation
    // is delivered and logged like any other delivery.
    let rec = record(&s, &id, 2).await;
    assert_eq!(rec["attempts"][0]["outcome"], "dispatched", "{rec}");
    let note = rec["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(
        note.starts_with("queued for delivery as invocation "),
        "{rec}"
    );
    let invocation = note.rsplit(' ').next().unwrap();
    let mut status = Value::Null;
    for _ in 0..150 {
        let (_, v) = s.get(&format!("/v1/invocations/{invocation}")).await;
        status = v["status"].clone();
        if status == "delivered" {
            assert_eq!(v["routeId"], bg.as_str(), "{v}");
            assert_eq!(v["attempts"][0]["status"], 200, "{v}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(status, "delivered");
}

#[tokio::test]
async fn bad_calls_are_rejected() {
    let s = TestServer::start().await;
    let cases = [
        (
            json!({"condition": {"event": {"event": "user.human.added"}}, "payload": {}}),
            "/v1/events",
        ),
        (json!({"condition": {}, "payload": {}}), "condition"),
        (
            json!({"condition": {"request": {"method": "nope"}}, "payload": {}}),
            "condition.request",
        ),
        (
            json!({"condition": {"request": {"all": true}}, "payload": [1]}),
            "payload",
        ),
        (
            json!({"condition": {"request": {"all": true}}, "payload": {}, "context": {"headers": 1}}),
            "context.headers",
        ),
        (
            json!({"condition": {"request": {"all": true}}, "payload": {}, "bogus": 1}),
            "bogus",
        ),
    ];
    for (body, needle) in cases {
        let (st, answer, _) = call(&s, body.clone()).await;
        assert_eq!(st, 400, "{body} → {answer}");
        assert_eq!(answer["code"], "invalid_argument", "{answer}");
        let msg = answer["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{body}: '{msg}' should name {needle}");
    }
}
