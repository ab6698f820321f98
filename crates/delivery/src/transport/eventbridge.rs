//! The EventBridge transport (SailPoint `EVENTBRIDGE` subscriptions): each delivery is one
//! `PutEvents` entry on the bus of the subscription's account and region — `DetailType` the
//! trigger id, `Detail` the body every transport sends (the input plus `_metadata`), `Source`
//! configurable (AWS refuses sources beginning with `aws.` from non-partners). A refused entry
//! (`FailedEntryCount > 0`), throttling, an AWS error or a network error is a failed attempt,
//! retried on the normal schedule. Requests are signed with the standard credential chain and
//! go to the standard endpoint or its overrides (`AWS_ENDPOINT_URL_EVENTBRIDGE`,
//! `AWS_ENDPOINT_URL`).
//!
//! Partner mode (`[eventbridge] partner = "NAME"`), as SailPoint does it: each EVENTBRIDGE
//! subscription gets its own partner event source `aws.partner/{partner}/{subscriptionId}/idn/{trigger}`
//! in the subscription's account and region, created with the subscription
//! (`CreatePartnerEventSource`) and deleted with it (`DeletePartnerEventSource`); deliveries are
//! `PutPartnerEvents` entries with that source, which the customer associates with a partner
//! event bus on their side.

#[cfg(feature = "aws")]
use super::aws::{attempt, error_text, valid_region, Answer, Aws, Operation};
#[cfg(feature = "aws")]
use super::{Response, SendError};
#[cfg(feature = "aws")]
use crate::prepare::Prepared;
#[cfg(feature = "aws")]
use serde_json::{json, Value};
#[cfg(feature = "aws")]
use std::sync::Arc;
#[cfg(feature = "aws")]
use std::time::{Duration, Instant};

/// EventBridge settings (`[eventbridge]` in the configuration).
#[derive(Debug, Clone)]
pub struct EventBridgeSettings {
    /// The `Source` of every entry.
    pub source: String,
    /// The bus name in the subscription's account.
    pub bus: String,
    /// Partner mode: the partner name in every subscription's partner event source.
    pub partner: Option<String>,
}

impl Default for EventBridgeSettings {
    fn default() -> Self {
        Self {
            source: "switchyard".into(),
            bus: "default".into(),
            partner: None,
        }
    }
}

/// Largest `Detail` EventBridge takes in one entry (the whole entry must stay under 256 KiB).
#[cfg(feature = "aws")]
const MAX_DETAIL_BYTES: usize = 256 * 1024 - 1024;

/// The client (built with the cargo feature `aws`; the settings above always are, since
/// configuration checks them).
#[cfg(feature = "aws")]
pub struct EventBridge {
    aws: Arc<Aws>,
    settings: EventBridgeSettings,
}

#[cfg(feature = "aws")]
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

    /// One EventBridge API call (`action`, e.g. `PutEvents`) in `region`, at its endpoint or the
    /// operator's override.
    async fn call(
        &self,
        region: &str,
        action: &str,
        body: &Value,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let endpoint = self.aws.env.endpoint("EVENTBRIDGE", "events", Some(region));
        self.aws
            .call(
                &Operation {
                    endpoint: &endpoint,
                    region,
                    service: "events",
                    target: &format!("AWSEvents.{action}"),
                    content_type: "application/x-amz-json-1.1",
                },
                body.to_string().into_bytes(),
                timeout,
            )
            .await
    }

    /// The partner event source of a subscription, in partner mode (`None` otherwise).
    pub fn partner_source(&self, subscription_id: &str, trigger_id: &str) -> Option<String> {
        let partner = self.settings.partner.as_deref()?;
        Some(partner_source_name(partner, subscription_id, trigger_id))
    }

    /// `CreatePartnerEventSource` (`create`) or `DeletePartnerEventSource` of `name` for
    /// `account` in `region`. Deleting a source that is gone already succeeds.
    pub async fn partner_source_op(
        &self,
        create: bool,
        name: &str,
        account: &str,
        region: &str,
    ) -> Result<(), String> {
        if !valid_region(region) {
            return Err(format!("'{region}' is not an AWS region"));
        }
        let action = if create {
            "CreatePartnerEventSource"
        } else {
            "DeletePartnerEventSource"
        };
        let body = json!({"Name": name, "Account": account});
        let answer = self
            .call(region, action, &body, Duration::from_secs(10))
            .await
            .map_err(|e| format!("EventBridge {action}: {e}"))?;
        if (200..300).contains(&answer.status) {
            return Ok(());
        }
        let text = error_text(answer.status, &answer.body);
        if !create && text.starts_with("ResourceNotFoundException") {
            return Ok(());
        }
        Err(format!(
            "EventBridge {action} answered {}: {text}",
            answer.status
        ))
    }

    /// One entry: `PutPartnerEvents` with the subscription's partner source in partner mode
    /// (`partner_source`), else `PutEvents` to the account's bus.
    pub async fn send(
        &self,
        account: &str,
        region: &str,
        partner_source: Option<&str>,
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
                SendError::Rejected("the event detail is not UTF-8 text".into()),
                started,
            );
        };
        if detail.len() > MAX_DETAIL_BYTES {
            return Response::failed(
                SendError::Rejected(format!(
                    "the event detail is {} bytes; EventBridge takes at most 256 KiB per entry",
                    detail.len()
                )),
                started,
            );
        }
        let (body, action) = match partner_source {
            Some(source) => (
                json!({"Entries": [{
                    "Source": source,
                    "DetailType": msg.event_type,
                    "Detail": detail,
                }]}),
                "PutPartnerEvents",
            ),
            None => (
                json!({"Entries": [{
                    "Source": self.settings.source,
                    "DetailType": msg.event_type,
                    "Detail": detail,
                    "EventBusName": self.bus_arn(account, region),
                }]}),
                "PutEvents",
            ),
        };
        let answer = self.call(region, action, &body, timeout).await;
        attempt("EventBridge", action, answer, started, &[], |body| {
            entry_result(body, partner_source.is_some()).map(|id| format!("EventId={id}"))
        })
    }
}

/// `aws.partner/{partner}/{subscriptionId}/idn/{trigger}`: the trigger id without its `idn:`
/// prefix, every character AWS does not take in a source name (`[.-_A-Za-z0-9]`) as `-`.
pub fn partner_source_name(partner: &str, subscription_id: &str, trigger_id: &str) -> String {
    let trigger = trigger_id.strip_prefix("idn:").unwrap_or(trigger_id);
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut name = format!(
        "aws.partner/{partner}/{}/idn/{}",
        clean(subscription_id),
        clean(trigger)
    );
    name.truncate(256);
    name
}

/// Whether `partner` can be the partner segment of a source name (checked at start-up).
pub fn valid_partner(partner: &str) -> bool {
    !partner.is_empty()
        && partner.len() <= 64
        && partner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The event id of the one entry, or why EventBridge refused it. `partner`: a
/// `PutPartnerEvents` answer, which some implementations (moto) give without entries; with
/// `FailedEntryCount` 0 that is an acceptance.
#[cfg(feature = "aws")]
fn entry_result(body: &[u8], partner: bool) -> Result<String, String> {
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
        _ if partner && entry.is_none() && v.get("FailedEntryCount").is_some() => {
            Ok("(none given; FailedEntryCount 0)".into())
        }
        _ => Err("EventBridge answered without an event id".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "aws")]
    #[test]
    fn entry_results() {
        assert_eq!(
            entry_result(
                br#"{"FailedEntryCount":0,"Entries":[{"EventId":"e-1"}]}"#,
                false
            ),
            Ok("e-1".into())
        );
        let refused = entry_result(
            br#"{"FailedEntryCount":1,"Entries":[{"ErrorCode":"ThrottlingException","ErrorMessage":"slow down"}]}"#,
            true,
        )
        .unwrap_err();
        assert!(
            refused.contains("ThrottlingException: slow down"),
            "{refused}"
        );
        assert!(entry_result(b"<html>", false).is_err());
        assert!(entry_result(br#"{"FailedEntryCount":0,"Entries":[{}]}"#, false).is_err());
        assert!(entry_result(br#"{"FailedEntryCount":0,"Entries":[]}"#, false).is_err());
        assert!(entry_result(br#"{"FailedEntryCount":0,"Entries":[]}"#, true).is_ok());
    }

    #[test]
    fn partner_source_names() {
        assert_eq!(
            partner_source_name("acme.com", "0f3c-11", "idn:identity-created"),
            "aws.partner/acme.com/0f3c-11/idn/identity-created"
        );
        assert_eq!(
            partner_source_name("p", "s", "acme:order created"),
            "aws.partner/p/s/idn/acme-order-created"
        );
        assert!(partner_source_name("p", "s", &"x".repeat(400)).len() <= 256);
        assert!(valid_partner("sailpoint.com"));
        assert!(!valid_partner("a/b") && !valid_partner(""));
    }
}
