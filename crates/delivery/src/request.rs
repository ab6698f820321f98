//! Building the outbound request: the body in the receiver's format and the signature and auth
//! headers. The recorded copy of the headers masks credentials.

use crate::routing::{BodyStyle, Signing};
use serde_json::{json, Value};
use switchyard_core::signing::{standard_webhooks_signature, zitadel_signature};
use switchyard_store::queue::Claimed;

/// A request ready to send.
#[derive(Debug)]
pub struct Prepared {
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
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

/// Builds the body of `inv` in `style`.
pub fn body(inv: &Claimed, style: BodyStyle) -> Vec<u8> {
    match style {
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

    #[test]
    fn recorded_headers_mask_credentials() {
        let p = Prepared {
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
