//! The prepare stage: one invocation and its route's settings become a transport-neutral
//! [`Prepared`] message — the body in the receiver's format and the metadata (content type,
//! webhook id and timestamp, signature, authorization) that HTTP sends as headers and brokers as
//! message headers, properties or fields. The recorded copy of the metadata masks credentials;
//! bodies (which carry invocation secrets for request-response deliveries) are never recorded or
//! logged.

use crate::routing::{BodyStyle, Destination, Signing};
use serde_json::{json, Value};
use switchyard_core::sailpoint::DispatchMode;
use switchyard_core::signing::{standard_webhooks_signature, zitadel_signature};
use switchyard_store::queue::{Claimed, InvocationKind};

/// A message ready to send by any transport.
#[derive(Debug)]
pub struct Prepared {
    /// The trigger id or event type (EventBridge's `DetailType`).
    pub event_type: String,
    pub body: Vec<u8>,
    /// Metadata, lower-case names: HTTP headers, or a broker message's headers/properties.
    pub headers: Vec<(&'static str, String)>,
}

/// Builds the message for one attempt of `inv` to `dest` at unix time `now_secs`. `rr` is the
/// request-response metadata when the invocation waits for an output.
pub fn prepare(
    inv: &Claimed,
    dest: &Destination,
    rr: Option<&ResponseMeta>,
    now_secs: i64,
) -> Prepared {
    let style = match (rr, dest.body) {
        (Some(_), BodyStyle::SailPointFireAndForget) => BodyStyle::SailPointRequestResponse,
        (_, style) => style,
    };
    // A restAsync target of a call chain gets the call's body as built then.
    let body = if inv.kind == InvocationKind::Call {
        inv.payload.as_bytes().to_vec()
    } else {
        self::body(inv, style, rr)
    };
    let headers = headers(
        inv,
        &body,
        &dest.signing,
        dest.authorization.as_deref(),
        now_secs,
    );
    Prepared {
        event_type: inv.event_type.clone(),
        body,
        headers,
    }
}

impl Prepared {
    /// The headers as recorded in the attempt log: credentials masked.
    pub fn recorded_headers(&self) -> Value {
        let mut map = serde_json::Map::new();
        for (k, v) in &self.headers {
            let shown = if *k == "authorization" {
                let scheme = v.split(' ').next().unwrap_or("");
                format!("{scheme} ***")
            } else {
                v.clone()
            };
            map.insert((*k).to_string(), Value::String(shown));
        }
        Value::Object(map)
    }
}

/// What a request-response delivery tells the subscriber about answering.
#[derive(Debug, Clone)]
pub struct ResponseMeta {
    pub mode: DispatchMode,
    /// `{public_url}/trigger-invocations/v1/{id}/complete`.
    pub callback_url: String,
    /// The invocation secret the callback must present.
    pub secret: String,
}

/// SailPoint's `responseMode` value.
fn response_mode(mode: DispatchMode) -> &'static str {
    match mode {
        DispatchMode::Sync => "sync",
        DispatchMode::Async => "async",
        DispatchMode::Dynamic => "dynamic",
    }
}

/// Builds the body of `inv` in `style`. `rr` is required for
/// [`BodyStyle::SailPointRequestResponse`] (without it the delivery is announced as SYNC).
pub fn body(inv: &Claimed, style: BodyStyle, rr: Option<&ResponseMeta>) -> Vec<u8> {
    match style {
        BodyStyle::SailPointRequestResponse => {
            let mode = rr.map_or(DispatchMode::Sync, |r| r.mode);
            let mut meta = json!({
                "triggerId": inv.event_type,
                "triggerType": "requestResponse",
                "invocationId": inv.id,
                "responseMode": response_mode(mode),
            });
            if let (Some(r), false) = (rr, mode == DispatchMode::Sync) {
                meta["callbackURL"] = json!(r.callback_url);
                meta["secret"] = json!(r.secret);
            }
            splice_metadata(&inv.payload, &meta)
        }
        BodyStyle::SailPointFireAndForget => {
            let meta = json!({
                "triggerId": inv.event_type,
                "triggerType": "fireAndForget",
                "invocationId": inv.id,
            });
            splice_metadata(&inv.payload, &meta)
        }
        BodyStyle::ZitadelEvent => {
            let payload: Value = serde_json::from_str(&inv.payload).unwrap_or(Value::Null);
            let aggregate_type = inv.event_type.split('.').next().unwrap_or("");
            let field = |k: &str| {
                payload
                    .get(k)
                    .cloned()
                    .unwrap_or(Value::String(String::new()))
            };
            serde_json::to_vec(&json!({
                "aggregateID": field("aggregateID"),
                "aggregateType": payload.get("aggregateType").cloned().unwrap_or(json!(aggregate_type)),
                "resourceOwner": field("resourceOwner"),
                "instanceID": inv.instance.as_str(),
                "version": payload.get("version").cloned().unwrap_or(json!("v1")),
                "sequence": payload.get("sequence").cloned().unwrap_or(json!(0)),
                "event_type": inv.event_type,
                "created_at": inv.event_created_at.rfc3339(),
                "userID": field("userID"),
                "event_payload": payload.get("event_payload").cloned().unwrap_or(payload.clone()),
            }))
            .unwrap_or_default()
        }
    }
}

/// Appends `"_metadata": meta` to a JSON object's text without re-parsing it (the payload was
/// checked to be an object without `_metadata` when it was accepted).
fn splice_metadata(payload: &str, meta: &Value) -> Vec<u8> {
    let trimmed = payload.trim_end();
    let Some(open) = trimmed.strip_suffix('}') else {
        return serde_json::to_vec(&json!({ "_metadata": meta })).unwrap_or_default();
    };
    let empty = open.trim_start().trim_start_matches('{').trim().is_empty();
    let mut out = Vec::with_capacity(payload.len() + 128);
    out.extend_from_slice(open.as_bytes());
    out.extend_from_slice(if empty {
        b"\"_metadata\":"
    } else {
        b",\"_metadata\":"
    });
    out.extend_from_slice(meta.to_string().as_bytes());
    out.push(b'}');
    out
}

/// `prepared` with its body replaced by `encoded` (a JWS or JWE of it): the signature headers
/// computed again over the new body, the content type replaced, other metadata kept.
pub fn reencoded(
    inv: &Claimed,
    dest: &Destination,
    prepared: Prepared,
    encoded: crate::payload_type::Encoded,
    now_secs: i64,
) -> Prepared {
    let mut headers = headers(
        inv,
        &encoded.body,
        &dest.signing,
        dest.authorization.as_deref(),
        now_secs,
    );
    for (k, v) in headers.iter_mut() {
        if *k == "content-type" {
            *v = encoded.content_type.to_string();
        }
    }
    let kept: Vec<_> = prepared
        .headers
        .into_iter()
        .filter(|(k, _)| !headers.iter().any(|(n, _)| n == k))
        .collect();
    headers.extend(kept);
    Prepared {
        event_type: prepared.event_type,
        body: encoded.body,
        headers,
    }
}

/// Headers for a signed request sent at unix time `now_secs`.
pub fn headers(
    inv: &Claimed,
    body: &[u8],
    signing: &Signing,
    authorization: Option<&str>,
    now_secs: i64,
) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("content-type", "application/json".to_string()),
        (
            "user-agent",
            concat!("Switchyard/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    match signing {
        Signing::StandardWebhooks(keys) => {
            h.push(("webhook-id", inv.id.clone()));
            h.push(("webhook-timestamp", now_secs.to_string()));
            if !keys.is_empty() {
                h.push((
                    "webhook-signature",
                    standard_webhooks_signature(keys, &inv.id, now_secs, body),
                ));
            }
        }
        Signing::Zitadel(keys) => {
            if !keys.is_empty() {
                let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
                h.push((
                    "zitadel-signature",
                    zitadel_signature(&refs, now_secs, body),
                ));
            }
            h.push(("webhook-id", inv.id.clone()));
        }
    }
    if let Some(a) = authorization {
        h.push(("authorization", a.to_string()));
    }
    h
}

/// The message for a body already encoded for the route's format (CloudEvents): signed over
/// exactly that body, with its content type and extra headers.
pub fn prepare_encoded(
    inv: &Claimed,
    dest: &Destination,
    encoded: crate::cloudevents::Encoded,
    now_secs: i64,
) -> Prepared {
    let mut headers = headers(
        inv,
        &encoded.body,
        &dest.signing,
        dest.authorization.as_deref(),
        now_secs,
    );
    for (k, v) in headers.iter_mut() {
        if *k == "content-type" {
            *v = encoded.content_type.to_string();
        }
    }
    headers.extend(encoded.headers);
    Prepared {
        event_type: inv.event_type.clone(),
        body: encoded.body,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_spliced_into_objects() {
        let meta = json!({"a": 1});
        let v: Value =
            serde_json::from_slice(&splice_metadata(r#"{"x": [1, {"y": "}"}] }"#, &meta)).unwrap();
        assert_eq!(v, json!({"x": [1, {"y": "}"}], "_metadata": {"a": 1}}));
        let v: Value = serde_json::from_slice(&splice_metadata("{ }", &meta)).unwrap();
        assert_eq!(v, json!({"_metadata": {"a": 1}}));
    }

    fn claimed() -> Claimed {
        Claimed {
            id: "inv-1".into(),
            instance: switchyard_core::InstanceId::default_instance(),
            event_id: "e".into(),
            event_type: "acme:approve".into(),
            payload: r#"{"orderId":"o-1"}"#.into(),
            event_created_at: switchyard_core::Timestamp(0),
            route_kind: switchyard_store::queue::RouteKind::Subscription,
            route_id: "s".into(),
            kind: switchyard_store::queue::InvocationKind::RealTime,
            attempts_done: 0,
            round_attempts: 0,
            deadline_at: Some(switchyard_core::Timestamp(1000)),
            cancel_reason: None,
            ordered: false,
        }
    }

    #[test]
    fn request_response_metadata_carries_the_callback_unless_sync() {
        let meta = |mode| ResponseMeta {
            mode,
            callback_url: "http://h/trigger-invocations/v1/inv-1/complete".into(),
            secret: "s3cret".into(),
        };
        let style = BodyStyle::SailPointRequestResponse;
        let v: Value =
            serde_json::from_slice(&body(&claimed(), style, Some(&meta(DispatchMode::Async))))
                .unwrap();
        assert_eq!(v["orderId"], "o-1");
        assert_eq!(v["_metadata"]["triggerType"], "requestResponse");
        assert_eq!(v["_metadata"]["responseMode"], "async");
        assert_eq!(v["_metadata"]["invocationId"], "inv-1");
        assert_eq!(v["_metadata"]["secret"], "s3cret");
        assert_eq!(
            v["_metadata"]["callbackURL"],
            "http://h/trigger-invocations/v1/inv-1/complete"
        );
        let v: Value =
            serde_json::from_slice(&body(&claimed(), style, Some(&meta(DispatchMode::Sync))))
                .unwrap();
        assert_eq!(v["_metadata"]["responseMode"], "sync");
        assert!(v["_metadata"].get("secret").is_none());
        assert!(v["_metadata"].get("callbackURL").is_none());
    }

    #[test]
    fn recorded_headers_mask_credentials() {
        let p = Prepared {
            event_type: "t".into(),
            body: vec![],
            headers: vec![
                ("authorization", "Bearer s3cret".into()),
                ("webhook-id", "i".into()),
            ],
        };
        let rec = p.recorded_headers();
        assert_eq!(rec["authorization"], "Bearer ***");
        assert_eq!(rec["webhook-id"], "i");
        assert!(!rec.to_string().contains("s3cret"));
    }
}
