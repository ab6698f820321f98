//! CloudEvents 1.0 over HTTP, for routes whose policy asks for it: structured mode (the event as
//! an `application/cloudevents+json` document) or binary mode (attributes in `ce-*` headers, the
//! payload as the body). The attributes map the invocation: `id` is the webhook id (the same on
//! every retry, so receivers deduplicate on it), `source` a URI naming the instance and the
//! route, `type` the trigger or event type, `time` when the event was accepted. The body built
//! here is the one that is signed and sent.

use serde_json::{json, Value};
use switchyard_core::policy::BodyFormat;
use switchyard_store::queue::{Claimed, RouteKind};

/// The CloudEvents spec version emitted.
pub const SPEC_VERSION: &str = "1.0";
/// The payload's media type (`datacontenttype`).
pub const DATA_CONTENT_TYPE: &str = "application/json";
/// Structured mode's media type.
pub const STRUCTURED_CONTENT_TYPE: &str = "application/cloudevents+json";

/// A CloudEvents request: its body, its content type, and (binary mode) its `ce-*` headers.
#[derive(Debug)]
pub struct Encoded {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
}

/// `source`: `{base}/instances/{instance}/{subscriptions|targets}/{route id}`.
pub fn source(base: &str, inv: &Claimed) -> String {
    let kind = match inv.route_kind {
        RouteKind::Subscription => "subscriptions",
        RouteKind::Target => "targets",
    };
    format!(
        "{}/instances/{}/{kind}/{}",
        base.trim_end_matches('/'),
        inv.instance.as_str(),
        escape(&inv.route_id)
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters (route ids are generated, but
/// the URI must stay valid whatever they hold).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Encodes `inv` in `format`; `None` for [`BodyFormat::Native`].
pub fn encode(format: BodyFormat, inv: &Claimed, base: &str) -> Option<Encoded> {
    let source = source(base, inv);
    let time = inv.event_created_at.rfc3339();
    match format {
        BodyFormat::Native => None,
        BodyFormat::CloudEventsStructured => {
            let attributes = json!({
                "specversion": SPEC_VERSION,
                "id": inv.id,
                "source": source,
                "type": inv.event_type,
                "time": time,
                "datacontenttype": DATA_CONTENT_TYPE,
            });
            Some(Encoded {
                body: with_data(&attributes, &inv.payload),
                content_type: STRUCTURED_CONTENT_TYPE,
                headers: Vec::new(),
            })
        }
        BodyFormat::CloudEventsBinary => Some(Encoded {
            body: inv.payload.as_bytes().to_vec(),
            content_type: DATA_CONTENT_TYPE,
            headers: vec![
                ("ce-specversion", SPEC_VERSION.to_string()),
                ("ce-id", header_value(&inv.id)),
                ("ce-source", header_value(&source)),
                ("ce-type", header_value(&inv.event_type)),
                ("ce-time", time),
            ],
        }),
    }
}

/// An attribute as a header value (HTTP binding 3.1.3.2): printable ASCII but space, `"` and
/// `%` as it is, everything else percent-encoded (UTF-8 bytes).
fn header_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'"' && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The attributes' object with `"data"` added: the payload's text as it was accepted (a JSON
/// object, checked then), so it is neither parsed nor re-encoded per delivery.
fn with_data(attributes: &Value, payload: &str) -> Vec<u8> {
    let attributes = attributes.to_string();
    let rest = attributes.strip_prefix('{').unwrap_or(&attributes);
    let mut out = Vec::with_capacity(payload.len() + attributes.len() + 8);
    out.extend_from_slice(b"{\"data\":");
    out.extend_from_slice(payload.as_bytes());
    out.push(b',');
    out.extend_from_slice(rest.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::{InstanceId, Timestamp};
    use switchyard_store::queue::InvocationKind;

    fn claimed(payload: &str) -> Claimed {
        Claimed {
            id: "inv-1".into(),
            instance: InstanceId::parse("acme").unwrap(),
            event_id: "e".into(),
            event_type: "idn:identity-created".into(),
            payload: payload.into(),
            event_created_at: Timestamp(1_700_000_000_000),
            route_kind: RouteKind::Subscription,
            route_id: "s 1/x".into(),
            kind: InvocationKind::RealTime,
            attempts_done: 0,
            round_attempts: 0,
            deadline_at: None,
            cancel_reason: None,
            ordered: false,
        }
    }

    #[test]
    fn structured_mode_embeds_the_payload_as_data() {
        let inv = claimed(r#"{"identity": {"id": "A", "note": "data\":null"}}"#);
        let e = encode(
            BodyFormat::CloudEventsStructured,
            &inv,
            "https://sy.example/",
        )
        .unwrap();
        assert_eq!(e.content_type, "application/cloudevents+json");
        assert!(e.headers.is_empty());
        let v: Value = serde_json::from_slice(&e.body).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "inv-1");
        assert_eq!(
            v["source"],
            "https://sy.example/instances/acme/subscriptions/s%201%2Fx"
        );
        assert_eq!(v["type"], "idn:identity-created");
        assert_eq!(v["time"], "2023-11-14T22:13:20Z");
        assert_eq!(v["datacontenttype"], "application/json");
        assert_eq!(v["data"]["identity"]["id"], "A");
        assert_eq!(v["data"]["identity"]["note"], "data\":null");
    }

    #[test]
    fn binary_mode_sends_the_payload_and_ce_headers() {
        let inv = claimed(r#"{"a":1}"#);
        let e = encode(BodyFormat::CloudEventsBinary, &inv, "http://h").unwrap();
        assert_eq!(e.body, br#"{"a":1}"#);
        assert_eq!(e.content_type, "application/json");
        let h: std::collections::HashMap<_, _> = e.headers.into_iter().collect();
        assert_eq!(h["ce-specversion"], "1.0");
        assert_eq!(h["ce-id"], "inv-1");
        assert_eq!(h["ce-type"], "idn:identity-created");
        // The source's own escapes are escaped again in a header (`%` is not header-safe).
        assert_eq!(
            h["ce-source"],
            "http://h/instances/acme/subscriptions/s%25201%252Fx"
        );
        assert_eq!(header_value("a b\"ü"), "a%20b%22%C3%BC");
        assert_eq!(h["ce-time"], "2023-11-14T22:13:20Z");
        assert!(encode(BodyFormat::Native, &inv, "http://h").is_none());
    }
}
