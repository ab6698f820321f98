//! The wire rules of one target call, as pure functions: the body a target receives for a
//! request, response or function condition, and what its answer means for the chain (ZITADEL's
//! "Calling a target": restWebhook checks the status only, restCall's non-empty body replaces
//! the payload, a 2xx `{forwardedStatusCode, forwardedErrorMessage}` is a failure whose 4xx goes
//! back to the original caller).

use crate::classify::describe;
use crate::transport::{Response, SendError};
use serde::Serialize;
use serde_json::{Map, Value};
use switchyard_core::zitadel::{Condition, MethodSelector, TargetType};
use switchyard_core::InstanceId;

/// Context a producer may give about the call it is guarding (all optional).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// Defaults to the condition's method, or "" for service/all conditions.
    pub full_method: Option<String>,
    pub org_id: String,
    pub project_id: String,
    pub user_id: String,
    /// The original call's headers (ZITADEL sends a map of header name to values).
    pub headers: Option<Value>,
    /// Response conditions: the request that produced the response.
    pub request: Option<Value>,
}

/// The request/response envelope, serialized straight from borrowed parts (no payload copy).
#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "fullMethod")]
    full_method: &'a str,
    #[serde(rename = "instanceID")]
    instance_id: &'a str,
    #[serde(rename = "orgID")]
    org_id: &'a str,
    #[serde(rename = "projectID")]
    project_id: &'a str,
    #[serde(rename = "userID")]
    user_id: &'a str,
    request: &'a Value,
    headers: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    response: Option<&'a Value>,
}

/// The JSON body of a target call for `payload` (the request, the response or the function
/// input, depending on the condition).
pub fn body(
    condition: &Condition,
    instance: &InstanceId,
    ctx: &CallContext,
    payload: &Value,
) -> Vec<u8> {
    let empty_object = Value::Object(Map::new());
    let (sel, request, response) = match condition {
        Condition::Request(sel) => (sel, payload, None),
        Condition::Response(sel) => (
            sel,
            ctx.request.as_ref().unwrap_or(&empty_object),
            Some(payload),
        ),
        // Functions get the producer's payload as is (`{function, userinfo, user, ...}`);
        // events never reach here (they are published, not called).
        Condition::Function(_) | Condition::Event(_) => {
            return serde_json::to_vec(payload).unwrap_or_default()
        }
    };
    let full_method = match (&ctx.full_method, sel) {
        (Some(m), _) => m.as_str(),
        (None, MethodSelector::Method(m)) => m.as_str(),
        (None, _) => "",
    };
    serde_json::to_vec(&Envelope {
        full_method,
        instance_id: instance.as_str(),
        org_id: &ctx.org_id,
        project_id: &ctx.project_id,
        user_id: &ctx.user_id,
        request,
        headers: ctx.headers.as_ref().unwrap_or(&empty_object),
        response,
    })
    .unwrap_or_default()
}

/// What one awaited target's answer means.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Success; `Some` replaces the payload for the next target.
    Ok(Option<Value>),
    /// The target decided the original call must fail with this 4xx and message. The target
    /// itself is healthy (it answered deliberately), so this does not count against its breaker.
    Forwarded { status: u16, message: String },
    /// The target failed (status, timeout, connection, unusable body).
    Failed { message: String, timed_out: bool },
}

/// Interprets `resp` from a target of type `kind`.
pub fn verdict(kind: TargetType, resp: &Response) -> Verdict {
    // A 2xx answer, or (NATS) a reply or acknowledgement, which has no status.
    let ok = resp.status.is_none_or(|s| (200..300).contains(&s)) && resp.error.is_none();
    if !ok {
        let message = describe(resp);
        let timed_out = matches!(resp.error, Some(SendError::TimedOut(_)));
        return Verdict::Failed { message, timed_out };
    }
    let text = trim(&resp.body);
    if text.is_empty() {
        return Verdict::Ok(None);
    }
    let parsed: Option<Value> = serde_json::from_slice(text).ok();
    if let Some(v) = &parsed {
        if let Some(code) = v.get("forwardedStatusCode") {
            let message = v
                .get("forwardedErrorMessage")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return match code.as_u64() {
                Some(c) if (400..500).contains(&c) => Verdict::Forwarded {
                    status: c as u16,
                    message,
                },
                _ => Verdict::Failed {
                    message: format!("forwardedStatusCode must be a 4xx status, got {code}"),
                    timed_out: false,
                },
            };
        }
    }
    match kind {
        // The answer stands in for a proto message (or a function's answer): an object.
        TargetType::Call { .. } => match parsed {
            Some(v) if v.is_object() => Verdict::Ok(Some(v)),
            Some(_) => Verdict::Failed {
                message: "answered JSON that is not an object".into(),
                timed_out: false,
            },
            None => Verdict::Failed {
                message: "answered a body that is not JSON".into(),
                timed_out: false,
            },
        },
        // restWebhook: the body is ignored. restAsync answers are never interpreted here.
        TargetType::Webhook { .. } | TargetType::Async => Verdict::Ok(None),
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn body(c: &Condition, i: &InstanceId, ctx: &CallContext, p: &Value) -> Value {
        serde_json::from_slice(&super::body(c, i, ctx, p)).unwrap()
    }

    fn resp(status: Option<u16>, body: &str) -> Response {
        Response {
            status,
            retry_after: None,
            body: body.as_bytes().to_vec(),
            error: status
                .is_none()
                .then(|| SendError::TimedOut("timed out".to_string())),
            duration: Duration::ZERO,
        }
    }

    const CALL: TargetType = TargetType::Call {
        interrupt_on_error: false,
    };
    const HOOK: TargetType = TargetType::Webhook {
        interrupt_on_error: false,
    };

    #[test]
    fn request_and_response_envelopes() {
        let inst = InstanceId::parse("acme").unwrap();
        let ctx = CallContext {
            user_id: "u1".into(),
            request: Some(json!({"q": 1})),
            ..Default::default()
        };
        let m = "/zitadel.user.v2.UserService/AddHumanUser".to_string();
        let b = body(
            &Condition::Request(MethodSelector::Method(m.clone())),
            &inst,
            &ctx,
            &json!({"a": 1}),
        );
        assert_eq!(b["fullMethod"], json!(m));
        assert_eq!(b["instanceID"], "acme");
        assert_eq!(b["userID"], "u1");
        assert_eq!(b["request"], json!({"a": 1}));
        assert_eq!(b["headers"], json!({}));
        assert!(b.get("response").is_none());
        let b = body(
            &Condition::Response(MethodSelector::All),
            &inst,
            &ctx,
            &json!({"r": 2}),
        );
        assert_eq!(b["fullMethod"], "");
        assert_eq!(b["request"], json!({"q": 1}));
        assert_eq!(b["response"], json!({"r": 2}));
        let f = json!({"function": "preuserinfo", "user": {}});
        assert_eq!(
            body(&Condition::Function("preuserinfo".into()), &inst, &ctx, &f),
            f
        );
    }

    #[test]
    fn answers_are_classified() {
        assert_eq!(verdict(CALL, &resp(Some(200), "")), Verdict::Ok(None));
        assert_eq!(
            verdict(CALL, &resp(Some(200), r#"{"x":1}"#)),
            Verdict::Ok(Some(json!({"x": 1})))
        );
        assert_eq!(
            verdict(HOOK, &resp(Some(200), r#"{"x":1}"#)),
            Verdict::Ok(None)
        );
        assert!(matches!(
            verdict(CALL, &resp(Some(200), "nope")),
            Verdict::Failed { .. }
        ));
        assert!(matches!(
            verdict(CALL, &resp(Some(200), "[1]")),
            Verdict::Failed { .. }
        ));
        assert!(matches!(
            verdict(HOOK, &resp(Some(500), "")),
            Verdict::Failed {
                timed_out: false,
                ..
            }
        ));
        assert!(matches!(
            verdict(HOOK, &resp(None, "")),
            Verdict::Failed {
                timed_out: true,
                ..
            }
        ));
        assert_eq!(
            verdict(
                HOOK,
                &resp(
                    Some(200),
                    r#"{"forwardedStatusCode":403,"forwardedErrorMessage":"no"}"#
                )
            ),
            Verdict::Forwarded {
                status: 403,
                message: "no".into()
            }
        );
        assert!(matches!(
            verdict(CALL, &resp(Some(200), r#"{"forwardedStatusCode":500}"#)),
            Verdict::Failed { .. }
        ));
    }
}
