//! Redis Streams destinations (`redis://HOST:PORT/DB?stream=NAME&maxlen=N`) on the Redis server
//! at 127.0.0.1:6379: an `XADD` entry carries the body and the signature metadata as fields; a
//! key of the wrong type gives a failed attempt with Redis's error and a retry that succeeds once
//! it is fixed; a server that is down gives a failed attempt and a retry that succeeds once it is
//! up, after which deliveries share one connection; a refused login is a failed attempt that
//! says so. The streams are read back with `redis-cli`.

use super::nats::signed_with;
use crate::delivery::{
    execution, invocation_for, publish, target, wait_invocation, wait_status, WAIT,
};
use crate::support::TestServer;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// `redis-cli -p PORT ARGS...`, its output lines.
fn redis_cli(port: u16, args: &[&str]) -> Vec<String> {
    let out = std::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli is installed");
    assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The first entry of a stream: its fields.
pub(super) fn first_entry(port: u16, stream: &str) -> HashMap<String, String> {
    let lines = redis_cli(port, &["XRANGE", stream, "-", "+", "COUNT", "1"]);
    assert!(!lines.is_empty(), "stream {stream} is empty");
    lines[1..]
        .chunks(2)
        .map(|kv| (kv[0].clone(), kv.get(1).cloned().unwrap_or_default()))
        .collect()
}

async fn quick_server() -> TestServer {
    TestServer::start_with(|c| {
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await
}

#[tokio::test]
async fn an_entry_carries_the_body_and_signature_and_a_wrong_type_is_retried() {
    // Reachable, or the test fails (CI starts Redis).
    redis_cli(6379, &["PING"]);
    let s = quick_server().await;
    let stream = format!("sy:test:{}", uuid::Uuid::new_v4().simple());
    // The key exists with the wrong type: XADD is refused until it is removed.
    redis_cli(6379, &["SET", &stream, "not a stream"]);
    let (id, key) = target(
        &s,
        "to redis",
        &format!("redis://127.0.0.1:6379/0?stream={stream}&maxlen=1000"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let payload = json!({"userName": "di"});
    let published = publish(&s, "user.human.added", payload.clone()).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "a refused attempt", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 1
    })
    .await;
    let first = &v["attempts"][0];
    assert_eq!(first["outcome"], "retry", "{v}");
    assert_eq!(first["transport"], "redis");
    assert!(
        first["error"].as_str().unwrap_or("").contains("WRONGTYPE"),
        "{v}"
    );
    redis_cli(6379, &["DEL", &stream]);

    let v = wait_status(&s, &inv, "delivered").await;
    let last = v["attempts"].as_array().unwrap().last().unwrap().clone();
    assert!(
        last["responseExcerpt"]
            .as_str()
            .unwrap_or("")
            .starts_with("entry "),
        "{v}"
    );
    let entry = first_entry(6379, &stream);
    let body: Value = serde_json::from_str(&entry["body"]).unwrap();
    assert_eq!(body["event_payload"], payload);
    assert_eq!(entry["content-type"], "application/json");
    assert_eq!(entry["webhook-id"], inv);
    assert!(signed_with(
        &entry["zitadel-signature"],
        entry["body"].as_bytes(),
        &key
    ));
    redis_cli(6379, &["DEL", &stream]);
}

#[tokio::test]
async fn a_server_that_is_down_fails_the_attempt_and_a_retry_succeeds_once_it_is_up() {
    let s = quick_server().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stream = "sy:test:down";
    let (id, _) = target(
        &s,
        "down",
        &format!("redis://127.0.0.1:{port}/0?stream={stream}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "ed"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "two failed attempts", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 2
    })
    .await;
    let error = v["attempts"][0]["error"].as_str().unwrap_or("");
    assert!(
        error.contains(&format!("Redis connect to 127.0.0.1:{port}")),
        "{error}"
    );

    let mut redis = tokio::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server is installed");
    let deadline = tokio::time::Instant::now() + WAIT;
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis-server did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_status(&s, &inv, "delivered").await;
    assert_eq!(first_entry(port, stream)["webhook-id"], inv);

    // Later deliveries go over the same connection: the server sees one client besides
    // redis-cli asking.
    let mut later = Vec::new();
    for n in 0..4 {
        let published = publish(&s, "user.human.added", json!({"n": n})).await;
        later.push(invocation_for(&published, &id));
    }
    for inv in &later {
        wait_status(&s, inv, "delivered").await;
    }
    assert_eq!(redis_cli(port, &["XLEN", stream]), ["5"]);
    let clients = redis_cli(port, &["CLIENT", "LIST"]);
    let ours: Vec<_> = clients
        .iter()
        .filter(|c| !c.contains("cmd=client|list"))
        .collect();
    assert_eq!(ours.len(), 1, "{clients:?}");
    let _ = redis.kill().await;
}

#[tokio::test]
async fn a_refused_login_fails_the_attempt() {
    // The server at 6379 has no password: AUTH with one is refused.
    redis_cli(6379, &["PING"]);
    let s = quick_server().await;
    let (id, _) = target(
        &s,
        "wrong login",
        "redis://:hunter2x@127.0.0.1:6379/0?stream=sy:test:login",
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "lo"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "a failed attempt", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 1
    })
    .await;
    let first = &v["attempts"][0];
    assert_eq!(first["outcome"], "retry", "{v}");
    let error = first["error"].as_str().unwrap_or("");
    assert!(error.starts_with("Redis AUTH at 127.0.0.1:6379: "), "{v}");
    assert!(
        !error.contains("hunter2x"),
        "the password is not echoed: {v}"
    );
}
