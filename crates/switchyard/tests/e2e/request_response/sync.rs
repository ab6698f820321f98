//! SYNC and DYNAMIC subscribers, `wait`, and request validation of `POST /v1/invocations`.

use super::receiver::Receiver;
use super::*;

#[tokio::test]
async fn sync_output_completes_and_invalid_output_fails() {
    let s = server().await;
    let rx = Receiver::start(&[
        (200, r#"{"approved": true}"#),
        (200, r#"{"approved": "yes"}"#),
    ])
    .await;
    let sub = subscribe(&s, &rx.url, "SYNC", "PT30S").await;

    let (st, v) = start(&s, Some("PT5S")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let inv = only(&v);
    assert_eq!(inv["status"], "completed", "{v}");
    assert_eq!(inv["output"], json!({"approved": true}));
    assert_eq!(inv["subscriptionId"], sub.as_str());
    let got = rx.wait_for(1).await;
    let meta = &got[0].body["_metadata"];
    assert_eq!(got[0].body["orderId"], "o-1");
    assert_eq!(meta["triggerType"], "requestResponse");
    assert_eq!(meta["triggerId"], TRIGGER);
    assert_eq!(meta["responseMode"], "sync");
    assert_eq!(meta["invocationId"], inv["id"]);
    assert!(
        meta.get("secret").is_none() && meta.get("callbackURL").is_none(),
        "{meta}"
    );
    assert!(got[0].headers.contains_key("webhook-signature"));

    // The output is kept and shown by both inspection APIs.
    let id = inv["id"].as_str().unwrap();
    let (_, view) = s.get(&format!("/v1/invocations/{id}")).await;
    assert_eq!(view["output"], json!({"approved": true}), "{view}");
    let (_, rows) = s.get("/trigger-invocations/v1/status").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap();
    assert_eq!(
        row["completeInvocationInput"]["output"],
        json!({"approved": true})
    );
    assert!(row["completed"].is_string(), "{row}");

    let (_, v) = start(&s, Some("PT5S")).await;
    let inv = only(&v);
    assert_eq!(inv["status"], "failed", "{v}");
    let err = inv["error"].as_str().unwrap();
    assert!(
        err.contains("invalid output") && err.contains("approved"),
        "{err}"
    );
}

#[tokio::test]
async fn dynamic_answers_decide_between_sync_and_callback() {
    let s = server().await;
    let rx = Receiver::start(&[(200, r#"{"approved": false}"#), (202, "{}")]).await;
    subscribe(&s, &rx.url, "DYNAMIC", "PT30S").await;

    let (_, v) = start(&s, Some("PT5S")).await;
    assert_eq!(only(&v)["status"], "completed", "{v}");
    assert_eq!(only(&v)["output"], json!({"approved": false}));

    let (_, v) = start(&s, None).await;
    let id = only(&v)["id"].as_str().unwrap().to_string();
    until_status(&s, &id, "awaiting_callback").await;
    let got = rx.wait_for(2).await;
    let meta = &got[1].body["_metadata"];
    assert_eq!(meta["responseMode"], "dynamic");
    let secret = meta["secret"].as_str().unwrap();
    let (st, v) = complete(
        &s,
        &id,
        json!({"secret": secret, "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let view = until_status(&s, &id, "completed").await;
    assert_eq!(view["output"], json!({"approved": true}));
}

#[tokio::test]
async fn failed_answers_are_retried() {
    // (That no retry passes the deadline is checked in delivery's outcome unit tests.)
    let s = server().await;
    // 500, then the output: the retry 100 ms later succeeds.
    let rx = Receiver::start(&[(500, "{}"), (200, r#"{"approved": true}"#)]).await;
    subscribe(&s, &rx.url, "SYNC", "PT30S").await;
    let (_, v) = start(&s, Some("PT5S")).await;
    assert_eq!(only(&v)["status"], "completed", "{v}");
    assert_eq!(rx.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn start_validates_the_request() {
    let s = server().await;
    // A valid output: with `{}` a fast delivery may already have failed the invocation on the
    // output schema by the time the start answers.
    let rx = Receiver::start(&[(200, r#"{"approved":true}"#)]).await;
    subscribe(&s, &rx.url, "SYNC", "PT30S").await;
    let (st, v) = start(&s, Some("PT61S")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("wait"), "{v}");
    let (st, v) = start(&s, Some("soon")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    let (st, v) = s
        .post(
            "/v1/invocations",
            json!({"triggerId": TRIGGER, "input": {"orderId": 7}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("orderId"), "{v}");

    let (st, v) = s
        .post(
            "/v1/invocations",
            json!({"triggerId": "idn:identity-created", "input": {}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("/v1/events"), "{v}");

    let (st, v) = s
        .post(
            "/v1/events",
            json!({"type": TRIGGER, "payload": {"orderId": "o"}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("/v1/invocations"), "{v}");
    assert!(rx.received().is_empty(), "nothing may be delivered");

    // Without wait the answer comes at once.
    let (st, v) = start(&s, None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let status = only(&v)["status"].as_str().unwrap();
    assert!(
        ["pending", "in_flight", "completed"].contains(&status),
        "{v}"
    );
}
