//! Defect 3: a JSON Patch cannot grow a subscription without bound. Twenty-two `copy`
//! operations that each double the document (642 MB at 18, an allocator abort at 22 before)
//! stop at the first one past the document limit, and too many operations are refused outright.

use super::assert_responsive;
use crate::delivery::SUBS;
use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn patch(s: &TestServer, id: &str, ops: &Value) -> (u16, Value, Duration) {
    let t0 = Instant::now();
    let (st, v) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{id}"),
            "application/json-patch+json",
            &ops.to_string(),
        )
        .await;
    (st.as_u16(), v, t0.elapsed())
}

#[tokio::test]
async fn a_doubling_patch_is_refused_with_the_document_limit() {
    let s = TestServer::start().await;
    let (st, sub) = s
        .post(
            SUBS,
            json!({"name": "n", "triggerId": "idn:identity-created", "type": "HTTP",
                           "httpConfig": {"url": "https://example.com/hook"}}),
        )
        .await;
    assert_eq!(st, 201, "{sub}");
    let id = sub["id"].as_str().unwrap();

    let bomb: Vec<Value> = (0..22)
        .map(|i| json!({"op": "copy", "from": "/httpConfig", "path": format!("/httpConfig/c{i}")}))
        .collect();
    let (st, v, took) = patch(&s, id, &Value::Array(bomb)).await;
    assert_eq!(st, 400, "{v}");
    let text = v["causes"][0]["text"].as_str().unwrap_or("");
    assert!(text.contains("document size limit is 32768 bytes"), "{v}");
    assert!(took < Duration::from_secs(5), "the patch took {took:?}");

    let many: Vec<Value> = (0..1000)
        .map(|_| json!({"op": "test", "path": "/name", "value": "n"}))
        .collect();
    let (st, v, _) = patch(&s, id, &Value::Array(many)).await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("operation limit is 64"), "{v}");

    // Nothing changed, and the server is fine.
    let (st, after) = s.get(&format!("{SUBS}/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(after, sub);
    assert_responsive(&s, Duration::from_secs(1)).await;
    let ok = json!([{"op": "replace", "path": "/name", "value": "renamed"}]);
    let (st, v, _) = patch(&s, id, &ok).await;
    assert_eq!((st, &v["name"]), (200, &json!("renamed")), "{v}");
}
