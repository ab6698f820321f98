//! End-to-end tests of the ZITADEL Actions dialect on its three surfaces (v3alpha REST, v2 REST,
//! v2 Connect): targets, executions, catalogs, errors and instance isolation.

mod executions;
mod targets;
mod validation;

use crate::support::TestServer;
use serde_json::{json, Value};

pub const CONNECT: &str = "/zitadel.action.v2.ActionService";
pub const V3: &str = "/resources/v3alpha/actions";

/// Creates a webhook target over Connect and returns its id.
pub async fn make_target(s: &TestServer, name: &str) -> String {
    let (st, body) = s
        .post(
            &format!("{CONNECT}/CreateTarget"),
            json!({"name": name, "endpoint": "https://example.com/hook", "timeout": "10s", "restWebhook": {"interruptOnError": true}}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

/// A valid target body for the v3alpha and v2 create routes.
pub fn target_body(name: &str) -> Value {
    json!({"name": name, "endpoint": "https://example.com/hook", "timeout": "10s", "restCall": {"interruptOnError": false}})
}
