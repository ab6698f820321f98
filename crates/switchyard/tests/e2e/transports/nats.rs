//! NATS destinations (`nats://HOST:PORT/SUBJECT`) on the NATS server at 127.0.0.1:4222 with
//! JetStream: a core publish arrives with its signature metadata as headers; a subject a stream
//! captures is acknowledged by the stream; a server that is down gives a failed attempt with a
//! clear error and a retry that succeeds once it is up; a restCall target answers by
//! request-reply and its reply replaces the payload.

use super::free_port;
use crate::calls::{call, call_kind, execution as call_execution, ADD_HUMAN};
use crate::delivery::{
    execution, invocation_for, metric, metrics_text, publish, server, target, wait_invocation,
    wait_status, WAIT,
};
use crate::support::TestServer;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;

const NATS: &str = "127.0.0.1:4222";

async fn nats() -> async_nats::Client {
    async_nats::connect(NATS)
        .await
        .expect("the NATS server at 127.0.0.1:4222 (JetStream on) is needed; .ci/run starts it")
}

fn unique(prefix: &str) -> String {
    format!("{prefix}.{}", uuid::Uuid::new_v4().simple())
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Checks a ZITADEL-Signature header over `body` with `key`.
pub fn signed_with(header: &str, body: &[u8], key: &str) -> bool {
    let mut t = "";
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1.push(v.to_string()),
            _ => return false,
        }
    }
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(body);
    v1.contains(&hex::encode(hmac_sha256(key.as_bytes(), &signed)))
}

#[tokio::test]
async fn a_core_publish_arrives_with_its_signature_metadata() {
    let s = server().await;
    let client = nats().await;
    let subject = unique("sy.test.core");
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let (id, key) = target(
        &s,
        "to nats",
        &format!("nats://{NATS}/{subject}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let payload = json!({"userName": "ann"});
    let published = publish(&s, "user.human.added", payload.clone()).await;
    let inv = invocation_for(&published, &id);

    let msg = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a message within the wait")
        .unwrap();
    let body: Value = serde_json::from_slice(&msg.payload).unwrap();
    assert_eq!(body["event_type"], "user.human.added");
    assert_eq!(body["event_payload"], payload);
    let headers = msg.headers.expect("the delivery metadata as headers");
    let header = |k: &str| headers.get(k).map(|v| v.as_str().to_string());
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("webhook-id").as_deref(), Some(inv.as_str()));
    let sig = header("zitadel-signature").expect("ZITADEL-Signature");
    assert!(signed_with(&sig, &msg.payload, &key), "{sig}");
    assert!(!signed_with(&sig, &msg.payload, "another-key-0123456789"));

    let v = wait_status(&s, &inv, "delivered").await;
    let a = &v["attempts"][0];
    assert_eq!(a["transport"], "nats", "{v}");
    assert_eq!(a["destination"], format!("nats://{NATS}/{subject}"));
    assert_eq!(a["outcome"], "delivered");
    assert!(a["responseExcerpt"]
        .as_str()
        .unwrap()
        .contains("no stream captures it"));
    // Metrics count attempts by the kind of destination.
    let text = metrics_text(&s).await;
    let sample = |t: &str, o: &str| {
        metric(
            &text,
            &format!("switchyard_transport_deliveries_total{{transport=\"{t}\",outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(sample("nats", "delivered"), Some(1.0), "{text}");
    assert_eq!(sample("http", "delivered"), Some(0.0), "{text}");
}

/// A JetStream stream capturing `subject`, deleted on drop of the returned name's owner.
async fn create_stream(client: &async_nats::Client, name: &str, subject: &str) {
    let cfg = json!({"name": name, "subjects": [subject], "storage": "memory",
                     "duplicate_window": 60_000_000_000u64});
    let reply = client
        .request(
            format!("$JS.API.STREAM.CREATE.{name}"),
            cfg.to_string().into(),
        )
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&reply.payload).unwrap();
    assert!(v.get("error").is_none(), "stream create: {v}");
}

async fn delete_stream(client: &async_nats::Client, name: &str) {
    let _ = client
        .request(format!("$JS.API.STREAM.DELETE.{name}"), "".into())
        .await;
}

#[tokio::test]
async fn a_subject_a_stream_captures_is_acknowledged_by_the_stream() {
    let s = server().await;
    let client = nats().await;
    let subject = unique("sy.test.js");
    let stream = format!("SYTEST_{}", uuid::Uuid::new_v4().simple());
    create_stream(&client, &stream, &subject).await;
    let (id, key) = target(
        &s,
        "to a stream",
        &format!("nats://{NATS}/{subject}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "bo"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_status(&s, &inv, "delivered").await;
    let excerpt = v["attempts"][0]["responseExcerpt"].as_str().unwrap_or("");
    assert_eq!(excerpt, format!("stream={stream} seq=1"), "{v}");

    // The stored message carries the body and the signature metadata.
    let reply = client
        .request(
            format!("$JS.API.STREAM.MSG.GET.{stream}"),
            json!({"seq": 1}).to_string().into(),
        )
        .await
        .unwrap();
    let got: Value = serde_json::from_slice(&reply.payload).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let data = b64
        .decode(got["message"]["data"].as_str().unwrap())
        .unwrap();
    let hdrs = String::from_utf8(
        b64.decode(got["message"]["hdrs"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    let body: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(body["event_payload"]["userName"], "bo");
    assert!(hdrs.contains(&format!("Nats-Msg-Id: {inv}")), "{hdrs}");
    let sig = hdrs
        .lines()
        .find_map(|l| l.strip_prefix("zitadel-signature: "))
        .expect("a signature header");
    assert!(signed_with(sig.trim(), &data, &key));
    delete_stream(&client, &stream).await;
}

#[tokio::test]
async fn a_server_that_is_down_fails_the_attempt_and_a_retry_succeeds_once_it_is_up() {
    let s = TestServer::start_with(|c| {
        c.retry_schedule = ["200ms"; 50].join(",");
        c.delivery.poll_interval = "100ms".into();
    })
    .await;
    let port = free_port();
    let subject = unique("sy.test.down");
    let (id, _) = target(
        &s,
        "down",
        &format!("nats://127.0.0.1:{port}/{subject}"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"userName": "cy"})).await;
    let inv = invocation_for(&published, &id);
    let v = wait_invocation(&s, &inv, "two failed attempts", |v| {
        v["attempts"].as_array().map_or(0, Vec::len) >= 2
    })
    .await;
    let first = &v["attempts"][0];
    assert_eq!(first["outcome"], "retry", "{v}");
    let text = metrics_text(&s).await;
    assert!(
        metric(
            &text,
            "switchyard_transport_deliveries_total{transport=\"nats\",outcome=\"retried\"}"
        ) >= Some(1.0),
        "{text}"
    );
    let error = first["error"].as_str().unwrap_or("");
    assert!(
        error.contains(&format!("NATS connect to 127.0.0.1:{port}")),
        "{error}"
    );

    // The server comes up on that port; the next retry delivers.
    let mut nats_server = tokio::process::Command::new("nats-server")
        .args(["-a", "127.0.0.1", "-p", &port.to_string()])
        .kill_on_drop(true)
        .spawn()
        .expect("nats-server is installed");
    let client = {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match async_nats::connect(format!("127.0.0.1:{port}")).await {
                Ok(c) => break c,
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await
                }
                Err(e) => panic!("nats-server did not start: {e}"),
            }
        }
    };
    let mut sub = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let v = wait_status(&s, &inv, "delivered").await;
    assert_eq!(
        v["attempts"].as_array().unwrap().last().unwrap()["outcome"],
        "delivered"
    );
    let msg = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        msg.headers.unwrap().get("webhook-id").unwrap().as_str(),
        inv
    );
    let _ = nats_server.kill().await;
}

#[tokio::test]
async fn a_rest_call_target_answers_by_request_reply() {
    let s = TestServer::start().await;
    let client = nats().await;
    let subject = unique("sy.test.call");
    let mut requests = client.subscribe(subject.clone()).await.unwrap();
    client.flush().await.unwrap();
    let responder = client.clone();
    let answered = tokio::spawn(async move {
        let req = requests.next().await.unwrap();
        let body: Value = serde_json::from_slice(&req.payload).unwrap();
        let sig = req
            .headers
            .as_ref()
            .and_then(|h| h.get("zitadel-signature"))
            .map(|v| v.as_str().to_string());
        responder
            .publish(
                req.reply.unwrap(),
                json!({"name": "from-nats"}).to_string().into(),
            )
            .await
            .unwrap();
        responder.flush().await.unwrap();
        (body, sig, req.payload.to_vec())
    });
    let (id, key) = crate::calls::target(
        &s,
        "nats call",
        &format!("nats://{NATS}/{subject}"),
        call_kind(true),
        "5s",
    )
    .await;
    call_execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&id]).await;
    let (st, body, _) = call(
        &s,
        json!({"condition": {"request": {"method": ADD_HUMAN}}, "payload": {"name": "orig"}}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, json!({"payload": {"name": "from-nats"}}));
    let (sent, sig, raw) = answered.await.unwrap();
    assert_eq!(sent["request"], json!({"name": "orig"}));
    assert!(signed_with(&sig.expect("signed"), &raw, &key));
}

#[tokio::test]
async fn malformed_nats_urls_are_400s_in_each_dialect_naming_the_field() {
    let s = TestServer::start().await;
    for (url, needle) in [
        ("nats://127.0.0.1:4222", "no subject"),
        ("nats://127.0.0.1:4222/orders.*", "not a NATS subject"),
        ("nats://u@127.0.0.1:4222/orders", "needs a password"),
        ("kafka://127.0.0.1:9092/orders", "scheme"),
    ] {
        let (st, err) = s
            .post(
                &format!("{}/CreateTarget", crate::calls::CONNECT),
                json!({"name": "bad", "endpoint": url, "timeout": "5s",
                       "restWebhook": {"interruptOnError": false}}),
            )
            .await;
        assert_eq!(st, 400, "{url}: {err}");
        assert_eq!(err["code"], "invalid_argument", "{err}");
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
