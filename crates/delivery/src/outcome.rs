//! Deciding what an answer means: 2xx delivered; 410 Gone fails and disables the route; anything
//! else (3xx, 4xx, 5xx, timeouts, connection errors) is retried on the schedule, honouring the
//! receiver's `Retry-After`, until the tries run out.

use crate::sender::Response;
use std::time::Duration;
use switchyard_core::retry::{parse_retry_after, RetrySchedule};
use switchyard_core::Timestamp;
use switchyard_store::queue::NextStep;

/// The next step after attempt number `attempt_n` (1-based within the current round).
pub fn next_step(
    resp: &Response,
    attempt_n: u32,
    schedule: &RetrySchedule,
    now: Timestamp,
    jitter: f64,
) -> NextStep {
    match resp.status {
        Some(s) if (200..300).contains(&s) && resp.error.is_none() => NextStep::Delivered,
        Some(410) => {
            NextStep::FailedDisableRoute("receiver answered 410 Gone; route disabled".into())
        }
        _ => {
            let retry_after = resp.retry_after.as_deref().and_then(parse_retry_after);
            match schedule.next_wait(attempt_n, jitter, retry_after) {
                Some(wait) => NextStep::RetryAt(now.plus(wait)),
                None => NextStep::Failed(format!(
                    "gave up after {attempt_n} attempts: {}",
                    describe(resp)
                )),
            }
        }
    }
}

/// A short description of a failed answer for the attempt log.
pub fn describe(resp: &Response) -> String {
    match (&resp.error, resp.status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => format!("receiver answered HTTP {s}"),
        (None, None) => "no response".into(),
    }
}

/// The wait before the next try for routes that cannot be delivered yet (EventBridge): the
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

    fn resp(status: Option<u16>, retry_after: Option<&str>) -> Response {
        Response {
            status,
            retry_after: retry_after.map(str::to_string),
            body: vec![],
            error: status.is_none().then(|| "connection failed".to_string()),
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
    }
}
