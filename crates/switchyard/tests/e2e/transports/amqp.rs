//! RabbitMQ destinations (`amqp://HOST:PORT/VHOST?exchange=EX&routingKey=RK`) on the broker at
//! 127.0.0.1:5672 (guest/guest): a message is confirmed only once it is routed, and carries the
//! body and the signature metadata as properties and headers; an exchange that does not exist and
//! an unroutable message are failed attempts that a retry gets past once the exchange and a
//! binding exist; a virtual host the user cannot open is a failed attempt with the broker's
//! reason; a broker that goes down (also under a kept connection) gives failed attempts and a
//! retry that succeeds once it is back. Queues and exchanges are declared and read back here with
//! lapin and deleted at the end.

use super::nats::signed_with;
use super::{free_port, Proxy};
use crate::delivery::{
    execution, invocation_for, metric, metrics_text, publish, target, wait_invocation, wait_status,
    WAIT,
};
use crate::support::TestServer;
use lapin::options::{
    BasicGetOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use serde_json::{json, Value};
use std::time::Duration;

const BROKER: &str = "127.0.0.1:5672";

pub async fn channel() -> (Connection, Channel) {
    let conn = Connection::connect(
        &format!("amqp://guest:guest@{BROKER}/%2f"),
        ConnectionProperties::default(),
    )
    .await
    .expect("RabbitMQ at 127.0.0.1:5672 (guest/guest) is needed; .ci/run checks it is up");
    let ch = conn.create_channel().await.unwrap();
    (conn, ch)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

async fn quick_server() -> TestServer {
    TestServer::start_with(|c| {
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await
}

pub async fn declare_queue(ch: &Channel, name: &str) {
    ch.queue_declare(
        name.into(),
        QueueDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
}

/// Takes the next message of `queue`, waiting for one.
pub async fn get(ch: &Channel, queue: &str) -> lapin::message::BasicGetMessage {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(m) = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            return m;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no message in {queue}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn header(m: &lapin::message::BasicGetMessage, k: &str) -> String {
    match m
        .delivery
        .properties
        .headers()
        .as_ref()
        .unwrap()
        .inner()
        .get(k)
    {
        Some(AMQPValue::LongString(s)) => s.to_string(),
        other => panic!("header {k}: {other:?}"),
    }
}

fn attempts(v: &Value) -> usize {
    v["attempts"].as_array().map_or(0, Vec::len)
}

/// Waits until an attempt's error contains `needle`; returns that error.
async fn wait_error(s: &TestServer, inv: &str, needle: &str) -> String {
    let v = wait_invocation(s, inv, needle, |v| {
        v["attempts"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| a["error"].as_str().unwrap_or("").contains(needle))
        })
    })
    .await;
    let a = v["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["error"].as_str().unwrap_or("").contains(needle))
        .unwrap()
        .clone();
    assert_eq!(a["outcome"], "retry", "{v}");
    assert_eq!(a["transport"], "amqp", "{v}");
    a["error"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_message_is_confirmed_once_routed_and_carries_its_properties() {
    let (_conn, ch) = channel().await;
    let s = quick_server().await;
    let exchange = unique("sy.test.ex");
    let queue = unique("sy.test.q");
    let url = format!("amqp://{BROKER}/%2f?exchange={exchange}&routingKey=orders");
    let (id, key) = target(
        &s,
        "to rabbit",
        &url,
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let payload = json!({"userName": "al"});
    let published = publish(&s, "user.human.added", payload.clone()).await;
    let inv = invocation_for(&published, &id);

    // No such exchange: the broker closes the channel; the attempt is retried.
    let error = wait_error(&s, &inv, "NOT_FOUND").await;
    assert!(error.contains(&exchange), "{error}");
    // The exchange exists but nothing is bound: the message comes back unroutable.
    ch.exchange_declare(
        exchange.as_str().into(),
        ExchangeKind::Direct,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let error = wait_error(&s, &inv, "unroutable").await;
    assert!(error.contains("NO_ROUTE"), "{error}");
    // A bound queue: confirmed.
    declare_queue(&ch, &queue).await;
    ch.queue_bind(
        queue.as_str().into(),
        exchange.as_str().into(),
        "orders".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .unwrap();
    let v = wait_status(&s, &inv, "delivered").await;
    let last = v["attempts"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["transport"], "amqp");
    assert_eq!(last["destination"], url);
    assert!(
        last["responseExcerpt"]
            .as_str()
            .unwrap_or("")
            .starts_with("confirmed by the broker"),
        "{v}"
    );

    let m = get(&ch, &queue).await;
    let body: Value = serde_json::from_slice(&m.delivery.data).unwrap();
    assert_eq!(body["event_payload"], payload);
    let props = &m.delivery.properties;
    assert_eq!(
        props.content_type().as_ref().unwrap().as_str(),
        "application/json"
    );
    assert_eq!(props.message_id().as_ref().unwrap().as_str(), inv);
    assert_eq!(*props.delivery_mode(), Some(2));
    assert_eq!(header(&m, "webhook-id"), inv);
    assert!(signed_with(
        &header(&m, "zitadel-signature"),
        &m.delivery.data,
        &key
    ));
    assert!(!signed_with(
        &header(&m, "zitadel-signature"),
        &m.delivery.data,
        "another-key-0123456789"
    ));
    let text = metrics_text(&s).await;
    let sample = |o: &str| {
        metric(
            &text,
            &format!("switchyard_transport_deliveries_total{{transport=\"amqp\",outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(sample("delivered"), Some(1.0), "{text}");
    assert!(sample("retried") >= Some(2.0), "{text}");

    ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    ch.exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_virtual_host_the_user_cannot_open_is_a_failed_attempt() {
    let s = quick_server().await;
    let vhost = unique("sy-test-missing");
    let (id, _) = target(
        &s,
        "bad vhost",
        &format!("amqp://{BROKER}/{vhost}?routingKey=q"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "vh"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "a failed attempt", |v| attempts(v) >= 1).await;
    let a = &v["attempts"][0];
    assert_eq!(a["outcome"], "retry", "{v}");
    let error = a["error"].as_str().unwrap_or("");
    assert!(
        error.contains("RabbitMQ connect to") && error.contains(&vhost),
        "{error}"
    );
}

#[tokio::test]
async fn a_broker_that_goes_down_fails_attempts_and_a_retry_succeeds_once_it_is_back() {
    let (_conn, ch) = channel().await;
    let s = quick_server().await;
    let queue = unique("sy.test.down");
    declare_queue(&ch, &queue).await;
    let port = free_port();
    // The default exchange routes by queue name.
    let (id, _) = target(
        &s,
        "down",
        &format!("amqp://127.0.0.1:{port}/%2f?routingKey={queue}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "d1"})).await;
    let inv = invocation_for(&published, &id);
    let error = wait_error(&s, &inv, &format!("RabbitMQ connect to 127.0.0.1:{port}")).await;
    assert!(error.contains("vhost '/'"), "{error}");

    let upstream = BROKER.parse().unwrap();
    let proxy = Proxy::start(port, upstream).await;
    wait_status(&s, &inv, "delivered").await;
    assert_eq!(
        get(&ch, &queue)
            .await
            .delivery
            .properties
            .message_id()
            .as_ref()
            .unwrap()
            .as_str(),
        inv
    );

    // The kept connection is cut: the next delivery fails, and succeeds once the broker is back.
    proxy.stop().await;
    let published = publish(&s, "user.human.added", json!({"userName": "d2"})).await;
    let inv2 = invocation_for(&published, &id);
    wait_invocation(&s, &inv2, "a failed attempt", |v| attempts(v) >= 1).await;
    let proxy = Proxy::start(port, upstream).await;
    let v = wait_status(&s, &inv2, "delivered").await;
    assert_eq!(v["attempts"][0]["outcome"], "retry", "{v}");
    assert_eq!(
        get(&ch, &queue)
            .await
            .delivery
            .properties
            .message_id()
            .as_ref()
            .unwrap()
            .as_str(),
        inv2
    );
    proxy.stop().await;
    ch.queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn malformed_amqp_urls_are_400s_naming_the_field() {
    let s = TestServer::start().await;
    for (url, needle) in [
        (
            "amqp://127.0.0.1:5672/%2f",
            "no exchange and no routing key",
        ),
        (
            "amqp://127.0.0.1:5672/?exchange=e&queue=q",
            "unknown parameter",
        ),
        (
            "amqp://u:***@127.0.0.1:5672/?exchange=e",
            "stands for a stored one",
        ),
    ] {
        let (st, err) = s
            .post(
                &format!("{}/CreateTarget", crate::calls::CONNECT),
                json!({"name": "bad", "endpoint": url, "timeout": "5s",
                       "restWebhook": {"interruptOnError": false}}),
            )
            .await;
        assert_eq!(st, 400, "{url}: {err}");
        let message = err["message"].as_str().unwrap_or("");
        assert!(
            message.contains("endpoint") && message.contains(needle),
            "{url}: {message}"
        );
        let (st, err) = s
            .post(
                crate::delivery::SUBS,
                json!({"name": "bad", "triggerId": "idn:identity-created", "type": "HTTP",
                       "httpConfig": {"url": url}}),
            )
            .await;
        crate::sailpoint::assert_sp_error(st, &err, 400, &["httpConfig.url", needle]);
    }
}
