//! MQTT destinations (`mqtt://HOST:PORT/TOPIC`) on the Mosquitto broker at 127.0.0.1:1883: a
//! QoS 1 publish arrives with the body, its content type and the signature metadata as MQTT 5
//! user properties, and is delivered on the broker's PUBACK; a broker that goes down (also under
//! a kept connection) gives failed attempts and a retry that succeeds once it is back. Topics are
//! unique per test and read back with a subscriber written with rumqttc.

use super::nats::signed_with;
use super::{free_port, Proxy};
use crate::delivery::{
    execution, invocation_for, metric, metrics_text, publish, target, wait_invocation, wait_status,
    WAIT,
};
use crate::support::TestServer;
use rumqttc::v5::mqttbytes::v5::Publish;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, Event, Incoming, MqttOptions};
use serde_json::{json, Value};
use tokio::sync::mpsc;

const BROKER: &str = "127.0.0.1:1883";

/// A subscriber to `topic` on `port`: the messages it receives.
pub async fn subscribe(port: u16, topic: &str) -> (AsyncClient, mpsc::UnboundedReceiver<Publish>) {
    let id = format!("sy-test-{}", uuid::Uuid::new_v4().simple());
    let (client, mut eventloop) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 16);
    client
        .subscribe(topic.to_string(), QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut subscribed_tx = Some(subscribed_tx);
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    if let Some(t) = subscribed_tx.take() {
                        let _ = t.send(());
                    }
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    if tx.send(p).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    panic!("Mosquitto at 127.0.0.1:{port} is needed (.ci/run checks it is up): {e}")
                }
            }
        }
    });
    tokio::time::timeout(WAIT, subscribed)
        .await
        .expect("subscribed within the wait")
        .unwrap();
    (client, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Publish>) -> Publish {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a message within the wait")
        .unwrap()
}

fn property(p: &Publish, k: &str) -> Option<String> {
    p.properties
        .as_ref()?
        .user_properties
        .iter()
        .find(|(name, _)| name == k)
        .map(|(_, v)| v.clone())
}

fn unique_topic(prefix: &str) -> String {
    format!("sy/test/{prefix}/{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn a_publish_arrives_with_its_signature_metadata_and_is_delivered_on_puback() {
    let topic = unique_topic("qos1");
    let (_sub, mut rx) = subscribe(1883, &topic).await;
    let s = TestServer::start().await;
    let url = format!("mqtt://{BROKER}/{topic}");
    let (id, key) = target(
        &s,
        "to mqtt",
        &url,
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let payload = json!({"userName": "mo"});
    let published = publish(&s, "user.human.added", payload.clone()).await;
    let inv = invocation_for(&published, &id);

    let p = next(&mut rx).await;
    assert_eq!(p.topic, topic.as_bytes());
    assert_eq!(p.qos, QoS::AtLeastOnce);
    let body: Value = serde_json::from_slice(&p.payload).unwrap();
    assert_eq!(body["event_payload"], payload);
    assert_eq!(
        p.properties.as_ref().unwrap().content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(property(&p, "webhook-id").as_deref(), Some(inv.as_str()));
    let sig = property(&p, "zitadel-signature").expect("a signature");
    assert!(signed_with(&sig, &p.payload, &key), "{sig}");

    let v = wait_status(&s, &inv, "delivered").await;
    let a = &v["attempts"][0];
    assert_eq!(a["transport"], "mqtt", "{v}");
    assert_eq!(a["destination"], url);
    assert_eq!(a["responseExcerpt"], format!("PUBACK (topic {topic})"));
    let text = metrics_text(&s).await;
    assert_eq!(
        metric(
            &text,
            "switchyard_transport_deliveries_total{transport=\"mqtt\",outcome=\"delivered\"}"
        ),
        Some(1.0),
        "{text}"
    );

    // Kept connection: a second delivery goes over it too.
    let published = publish(&s, "user.human.added", json!({"userName": "mo2"})).await;
    let inv2 = invocation_for(&published, &id);
    assert_eq!(
        property(&next(&mut rx).await, "webhook-id").as_deref(),
        Some(inv2.as_str())
    );
    wait_status(&s, &inv2, "delivered").await;
}

#[tokio::test]
async fn a_broker_that_goes_down_fails_attempts_and_a_retry_succeeds_once_it_is_back() {
    let topic = unique_topic("down");
    let (_sub, mut rx) = subscribe(1883, &topic).await;
    let s = TestServer::start_with(|c| {
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await;
    let port = free_port();
    let (id, _) = target(
        &s,
        "down",
        &format!("mqtt://127.0.0.1:{port}/{topic}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "m1"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "two failed attempts", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 2
    })
    .await;
    let first = &v["attempts"][0];
    assert_eq!(first["outcome"], "retry", "{v}");
    let error = first["error"].as_str().unwrap_or("");
    assert!(
        error.contains(&format!("MQTT connect to 127.0.0.1:{port}")),
        "{error}"
    );

    let upstream = BROKER.parse().unwrap();
    let proxy = Proxy::start(port, upstream).await;
    wait_status(&s, &inv, "delivered").await;
    assert_eq!(
        property(&next(&mut rx).await, "webhook-id").as_deref(),
        Some(inv.as_str())
    );

    // The kept connection is cut: the next delivery fails, and succeeds once the broker is back.
    proxy.stop().await;
    let published = publish(&s, "user.human.added", json!({"userName": "m2"})).await;
    let inv2 = invocation_for(&published, &id);
    wait_invocation(&s, &inv2, "a failed attempt", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 1
    })
    .await;
    let proxy = Proxy::start(port, upstream).await;
    let v = wait_status(&s, &inv2, "delivered").await;
    assert_eq!(v["attempts"][0]["outcome"], "retry", "{v}");
    assert_eq!(
        property(&next(&mut rx).await, "webhook-id").as_deref(),
        Some(inv2.as_str())
    );
    proxy.stop().await;
}

#[tokio::test]
async fn malformed_mqtt_urls_are_400s_naming_the_field() {
    let s = TestServer::start().await;
    for (url, needle) in [
        ("mqtt://127.0.0.1:1883", "no topic"),
        ("mqtt://127.0.0.1:1883/a/+/c", "wildcards"),
        ("mqtt://127.0.0.1:1883/$SYS/x", "reserved"),
        ("mqtt://u:***@127.0.0.1:1883/a", "stands for a stored one"),
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
    }
}
