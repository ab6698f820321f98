//! The SQS transport (`sqs://REGION/ACCOUNT/QUEUE`): each delivery is one `SendMessage` (AWS
//! JSON protocol, `AmazonSQS.SendMessage`) with the body every transport sends and the delivery
//! metadata as message attributes (`content-type`, `webhook-id`, `webhook-timestamp`,
//! `webhook-signature` or `zitadel-signature`, under the same lower-case names the other brokers
//! use). A FIFO queue (`.fifo`) gets `MessageGroupId` and `MessageDeduplicationId` equal to the
//! webhook id, so a retry of an attempt SQS already took is dropped by SQS's deduplication
//! rather than delivered twice.
//!
//! Requests are signed with the same credential chain as EventBridge and go to the region's
//! endpoint or the operator's overrides (`AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL`). The tenant
//! names only a region (checked to be spelled like one), so no outbound check applies: the
//! address connected to is AWS's or the operator's. An AWS error, throttling or a network error
//! is a failed attempt, retried on the normal schedule; a message SQS can never take (over its
//! 1 MiB cap, or refused by SQS as too long for the queue or as invalid content) fails at once.

use super::aws::{attempt, Aws, Operation};
use super::{Response, SendError};
use crate::prepare::Prepared;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::delivery_url::{DeliveryUrl, SqsTarget};

/// SQS takes at most 10 attributes per message; the delivery metadata goes first.
const MAX_ATTRIBUTES: usize = 10;
/// The largest message any queue takes (body plus attribute names, types and values); a queue's
/// `MaximumMessageSize` may be lower, which SQS itself answers.
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// SQS error codes that are about the message itself (too long for the queue, characters SQS
/// refuses): another try of the same message gets the same answer.
const MESSAGE_REFUSED: [&str; 3] = [
    "InvalidMessageContents",
    "InvalidParameterValue",
    "InvalidParameterValueException",
];

/// Metadata that travels as attributes, in this order; other headers (CloudEvents `ce-*`)
/// follow while there is room. `authorization` and `user-agent` mean nothing on a queue.
const FIRST: [&str; 5] = [
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "zitadel-signature",
];

pub struct Sqs {
    aws: Arc<Aws>,
}

impl Sqs {
    pub fn new(aws: Arc<Aws>) -> Self {
        Self { aws }
    }

    /// `SendMessage` of one delivery.
    pub async fn send(&self, url: &DeliveryUrl, msg: Prepared, timeout: Duration) -> Response {
        let started = Instant::now();
        let target = match SqsTarget::of(url.url()) {
            Ok(t) => t,
            Err(e) => return Response::failed(SendError::Failed(e), started),
        };
        let endpoint = self.aws.env.endpoint("SQS", "sqs", Some(&target.region));
        let body = match request(&endpoint, &target, msg) {
            Ok(b) => b,
            Err(e) => return Response::failed(e, started),
        };
        let answer = self
            .aws
            .call(
                &Operation {
                    endpoint: &endpoint,
                    region: &target.region,
                    service: "sqs",
                    target: "AmazonSQS.SendMessage",
                    content_type: "application/x-amz-json-1.0",
                },
                body.to_string().into_bytes(),
                timeout,
            )
            .await;
        let call = format!("SendMessage to {}", target.queue);
        attempt("SQS", &call, answer, started, &MESSAGE_REFUSED, |body| {
            message_id(body).map(|id| format!("MessageId={id}"))
        })
    }
}

/// The queue's URL as the SQS API names it: the endpoint, the account and the queue.
fn queue_url(endpoint: &str, t: &SqsTarget) -> String {
    format!(
        "{}/{}/{}",
        endpoint.trim_end_matches('/'),
        t.account,
        t.queue
    )
}

/// The `SendMessage` request for `msg`.
fn request(endpoint: &str, t: &SqsTarget, msg: Prepared) -> Result<Value, SendError> {
    let body = String::from_utf8(msg.body).map_err(|_| {
        SendError::Rejected("the message body is not UTF-8 text, which SQS requires".into())
    })?;
    let attribute = |v: &str| json!({"DataType": "String", "StringValue": v});
    let mut attributes = Map::new();
    for name in FIRST {
        if let Some((_, v)) = msg.headers.iter().find(|(k, _)| *k == name) {
            attributes.insert(name.to_string(), attribute(v));
        }
    }
    for (k, v) in &msg.headers {
        if attributes.len() == MAX_ATTRIBUTES {
            break;
        }
        if !FIRST.contains(k) && !matches!(*k, "authorization" | "user-agent") {
            attributes.insert(k.to_string(), attribute(v));
        }
    }
    let size = body.len()
        + attributes
            .iter()
            .map(|(k, v)| k.len() + "String".len() + v["StringValue"].as_str().map_or(0, str::len))
            .sum::<usize>();
    if size > MAX_MESSAGE_BYTES {
        return Err(SendError::Rejected(format!(
            "the message is {size} bytes; SQS takes at most {MAX_MESSAGE_BYTES}"
        )));
    }
    let mut req = json!({
        "QueueUrl": queue_url(endpoint, t),
        "MessageBody": body,
        "MessageAttributes": attributes,
    });
    if t.is_fifo() {
        let id = msg
            .headers
            .iter()
            .find(|(k, _)| *k == "webhook-id")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| {
                SendError::Failed(
                    "a FIFO queue needs the webhook id as its deduplication id".into(),
                )
            })?;
        req["MessageGroupId"] = json!(id);
        req["MessageDeduplicationId"] = json!(id);
    }
    Ok(req)
}

/// The message id SQS answered with.
fn message_id(body: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("SQS answered something that is not JSON: {e}"))?;
    match v.get("MessageId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err("SQS answered without a message id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(queue: &str) -> SqsTarget {
        SqsTarget {
            region: "eu-west-1".into(),
            account: "123456789012".into(),
            queue: queue.into(),
        }
    }

    fn msg() -> Prepared {
        Prepared {
            event_type: "t".into(),
            body: br#"{"a":1}"#.to_vec(),
            headers: vec![
                ("content-type", "application/json".into()),
                ("user-agent", "Switchyard".into()),
                ("webhook-id", "inv-1".into()),
                ("webhook-timestamp", "1700000000".into()),
                ("webhook-signature", "v1,abc".into()),
                ("authorization", "Bearer x".into()),
            ],
        }
    }

    #[test]
    fn send_message_requests() {
        let r = request("http://127.0.0.1:5000/", &target("orders"), msg()).unwrap();
        assert_eq!(r["QueueUrl"], "http://127.0.0.1:5000/123456789012/orders");
        assert_eq!(r["MessageBody"], r#"{"a":1}"#);
        let attrs = r["MessageAttributes"].as_object().unwrap();
        let names: Vec<&str> = attrs.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "webhook-id",
                "webhook-signature",
                "webhook-timestamp"
            ]
        );
        assert_eq!(attrs["webhook-signature"]["StringValue"], "v1,abc");
        assert!(r.get("MessageGroupId").is_none());
        let r = request(
            "https://sqs.eu-west-1.amazonaws.com",
            &target("o.fifo"),
            msg(),
        )
        .unwrap();
        assert_eq!(r["MessageGroupId"], "inv-1");
        assert_eq!(r["MessageDeduplicationId"], "inv-1");
        let mut many = msg();
        for name in ["ce-a", "ce-b", "ce-c", "ce-d", "ce-e", "ce-f", "ce-g"] {
            many.headers.push((name, "x".into()));
        }
        let r = request("http://h", &target("q"), many).unwrap();
        assert_eq!(r["MessageAttributes"].as_object().unwrap().len(), 10);
        let mut binary = msg();
        binary.body = vec![0xff, 0xfe];
        assert!(matches!(
            request("http://h", &target("q"), binary),
            Err(SendError::Rejected(_))
        ));
    }

    #[test]
    fn a_message_over_the_cap_is_rejected_for_good() {
        let fits = |extra: usize| {
            let mut m = msg();
            let attributes: usize = [
                ("content-type", "application/json"),
                ("webhook-id", "inv-1"),
                ("webhook-timestamp", "1700000000"),
                ("webhook-signature", "v1,abc"),
            ]
            .iter()
            .map(|(k, v)| k.len() + "String".len() + v.len())
            .sum();
            m.body = vec![b'x'; MAX_MESSAGE_BYTES - attributes + extra];
            request("http://h", &target("q"), m)
        };
        assert!(fits(0).is_ok());
        match fits(1) {
            Err(SendError::Rejected(why)) => assert!(why.contains("at most 1048576"), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn message_ids() {
        assert_eq!(
            message_id(br#"{"MessageId":"m-1","MD5OfMessageBody":"x"}"#),
            Ok("m-1".into())
        );
        assert!(message_id(b"{}").is_err());
        assert!(message_id(b"<xml/>").is_err());
    }
}
