//! SailPoint test invocations and the invocation status list; subscription secret read/rotate.

use crate::support::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A subscription whose URL nothing listens on: deliveries fail, records remain.
async fn subscription(s: &TestServer, trigger: &str, enabled: bool) -> String {
    let (st, v) = s
        .post(
            "/trigger-subscriptions/v1",
            json!({"name": "t", "triggerId": trigger, "type": "HTTP", "enabled": enabled,
                   "httpConfig": {"url": "http://127.0.0.1:9/hook", "httpDispatchMode": "SYNC"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn test_invocations_use_the_example_input_and_ignore_enabled() {
    let s = TestServer::start().await;
    let off = subscription(&s, "idn:identity-created", false).await;
    let other = subscription(&s, "idn:identity-created", true).await;
    let (st, v) = s
        .post(
            "/trigger-invocations/v1/test",
            json!({"triggerId": "idn:identity-created", "contentJson": {"k": "v"}, "subscriptionIds": [off]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = v.as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "only the listed (disabled) subscription: {v}"
    );
    assert_eq!(list[0]["triggerId"], "idn:identity-created");
    assert_eq!(list[0]["contentJson"], json!({"k": "v"}));
    assert!(list[0]["secret"].as_str().unwrap().len() >= 32);
    let inv = list[0]["id"].as_str().unwrap();

    let (st, status) = s
        .get(&format!(
            "/trigger-invocations/v1/status?filters=subscriptionId%20eq%20%22{off}%22"
        ))
        .await;
    assert_eq!(st, StatusCode::OK, "{status}");
    let rows = status.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{status}");
    let row = &rows[0];
    assert_eq!(row["id"], inv);
    assert_eq!(row["type"], "TEST");
    assert_eq!(row["subscriptionId"], off.as_str());
    assert_eq!(row["subscriptionName"], "t");
    assert_eq!(
        row["startInvocationInput"]["contentJson"],
        json!({"k": "v"})
    );
    let (_, triggers) = s
        .get("/triggers/v1?filters=id%20eq%20%22idn:identity-created%22")
        .await;
    assert_eq!(
        row["startInvocationInput"]["input"],
        triggers[0]["exampleInput"]
    );
    assert!(row["created"].as_str().unwrap().ends_with('Z'));
    assert_ne!(other, off);
}

#[tokio::test]
async fn test_invocation_errors() {
    let s = TestServer::start().await;
    let cases = [
        (
            json!({"triggerId": "idn:nope", "contentJson": {}}),
            "triggerId",
        ),
        (json!({"triggerId": "idn:identity-created"}), "contentJson"),
        (
            json!({"triggerId": "idn:identity-created", "contentJson": {}, "input": {"identity": 1}}),
            "input schema",
        ),
        (
            json!({"triggerId": "idn:identity-created", "contentJson": {}, "bogus": 1}),
            "bogus",
        ),
    ];
    for (body, needle) in cases {
        let (st, v) = s.post("/trigger-invocations/v1/test", body.clone()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}: {v}");
        assert_eq!(v["detailCode"], "400.1 Bad Request Content", "{v}");
        assert!(
            v["causes"][0]["text"].as_str().unwrap().contains(needle),
            "{needle}: {v}"
        );
    }
}

#[tokio::test]
async fn status_list_validates_filters_and_sorters() {
    let s = TestServer::start().await;
    for q in ["filters=name%20eq%20%22x%22", "sorters=bogus", "limit=251"] {
        let (st, v) = s.get(&format!("/trigger-invocations/v1/status?{q}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{q}: {v}");
    }
    let (st, v) = s
        .get("/trigger-invocations/v1/status?sorters=-created,subscriptionName&count=true")
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v, json!([]));
}

#[tokio::test]
async fn subscription_secret_rotates_with_a_grace_period() {
    let s = TestServer::start().await;
    let id = subscription(&s, "idn:source-created", true).await;
    let path = format!("/v1/subscriptions/{id}/secret");
    let (st, first) = s.get(&path).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let old = first["secret"].as_str().unwrap().to_string();
    assert!(old.starts_with("whsec_"));
    assert_eq!(first["previous"], json!([]));

    let (st, rotated) = s
        .post(&format!("{path}/rotate"), json!({"gracePeriod": "PT1H"}))
        .await;
    assert_eq!(st, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    let (_, now) = s.get(&path).await;
    assert_eq!(now["secret"], new);
    assert_eq!(now["previous"][0]["secret"], old.as_str());
    assert!(now["previous"][0]["expiresAt"].is_string());

    let (st, _) = s
        .post(&format!("{path}/rotate"), json!({"gracePeriod": "PT0S"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, after) = s.get(&path).await;
    assert_eq!(
        after["previous"],
        json!([]),
        "an immediate rotation drops every old secret"
    );

    let (st, v) = s
        .post(&format!("{path}/rotate"), json!({"gracePeriod": "P8D"}))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("gracePeriod"));
    let (st, _) = s.get("/v1/subscriptions/nope/secret").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Another instance cannot read it.
    let other = s.token_for("other", "admin");
    let (st, _): (StatusCode, Value) = s
        .call_as(Some(&other), reqwest::Method::GET, &path, None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
