//! PATCH of subscriptions: content type, each RFC 6902 operation, the patchable-field rule, and
//! atomicity (a patch that fails anywhere leaves the stored subscription unchanged).

use super::{assert_sp_error, create, http_sub, SUBS};
use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const JP: &str = "application/json-patch+json";

async fn patch(s: &TestServer, id: &str, ops: Value) -> (StatusCode, Value) {
    s.raw(Method::PATCH, &format!("{SUBS}/{id}"), JP, &ops.to_string())
        .await
}

async fn setup(s: &TestServer) -> (String, Value) {
    let v = create(s, http_sub("idn:identity-created")).await;
    (v["id"].as_str().unwrap().to_string(), v)
}

#[tokio::test]
async fn each_operation() {
    let s = TestServer::start().await;
    let (id, _) = setup(&s).await;
    let (st, v) = patch(
        &s,
        &id,
        json!([{"op": "replace", "path": "/name", "value": "replaced"}]),
    )
    .await;
    assert_eq!(
        (st, v["name"].as_str()),
        (StatusCode::OK, Some("replaced")),
        "{v}"
    );
    let (_, v) = patch(
        &s,
        &id,
        json!([{"op": "add", "path": "/filter", "value": "$.identity"}]),
    )
    .await;
    assert_eq!(v["filter"], "$.identity");
    let (_, v) = patch(&s, &id, json!([{"op": "remove", "path": "/filter"}])).await;
    assert!(v["filter"].is_null(), "{v}");
    let (_, v) = patch(
        &s,
        &id,
        json!([{"op": "copy", "from": "/name", "path": "/description"}]),
    )
    .await;
    assert_eq!(v["description"], "replaced");
    let (_, v) = patch(
        &s,
        &id,
        json!([{"op": "move", "from": "/description", "path": "/name"}]),
    )
    .await;
    assert_eq!(v["name"], "replaced");
    assert!(v["description"].is_null());
    let (st, v) = patch(&s, &id, json!([{"op": "test", "path": "/enabled", "value": true}, {"op": "replace", "path": "/enabled", "value": false}])).await;
    assert_eq!((st, v["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    let (_, v) = patch(&s, &id, json!([{"op": "replace", "path": "/httpConfig/httpDispatchMode", "value": "ASYNC"}, {"op": "replace", "path": "/responseDeadline", "value": "PT10M"}])).await;
    assert_eq!(v["httpConfig"]["httpDispatchMode"], "ASYNC");
    assert_eq!(v["responseDeadline"], "PT10M");
    // Switching type with its config in one patch.
    let (st, v) = patch(&s, &id, json!([
        {"op": "replace", "path": "/type", "value": "EVENTBRIDGE"},
        {"op": "add", "path": "/eventBridgeConfig", "value": {"awsAccount": "123456789012", "awsRegion": "us-west-2"}}])).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["type"], "EVENTBRIDGE");
    assert_eq!(s.get(&format!("{SUBS}/{id}")).await.1, v);
}

#[tokio::test]
async fn failing_patches_change_nothing() {
    let s = TestServer::start().await;
    let (id, before) = setup(&s).await;
    let cases: Vec<(Value, &str)> = vec![
        // A valid replace followed by a failing test.
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "test", "path": "/name", "value": "nope"}]),
            "[1]",
        ),
        // A valid replace whose result is invalid as a whole.
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "replace", "path": "/type", "value": "EVENTBRIDGE"}]),
            "eventBridgeConfig",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "replace", "path": "/responseDeadline", "value": "P30D"}]),
            "responseDeadline",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "add", "path": "/filter", "value": "$[?("}]),
            "filter",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "remove", "path": "/httpConfig/url"}]),
            "httpConfig.url",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "remove", "path": "/description/x"}]),
            "[1]",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": ""}]),
            "name",
        ),
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "add", "path": "/httpConfig/extra", "value": 1}]),
            "extra",
        ),
        // Fields outside the patchable list, named in the error.
        (
            json!([{"op": "replace", "path": "/name", "value": "changed"}, {"op": "replace", "path": "/id", "value": "x"}]),
            "/id",
        ),
        (
            json!([{"op": "replace", "path": "/triggerId", "value": "idn:source-created"}]),
            "/triggerId",
        ),
        (
            json!([{"op": "add", "path": "/triggerName", "value": "x"}]),
            "/triggerName",
        ),
        (
            json!([{"op": "copy", "from": "/id", "path": "/name"}]),
            "/id",
        ),
        (
            json!([{"op": "replace", "path": "", "value": {}}]),
            "patchable",
        ),
        (json!([{"op": "frobnicate", "path": "/name"}]), "JSON Patch"),
        (json!([{"op": "replace", "path": "/name"}]), "JSON Patch"),
        (
            json!({"op": "replace", "path": "/name", "value": "x"}),
            "array",
        ),
        (json!([]), "at least one"),
    ];
    for (ops, needle) in cases {
        let (st, v) = patch(&s, &id, ops.clone()).await;
        assert_sp_error(st, &v, 400, &[needle]);
        assert_eq!(
            s.get(&format!("{SUBS}/{id}")).await.1,
            before,
            "after {ops}"
        );
    }
    let (st, v) = s
        .raw(Method::PATCH, &format!("{SUBS}/{id}"), JP, "[{")
        .await;
    assert_sp_error(st, &v, 400, &["malformed JSON"]);
    for ct in ["application/json", "text/plain"] {
        let (st, v) = s
            .raw(
                Method::PATCH,
                &format!("{SUBS}/{id}"),
                ct,
                r#"[{"op":"replace","path":"/name","value":"x"}]"#,
            )
            .await;
        assert_sp_error(st, &v, 415, &["application/json-patch+json"]);
    }
    let (st, v) = patch(
        &s,
        "no-such-id",
        json!([{"op": "replace", "path": "/name", "value": "x"}]),
    )
    .await;
    assert_sp_error(st, &v, 404, &["no-such-id"]);
    assert_eq!(s.get(&format!("{SUBS}/{id}")).await.1, before);
}
