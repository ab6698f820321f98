//! The payload limits and defect 5's lesser defects: every producer and callback endpoint refuses
//! documents beyond the size and depth limits with a 400 naming the limit; names refuse control
//! characters; an execution refuses repeated targets and over-long lists; the data directory and
//! its database files are owner-only. (`nbf` is checked in `crate::auth`; refused deliveries fail
//! at once in `super::outbound`.)

use crate::delivery::{SUBS, V3};
use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const CONNECT: &str = "/zitadel.action.v2.ActionService";

fn nested(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = json!({ "a": v });
    }
    v
}

fn big() -> Value {
    json!({ "blob": "x".repeat(600 * 1024) })
}

/// Wraps a document into the body of one endpoint.
type Wrap = Box<dyn Fn(Value) -> Value>;

/// The error text of any dialect's 400.
fn error_text(v: &Value) -> String {
    v.to_string()
}

#[tokio::test]
async fn documents_beyond_the_payload_limits_are_refused_everywhere() {
    let s = TestServer::start().await;
    let method = "/zitadel.user.v2.UserService/AddHumanUser";
    let cases: Vec<(&str, Wrap)> = vec![
        (
            "/v1/events",
            Box::new(|p| json!({"type": "idn:identity-created", "payload": p})),
        ),
        (
            "/v1/invocations",
            Box::new(|p| json!({"triggerId": "idn:access-request-pre-approval", "input": p})),
        ),
        (
            "/v1/calls",
            Box::new(move |p| json!({"condition": {"request": {"method": method}}, "payload": p})),
        ),
        (
            "/trigger-invocations/v1/start",
            Box::new(|p| json!({"triggerId": "idn:access-request-pre-approval", "input": p})),
        ),
        (
            "/trigger-invocations/v1/test",
            Box::new(
                |p| json!({"triggerId": "idn:identity-created", "input": p, "contentJson": {}}),
            ),
        ),
        (
            "/trigger-subscriptions/v1/validate-filter",
            Box::new(|p| json!({"input": p, "filter": "$.a"})),
        ),
    ];
    for (path, body) in &cases {
        let (st, v) = s.post(path, body(json!({ "d": nested(70) }))).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert!(
            error_text(&v).contains("payload depth limit is 64"),
            "{path}: {v}"
        );
        let (st, v) = s.post(path, body(big())).await;
        assert_eq!(st, 400, "{path}: {v}");
        assert!(
            error_text(&v).contains("payload size limit is 524288 bytes"),
            "{path}: {v}"
        );
    }
    // A callback's output is bounded the same way (checked before the invocation is looked up).
    let (st, v) = s
        .anon(
            Method::POST,
            "/trigger-invocations/v1/00000000-0000-0000-0000-000000000000/complete",
            Some(json!({"secret": "s", "output": {"d": nested(70)}})),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(error_text(&v).contains("payload depth limit"), "{v}");
}

#[tokio::test]
async fn names_refuse_control_characters() {
    let s = TestServer::start().await;
    for name in ["nul\u{0}byte", "escape\u{1b}[2J", "new\nline", "del\u{7f}"] {
        let target = json!({"name": name, "endpoint": "https://example.com/h", "timeout": "5s", "restWebhook": {}});
        for path in [
            format!("{V3}/targets"),
            "/v2/actions/targets".into(),
            format!("{CONNECT}/CreateTarget"),
        ] {
            let (st, v) = s.post(&path, target.clone()).await;
            assert_eq!(st, 400, "{path} {name:?}: {v}");
            assert!(error_text(&v).contains("control characters"), "{v}");
        }
        let (st, v) = s
            .post(
                SUBS,
                json!({"name": name, "triggerId": "idn:identity-created", "type": "HTTP",
                               "httpConfig": {"url": "https://example.com/h"}}),
            )
            .await;
        assert_eq!(st, 400, "{name:?}: {v}");
        let (st, v) = s
            .post(
                "/v1/triggers",
                json!({"id": "acme:x", "name": name, "type": "FIRE_AND_FORGET",
                                         "inputSchema": {"type": "object"}, "exampleInput": {}}),
            )
            .await;
        assert_eq!(st, 400, "{name:?}: {v}");
    }
    let (st, v) = s
        .post(SUBS, json!({"name": "n", "triggerId": "idn:identity-created", "type": "HTTP",
                           "httpConfig": {"url": "https://example.com/h", "httpAuthenticationType": "BEARER_TOKEN",
                                          "bearerTokenAuthConfig": {"bearerToken": "a\r\nX-Injected: 1"}}}))
        .await;
    assert_eq!(st, 400, "{v}");
    // Descriptions may span lines.
    let (st, v) = s
        .post(SUBS, json!({"name": "n", "description": "line 1\nline 2", "triggerId": "idn:identity-created",
                           "type": "HTTP", "httpConfig": {"url": "https://example.com/h"}}))
        .await;
    assert_eq!(st, 201, "{v}");
}

#[tokio::test]
async fn executions_refuse_repeated_targets_and_long_lists() {
    let s = TestServer::start().await;
    let (st, t) = s
        .post(&format!("{CONNECT}/CreateTarget"), json!({"name": "t", "endpoint": "https://example.com/h", "timeout": "5s", "restWebhook": {}}))
        .await;
    assert_eq!(st, 200, "{t}");
    let id = t["id"].as_str().unwrap();
    let condition = json!({"event": {"event": "user.human.added"}});
    let repeated = vec![id; 10_000];
    let (st, v) = s
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": condition, "targets": repeated}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(error_text(&v).contains("limit is 100"), "{v}");
    let (st, v) = s
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": condition, "targets": [id, id]}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(error_text(&v).contains("listed more than once"), "{v}");
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("{V3}/executions"),
            Some(json!({"condition": condition, "execution": {"targets": [{"target": id}, {"target": id}]}})),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": condition, "targets": [id]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = TestServer::start().await;
    // Write something so the WAL exists.
    let (st, _) = s
        .post(&format!("{CONNECT}/CreateTarget"), json!({"name": "t", "endpoint": "https://example.com/h", "timeout": "5s", "restWebhook": {}}))
        .await;
    assert_eq!(st, 200);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&s.data_dir), 0o700);
    let mut checked = 0;
    for entry in std::fs::read_dir(&s.data_dir).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(
            mode(&path),
            0o600,
            "{} is readable by others",
            path.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the database, its WAL files and the keys"
    );
    for name in [
        "switchyard.db",
        "switchyard.db-wal",
        "switchyard.db-shm",
        "master.key",
        "jwt.secret",
    ] {
        assert!(s.data_dir.join(name).exists(), "{name} missing");
    }
}
