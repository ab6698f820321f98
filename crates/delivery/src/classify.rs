//! The classify stage: what a response means, the same for every transport. A 2xx answer or a
//! broker's acknowledgement is delivered; 410 Gone fails and disables the route; a destination
//! refused by outbound protection fails at once, as does a message the destination can never
//! take (too large for it); anything else (3xx, 4xx, 5xx, timeouts,
//! connection errors, nacks, refused entries) is retried on the schedule, honouring the
//! receiver's `Retry-After`, until the tries run out. A transport that cannot send from this
//! server yet parks the invocation (retried, never given up). Request-response deliveries add
//! the dispatch mode (output now, or a callback later) and never retry past their deadline.

use crate::routing::PayloadValidator;
use crate::transport::{Response, SendError};
use serde_json::Value;
use std::time::Duration;
use switchyard_core::retry::{parse_retry_after, RetrySchedule};
use switchyard_core::sailpoint::DispatchMode;
use switchyard_core::Timestamp;
use switchyard_store::queue::NextStep;

/// What one response means, before the retry schedule is consulted.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Accepted by the receiver or acknowledged by the broker.
    Delivered,
    /// Not accepted; try again, not before `after` if the receiver asked for a wait.
    Retry { after: Option<Duration> },
    /// Not accepted, and asking again cannot change that.
    Reject(String),
    /// The destination is gone: fail and disable the route.
    Gone(String),
    /// The route's transport cannot send from this server: nothing was sent; wait and try
    /// again, never giving up.
    Parked(String),
}

/// Classifies one response.
pub fn classify(resp: &Response) -> Verdict {
    match &resp.error {
        Some(refusal @ (SendError::Refused(_) | SendError::Rejected(_))) => {
            return Verdict::Reject(refusal.to_string())
        }
        Some(SendError::Unavailable(why)) => return Verdict::Parked(why.clone()),
        _ => {}
    }
    match resp.status {
        Some(s) if (200..300).contains(&s) && resp.error.is_none() => Verdict::Delivered,
        // A transport without statuses: no error is its acknowledgement.
        None if resp.error.is_none() => Verdict::Delivered,
        Some(410) => Verdict::Gone("receiver answered 410 Gone; route disabled".into()),
        _ => Verdict::Retry {
            after: resp.retry_after.as_deref().and_then(parse_retry_after),
        },
    }
}

/// The next step after attempt number `attempt_n` (1-based within the current round).
pub fn next_step(
    resp: &Response,
    attempt_n: u32,
    schedule: &RetrySchedule,
    now: Timestamp,
    jitter: f64,
) -> NextStep {
    match classify(resp) {
        Verdict::Delivered => NextStep::Delivered,
        Verdict::Reject(why) => NextStep::Failed(why),
        Verdict::Gone(why) => NextStep::FailedDisableRoute(why),
        Verdict::Parked(_) => NextStep::RetryAt(now.plus(parked_wait(schedule, attempt_n, jitter))),
        Verdict::Retry { after } => match schedule.next_wait(attempt_n, jitter, after) {
            Some(wait) => NextStep::RetryAt(now.plus(wait)),
            None => NextStep::Failed(format!(
                "gave up after {attempt_n} attempts: {}",
                describe(resp)
            )),
        },
    }
}

/// Everything a request-response answer is judged by.
pub struct ResponseRules<'a> {
    pub mode: DispatchMode,
    pub validate_output: Option<&'a PayloadValidator>,
    pub deadline: Timestamp,
}

/// The next step after a request-response attempt: SYNC wants the output in the 2xx body (checked
/// against the output schema; an invalid output fails at once), ASYNC only an acknowledgement
/// (the output comes by callback), DYNAMIC decides by the answer (202 or an empty body: callback).
/// Failed answers retry on the schedule, but a retry that would start after the deadline fails.
pub fn request_response_step(
    resp: &Response,
    rules: &ResponseRules<'_>,
    attempt_n: u32,
    schedule: &RetrySchedule,
    now: Timestamp,
    jitter: f64,
) -> NextStep {
    match next_step(resp, attempt_n, schedule, now, jitter) {
        NextStep::Delivered => {
            let status = resp.status.unwrap_or(200);
            let sync = match rules.mode {
                DispatchMode::Sync => true,
                DispatchMode::Async => false,
                DispatchMode::Dynamic => status != 202 && !is_empty_output(&resp.body),
            };
            if !sync {
                return NextStep::AwaitingCallback;
            }
            let output: Value = match serde_json::from_slice(&resp.body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return NextStep::Failed("invalid output: must be a JSON object".into()),
                Err(e) => {
                    return NextStep::Failed(format!(
                        "invalid output: the response body is not JSON ({e})"
                    ))
                }
            };
            if let Some(validate) = rules.validate_output {
                if let Err(errors) = validate(&output) {
                    return NextStep::Failed(format!("invalid output: {}", errors.join("; ")));
                }
            }
            NextStep::Completed(output.to_string())
        }
        NextStep::RetryAt(t) if t >= rules.deadline => NextStep::Failed(format!(
            "gave up after {attempt_n} attempts: the next try would pass the response deadline; {}",
            describe(resp)
        )),
        other => other,
    }
}

/// An empty body or an empty JSON object: no output (DYNAMIC then expects a callback).
fn is_empty_output(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    t.is_empty() || serde_json::from_str::<Value>(t).is_ok_and(|v| v == serde_json::json!({}))
}

/// A short description of a failed answer for the attempt log.
pub fn describe(resp: &Response) -> String {
    match (&resp.error, resp.status) {
        (Some(e), _) => e.to_string(),
        (None, Some(s)) => format!("receiver answered HTTP {s}"),
        (None, None) => "no response".into(),
    }
}

/// The wait before the next try for routes that cannot be delivered yet: the
/// schedule's step, or its last step once the schedule is used up; never a terminal failure.
pub fn parked_wait(schedule: &RetrySchedule, attempt_n: u32, jitter: f64) -> Duration {
    schedule
        .next_wait(attempt_n, jitter, None)
        .or_else(|| schedule.waits().last().copied())
        .unwrap_or(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Response {
        Response {
            status: Some(status),
            retry_after: None,
            body: body.as_bytes().to_vec(),
            error: None,
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn request_response_answers() {
        let s = RetrySchedule::parse("1s,2s").unwrap();
        let v: PayloadValidator = std::sync::Arc::new(|o: &Value| {
            if o.get("approved").is_some_and(Value::is_boolean) {
                Ok(())
            } else {
                Err(vec!["approved: is required".into()])
            }
        });
        let rules = |mode| ResponseRules {
            mode,
            validate_output: Some(&v),
            deadline: Timestamp(1500),
        };
        let step =
            |r: &Response, mode| request_response_step(r, &rules(mode), 1, &s, Timestamp(0), 0.5);
        use DispatchMode::*;
        assert_eq!(
            step(&answer(200, r#"{"approved":true}"#), Sync),
            NextStep::Completed(r#"{"approved":true}"#.into())
        );
        assert!(
            matches!(step(&answer(200, r#"{"x":1}"#), Sync), NextStep::Failed(m) if m.contains("approved: is required"))
        );
        assert!(
            matches!(step(&answer(200, "nope"), Sync), NextStep::Failed(m) if m.contains("not JSON"))
        );
        assert_eq!(step(&answer(200, "{}"), Async), NextStep::AwaitingCallback);
        assert_eq!(
            step(&answer(202, "{}"), Dynamic),
            NextStep::AwaitingCallback
        );
        assert_eq!(step(&answer(200, " "), Dynamic), NextStep::AwaitingCallback);
        assert!(matches!(
            step(&answer(200, r#"{"approved":false}"#), Dynamic),
            NextStep::Completed(_)
        ));
        // A retry 1 s later is before the deadline; the second (2 s later) would pass it.
        assert_eq!(
            step(&answer(500, ""), Async),
            NextStep::RetryAt(Timestamp(1000))
        );
        assert!(matches!(
            request_response_step(&answer(500, ""), &rules(Async), 2, &s, Timestamp(0), 0.5),
            NextStep::Failed(m) if m.contains("deadline")
        ));
    }

    fn resp(status: Option<u16>, retry_after: Option<&str>) -> Response {
        Response {
            status,
            retry_after: retry_after.map(str::to_string),
            body: vec![],
            error: status
                .is_none()
                .then(|| SendError::Failed("connection failed".to_string())),
            duration: Duration::ZERO,
        }
    }

    #[test]
    fn classifies_answers() {
        let s = RetrySchedule::parse("1s,2s").unwrap();
        let now = Timestamp(0);
        assert_eq!(
            next_step(&resp(Some(204), None), 1, &s, now, 0.5),
            NextStep::Delivered
        );
        assert!(matches!(
            next_step(&resp(Some(410), None), 1, &s, now, 0.5),
            NextStep::FailedDisableRoute(_)
        ));
        assert_eq!(
            next_step(&resp(Some(500), None), 1, &s, now, 0.5),
            NextStep::RetryAt(Timestamp(1000))
        );
        assert_eq!(
            next_step(&resp(Some(302), None), 2, &s, now, 0.5),
            NextStep::RetryAt(Timestamp(2000))
        );
        assert_eq!(
            next_step(&resp(Some(429), Some("30")), 1, &s, now, 0.5),
            NextStep::RetryAt(Timestamp(30_000))
        );
        assert!(
            matches!(next_step(&resp(None, None), 3, &s, now, 0.5), NextStep::Failed(m) if m.contains("3 attempts"))
        );
        let refused = Response {
            error: Some(SendError::Refused(
                "address 127.0.0.1 is not allowed".into(),
            )),
            ..resp(None, None)
        };
        assert!(
            matches!(next_step(&refused, 1, &s, now, 0.5), NextStep::Failed(m) if m.contains("refused by outbound protection"))
        );
        let too_large = Response {
            error: Some(SendError::Rejected("300000 bytes; SQS takes 262144".into())),
            ..resp(None, None)
        };
        assert!(
            matches!(next_step(&too_large, 1, &s, now, 0.5), NextStep::Failed(m) if m.contains("cannot take this message"))
        );
    }

    #[test]
    fn acknowledgements_and_parking() {
        let s = RetrySchedule::parse("1s,2s").unwrap();
        let now = Timestamp(0);
        let ack = Response::acknowledged(&b"stream=s seq=1"[..], std::time::Instant::now());
        assert_eq!(classify(&ack), Verdict::Delivered);
        assert_eq!(next_step(&ack, 1, &s, now, 0.5), NextStep::Delivered);
        let nack = resp(None, None);
        assert_eq!(classify(&nack), Verdict::Retry { after: None });
        let parked = Response {
            error: Some(SendError::Unavailable("not configured".into())),
            ..resp(None, None)
        };
        assert!(matches!(classify(&parked), Verdict::Parked(_)));
        // Parked never gives up: past the schedule it waits the last step again.
        assert_eq!(
            next_step(&parked, 9, &s, now, 0.5),
            NextStep::RetryAt(Timestamp(2000))
        );
    }
}
