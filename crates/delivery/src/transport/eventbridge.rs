//! The EventBridge transport (SailPoint `EVENTBRIDGE` subscriptions): each delivery is one
//! `PutEvents` entry on the bus of the subscription's account and region — `DetailType` the
//! trigger id, `Detail` the body every transport sends (the input plus `_metadata`), `Source`
//! configurable (AWS refuses sources beginning with `aws.` from non-partners). A refused entry
//! (`FailedEntryCount > 0`), throttling, an AWS error or a network error is a failed attempt,
//! retried on the normal schedule. Requests are signed with the standard credential chain and
//! go to the standard endpoint or its overrides (`AWS_ENDPOINT_URL_EVENTBRIDGE`,
//! `AWS_ENDPOINT_URL`).

use super::aws::{error_text, valid_region, Aws, Operation};
use super::{Response, SendError};
use crate::prepare::Prepared;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// EventBridge settings (`[eventbridge]` in the configuration).
#[derive(Debug, Clone)]
pub struct EventBridgeSettings {
    /// The `Source` of every entry.
    pub source: String,
    /// The bus name in the subscription's account.
    pub bus: String,
}

impl Default for EventBridgeSettings {
    fn default() -> Self {
        Self {
            source: "switchyard".into(),
            bus: "default".into(),
        }
    }
}

/// Largest `Detail` EventBridge takes in one entry (the whole entry must stay under 256 KiB).
const MAX_DETAIL_BYTES: usize = 256 * 1024 - 1024;

pub struct EventBridge {
    aws: Arc<Aws>,
    settings: EventBridgeSettings,
}

impl EventBridge {
    pub fn new(aws: Arc<Aws>, settings: EventBridgeSettings) -> Self {
        Self { aws, settings }
    }

    /// The bus an entry for `account` in `region` goes to (an ARN, so a bus in another account
    /// that allows this principal works too).
    pub fn bus_arn(&self, account: &str, region: &str) -> String {
        format!(
            "arn:aws:events:{region}:{account}:event-bus/{}",
            self.settings.bus
        )
    }

    /// `PutEvents` of one entry.
    pub async fn send(
        &self,
        account: &str,
        region: &str,
        msg: Prepared,
        timeout: Duration,
    ) -> Response {
        let started = Instant::now();
        if !valid_region(region) {
            return Response::failed(
                SendError::Failed(format!("'{region}' is not an AWS region")),
                started,
            );
        }
        let Ok(detail) = String::from_utf8(msg.body) else {
            return Response::failed(
                SendError::Failed("the event detail is not UTF-8 text".into()),
                started,
            );
        };
        if detail.len() > MAX_DETAIL_BYTES {
            return Response::failed(
                SendError::Failed(format!(
                    "the event detail is {} bytes; EventBridge takes at most 256 KiB per entry",
                    detail.len()
                )),
                started,
            );
        }
        let body = json!({
            "Entries": [{
                "Source": self.settings.source,
                "DetailType": msg.event_type,
                "Detail": detail,
                "EventBusName": self.bus_arn(account, region),
            }]
        });
        let endpoint = self.aws.env.endpoint("EVENTBRIDGE", "events", Some(region));
        let answer = self
            .aws
            .call(
                &Operation {
                    endpoint: &endpoint,
                    region,
                    service: "events",
                    target: "AWSEvents.PutEvents",
                    content_type: "application/x-amz-json-1.1",
                },
                body.to_string().into_bytes(),
                timeout,
            )
            .await;
        match answer {
            Err(e) if e.starts_with("timed out") => {
                Response::failed(SendError::TimedOut(format!("EventBridge: {e}")), started)
            }
            Err(e) => Response::failed(SendError::Failed(format!("EventBridge: {e}")), started),
            Ok(a) if !(200..300).contains(&a.status) => Response::failed(
                SendError::Failed(format!(
                    "EventBridge PutEvents answered {}: {}",
                    a.status,
                    error_text(a.status, &a.body)
                )),
                started,
            ),
            Ok(a) => match entry_result(&a.body) {
                Ok(event_id) => Response::acknowledged(format!("EventId={event_id}"), started),
                Err(e) => Response::failed(SendError::Failed(e), started),
            },
        }
    }
}

/// The event id of the one entry, or why EventBridge refused it.
fn entry_result(body: &[u8]) -> Result<String, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("EventBridge answered something that is not JSON: {e}"))?;
    let entry = v.get("Entries").and_then(|e| e.get(0));
    let failed = v
        .get("FailedEntryCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let text = |k: &str| {
        entry
            .and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if failed > 0 || !text("ErrorCode").is_empty() {
        return Err(format!(
            "EventBridge refused the entry (FailedEntryCount {failed}): {}: {}",
            text("ErrorCode"),
            text("ErrorMessage")
        ));
    }
    match text("EventId") {
        id if !id.is_empty() => Ok(id),
        _ => Err("EventBridge answered without an event id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_results() {
        assert_eq!(
            entry_result(br#"{"FailedEntryCount":0,"Entries":[{"EventId":"e-1"}]}"#),
            Ok("e-1".into())
        );
        let refused = entry_result(
            br#"{"FailedEntryCount":1,"Entries":[{"ErrorCode":"ThrottlingException","ErrorMessage":"slow down"}]}"#,
        )
        .unwrap_err();
        assert!(
            refused.contains("ThrottlingException: slow down"),
            "{refused}"
        );
        assert!(entry_result(b"<html>").is_err());
        assert!(entry_result(br#"{"FailedEntryCount":0,"Entries":[{}]}"#).is_err());
    }
}
