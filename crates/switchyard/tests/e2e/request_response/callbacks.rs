//! ASYNC subscribers completing by callback: the secret, the error cases, the deadline (also
//! across a restart), `wait` woken by a callback, and SailPoint's start and test invocations.

use super::receiver::Receiver;
use super::*;
use crate::support::TempDir;

/// Starts in SailPoint's shape; returns (id, secret).
async fn start_sailpoint(s: &TestServer, path: &str) -> (String, String) {
    let (st, v) = s
        .post(
            path,
            json!({"triggerId": TRIGGER, "input": {"orderId": "o-9"}, "contentJson": {"k": "v"}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v.as_array().expect("a list of invocations");
    assert_eq!(list.len(), 1, "{v}");
    assert_eq!(list[0]["triggerId"], TRIGGER);
    assert_eq!(list[0]["contentJson"], json!({"k": "v"}));
    (
        list[0]["id"].as_str().unwrap().to_string(),
        list[0]["secret"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn async_callback_completes_once_and_guards_its_secret() {
    let s = server().await;
    let rx = Receiver::start(&[]).await;
    subscribe(&s, &rx.url, "ASYNC", "PT30S").await;
    let (id, secret) = start_sailpoint(&s, "/trigger-invocations/v1/start").await;

    let got = rx.wait_for(1).await;
    let meta = &got[0].body["_metadata"];
    assert_eq!(meta["responseMode"], "async");
    assert_eq!(meta["invocationId"], id.as_str());
    assert_eq!(
        meta["secret"],
        secret.as_str(),
        "the delivery carries the returned secret"
    );
    let callback = meta["callbackURL"].as_str().unwrap();
    assert_eq!(
        callback,
        s.url(&format!("/trigger-invocations/v1/{id}/complete"))
    );
    // Secrets stay out of the attempt log.
    let view = until_status(&s, &id, "awaiting_callback").await;
    assert!(!view.to_string().contains(&secret), "{view}");

    let (st, v) = complete(
        &s,
        &id,
        json!({"secret": "wrong", "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v["error"].is_string(), "SailPoint's 401 shape: {v}");
    let (st, v) = complete(&s, "no-such-id", json!({"secret": secret, "output": {}})).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = complete(
        &s,
        &id,
        json!({"secret": secret, "output": {"approved": 1}}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("approved"), "{v}");
    let (st, v) = complete(&s, &id, json!({"secret": secret})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");

    // The callback itself needs no token: the request goes to the delivered callback URL as is.
    let resp = s
        .client
        .post(callback)
        .json(&json!({"secret": secret, "output": {"approved": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (st, v) = complete(
        &s,
        &id,
        json!({"secret": secret, "output": {"approved": false}}),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let view = until_status(&s, &id, "completed").await;
    assert_eq!(
        view["output"],
        json!({"approved": true}),
        "the first completion stays"
    );

    let (_, rows) = s.get("/trigger-invocations/v1/status").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(
        row["completeInvocationInput"]["output"],
        json!({"approved": true})
    );
    assert_eq!(
        row["startInvocationInput"]["contentJson"],
        json!({"k": "v"})
    );
}

#[tokio::test]
async fn wait_is_woken_by_the_callback_and_errors_fail_the_invocation() {
    let s = server().await;
    let rx = Receiver::start(&[]).await;
    subscribe(&s, &rx.url, "ASYNC", "PT30S").await;
    let waiter = {
        let base = s.url("/v1/invocations");
        let client = s.client.clone();
        let token = s.admin_token.clone();
        tokio::spawn(async move {
            let resp = client
                .post(base)
                .bearer_auth(token)
                .json(&json!({"triggerId": TRIGGER, "input": {"orderId": "o-1"}, "wait": "PT20S"}))
                .send()
                .await
                .unwrap();
            (resp.status(), resp.json::<Value>().await.unwrap())
        })
    };
    let got = rx.wait_for(1).await;
    let meta = &got[0].body["_metadata"];
    let id = meta["invocationId"].as_str().unwrap();
    let started = std::time::Instant::now();
    let (st, v) = complete(
        &s,
        id,
        json!({"secret": meta["secret"], "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, v) = waiter.await.unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "woken promptly"
    );
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(only(&v)["status"], "completed", "{v}");
    assert_eq!(only(&v)["output"], json!({"approved": true}));

    // A subscriber reporting an error fails the invocation with it.
    let (id, secret) = start_sailpoint(&s, "/beta/trigger-invocations/start").await;
    rx.wait_for(2).await;
    let (st, v) = s
        .anon(
            Method::POST,
            &format!("/beta/trigger-invocations/{id}/complete"),
            Some(json!({"secret": secret, "output": {}, "error": "approver unavailable"})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let view = until_status(&s, &id, "failed").await;
    assert_eq!(view["lastError"], "approver unavailable", "{view}");
    let (_, rows) = s.get("/trigger-invocations/v1/status").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(
        row["completeInvocationInput"]["localizedError"]["message"],
        "approver unavailable"
    );
}

#[tokio::test]
async fn deadline_times_out_and_late_completions_are_gone() {
    let s = server().await;
    let rx = Receiver::start(&[]).await;
    subscribe(&s, &rx.url, "ASYNC", "PT1S").await;
    let (st, v) = start(&s, Some("PT10S")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let inv = only(&v);
    assert_eq!(inv["status"], "failed", "{v}");
    assert_eq!(inv["error"], "invocation timed out");
    let got = rx.wait_for(1).await;
    let meta = &got[0].body["_metadata"];
    let (st, v) = complete(
        &s,
        inv["id"].as_str().unwrap(),
        json!({"secret": meta["secret"], "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn async_invocations_survive_a_restart() {
    let dir = TempDir::new();
    let s = server_in(dir.0.clone()).await;
    trigger(&s).await;
    let rx = Receiver::start(&[]).await;
    subscribe(&s, &rx.url, "ASYNC", "PT30S").await;
    let (done_id, done_secret) = start_sailpoint(&s, "/trigger-invocations/v1/start").await;
    rx.wait_for(1).await;
    until_status(&s, &done_id, "awaiting_callback").await;
    s.stop().await;

    let s = server_in(dir.0.clone()).await;
    let (st, v) = complete(
        &s,
        &done_id,
        json!({"secret": done_secret, "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    until_status(&s, &done_id, "completed").await;

    // Shorten the deadline, start one, restart, and let the deadline pass after the restart.
    let (_, subs) = s.get("/trigger-subscriptions/v1").await;
    let sub = subs[0]["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .raw(
            Method::PATCH,
            &format!("/trigger-subscriptions/v1/{sub}"),
            "application/json-patch+json",
            r#"[{"op": "replace", "path": "/responseDeadline", "value": "PT2S"}]"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (late_id, late_secret) = start_sailpoint(&s, "/trigger-invocations/v1/start").await;
    rx.wait_for(2).await;
    until_status(&s, &late_id, "awaiting_callback").await;
    s.stop().await;

    let s = server_in(dir.0.clone()).await;
    let view = until_status(&s, &late_id, "failed").await;
    assert_eq!(view["lastError"], "invocation timed out");
    let (st, v) = complete(
        &s,
        &late_id,
        json!({"secret": late_secret, "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
}

#[tokio::test]
async fn test_invocations_dispatch_request_response_triggers() {
    let s = server().await;
    let rx = Receiver::start(&[]).await;
    subscribe(&s, &rx.url, "ASYNC", "PT30S").await;
    let (id, secret) = start_sailpoint(&s, "/trigger-invocations/v1/test").await;
    let got = rx.wait_for(1).await;
    let meta = &got[0].body["_metadata"];
    assert_eq!(meta["triggerType"], "requestResponse");
    assert_eq!(meta["secret"], secret.as_str());
    let (st, v) = complete(
        &s,
        &id,
        json!({"secret": secret, "output": {"approved": true}}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (_, rows) = s.get("/trigger-invocations/v1/status").await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap();
    assert_eq!(row["type"], "TEST");
    assert_eq!(
        row["completeInvocationInput"]["output"],
        json!({"approved": true})
    );
}
