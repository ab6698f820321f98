//! Passwords in broker URLs are secrets: sealed at rest (the database file never holds them),
//! masked (`***`) in every answer and attempt record, kept when an answer's masked URL is sent
//! back, and used to log in: a wrong RabbitMQ password is a refused login, and the right one
//! delivers; an MQTT subscription with a login delivers.

use super::amqp::{channel, declare_queue, get};
use crate::delivery::{
    execution, identity, invocation_for, publish, subscribe, target, wait_invocation, wait_status,
    SUBS, V3,
};
use crate::support::TestServer;
use lapin::options::QueueDeleteOptions;
use reqwest::Method;
use serde_json::{json, Value};

fn db_bytes(s: &TestServer) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["switchyard.db", "switchyard.db-wal"] {
        if let Ok(b) = std::fs::read(s.data_dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn an_amqp_password_is_sealed_masked_kept_and_used_to_log_in() {
    let (_conn, ch) = channel().await;
    let queue = format!("sy.test.login.{}", uuid::Uuid::new_v4().simple());
    declare_queue(&ch, &queue).await;
    let s = TestServer::start_with(|c| {
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await;
    let wrong = "wr0ng-Pass%2Fword";
    let url = format!("amqp://guest:{wrong}@127.0.0.1:5672/%2f?routingKey={queue}");
    let masked = format!("amqp://guest:***@127.0.0.1:5672/%2f?routingKey={queue}");
    let (id, _) = target(
        &s,
        "login",
        &url,
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    let (st, got) = s.get(&format!("{V3}/targets/{id}")).await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["target"]["config"]["endpoint"], masked);

    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "lo"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "a refused login", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 1
    })
    .await;
    let a = &v["attempts"][0];
    assert_eq!(a["outcome"], "retry", "{v}");
    assert_eq!(a["destination"], masked, "{v}");
    assert!(
        a["error"]
            .as_str()
            .unwrap_or("")
            .contains("RabbitMQ connect to"),
        "{v}"
    );
    assert!(!v.to_string().contains("wr0ng"), "{v}");

    // The masked endpoint sent back keeps the stored password (still refused) ...
    let (st, p) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"endpoint": masked, "timeout": "4s"})),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    let bytes = db_bytes(&s);
    assert!(contains(&bytes, &queue), "the test reads the right file");
    assert!(!contains(&bytes, "wr0ng"), "the password is sealed at rest");
    // ... a literal '***' elsewhere is refused ...
    let (st, e) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"endpoint": "amqp://guest:***@127.0.0.1:5673/%2f?routingKey=q"})),
        )
        .await;
    assert_eq!(st, 400, "{e}");
    // ... and the right password delivers.
    let (st, p) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"endpoint": format!("amqp://guest:guest@127.0.0.1:5672/%2f?routingKey={queue}")})),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    let v = wait_status(&s, &inv, "delivered").await;
    assert!(!v.to_string().contains(":guest@"), "{v}");
    let m = get(&ch, &queue).await;
    assert_eq!(
        m.delivery
            .properties
            .message_id()
            .as_ref()
            .unwrap()
            .as_str(),
        inv
    );
    ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_mqtt_login_in_a_subscription_is_sealed_masked_and_kept() {
    let topic = format!("sy/test/login/{}", uuid::Uuid::new_v4().simple());
    let (_sub, mut rx) = super::mqtt::subscribe(1883, &topic).await;
    let s = TestServer::start().await;
    let url = format!("mqtt://svc:S3cret-mq@127.0.0.1:1883/{topic}");
    let masked = format!("mqtt://svc:***@127.0.0.1:1883/{topic}");
    let sub = subscribe(&s, &url, json!({})).await;
    assert_eq!(sub["httpConfig"]["url"], masked, "{sub}");
    let id = sub["id"].as_str().unwrap().to_string();
    let (_, listed) = s.get(SUBS).await;
    assert!(!listed.to_string().contains("S3cret"), "{listed}");

    // A PUT with the URL as answered keeps the stored password, as a PATCH `test` proves.
    let (st, p) = s
        .call(
            Method::PUT,
            &format!("{SUBS}/{id}"),
            Some(json!({"name": "kept", "type": "HTTP", "httpConfig": {"url": masked}})),
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["httpConfig"]["url"], masked);
    let patch = format!(
        r#"[{{"op":"test","path":"/httpConfig/url","value":"{url}"}},{{"op":"replace","path":"/name","value":"kept2"}}]"#
    );
    let (st, p) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{id}"),
            "application/json-patch+json",
            &patch,
        )
        .await;
    assert_eq!(st, 200, "{p}");
    assert!(!contains(&db_bytes(&s), "S3cret"), "sealed at rest");

    let published = publish(&s, "idn:identity-created", identity("ann", "eng")).await;
    let inv = invocation_for(&published, &id);
    let p = tokio::time::timeout(crate::delivery::WAIT, rx.recv())
        .await
        .expect("a message within the wait")
        .unwrap();
    let body: Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(body["identity"]["name"], "ann");
    let v = wait_status(&s, &inv, "delivered").await;
    assert_eq!(v["attempts"][0]["destination"], masked, "{v}");
}
