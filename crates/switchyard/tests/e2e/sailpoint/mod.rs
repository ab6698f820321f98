//! End-to-end tests of the SailPoint Event Triggers dialect: the trigger catalog, custom
//! triggers, subscriptions (every rule, secrets, limits) and JSON Patch.

mod custom;
mod patch;
mod subscriptions;
mod triggers;

use crate::support::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const SUBS: &str = "/trigger-subscriptions/v1";

/// A valid HTTP subscription request for `trigger`.
pub fn http_sub(trigger: &str) -> Value {
    json!({
        "name": "Access request subscription",
        "description": "Access requested to site xyz",
        "triggerId": trigger,
        "type": "HTTP",
        "httpConfig": {"url": "https://www.example.com/hook"},
    })
}

/// Creates a subscription and returns its response body, asserting 201.
pub async fn create(s: &TestServer, body: Value) -> Value {
    let (st, v) = s.post(SUBS, body).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v
}

/// Asserts a SailPoint-shaped 400 whose causes mention every needle.
pub fn assert_sp_error(st: StatusCode, v: &Value, status: u16, needles: &[&str]) {
    assert_eq!(st.as_u16(), status, "{v}");
    assert!(
        v["detailCode"]
            .as_str()
            .unwrap_or("")
            .starts_with(&status.to_string()),
        "{v}"
    );
    assert!(
        v["trackingId"].as_str().is_some_and(|t| !t.is_empty()),
        "{v}"
    );
    assert_eq!(v["messages"][0]["locale"], "en-US");
    let text = v["causes"][0]["text"].as_str().unwrap_or("");
    for n in needles {
        assert!(text.contains(n), "'{n}' not in '{text}'");
    }
}
