//! One warn line per failed attempt, written when its outcome is recorded: what an operator
//! needs to find the delivery (instance, route, invocation id, attempt number), why it failed
//! (the receiver's status or the error) and what happens next (the next attempt's time, or that
//! there is none).

use switchyard_store::queue::{NextStep, Outcome};

/// What follows a failed attempt, for the log line; `None` when the attempt did not fail.
fn next_after_failure(next: &NextStep) -> Option<String> {
    match next {
        NextStep::Delivered | NextStep::Completed(_) | NextStep::AwaitingCallback => None,
        NextStep::RetryAt(t) => Some(t.rfc3339()),
        NextStep::Failed(_) => Some("none: attempts exhausted or not retryable".into()),
        NextStep::FailedDisableRoute(_) => {
            Some("none: the route answered 410 and is disabled".into())
        }
        NextStep::Cancelled(_) => Some("none: the invocation was cancelled".into()),
    }
}

/// Logs `o` at warn level when its attempt failed.
pub(super) fn log_failed_attempt(o: &Outcome) {
    let Some(next) = next_after_failure(&o.next) else {
        return;
    };
    let a = &o.attempt;
    // A cancellation found before sending is no attempt that failed.
    if matches!(o.next, NextStep::Cancelled(_)) && a.transport.is_none() {
        return;
    }
    let reason = match (&a.error, a.status) {
        (Some(e), _) => e.clone(),
        (None, Some(s)) => format!("HTTP {s}"),
        (None, None) => match &o.next {
            NextStep::Failed(m) | NextStep::FailedDisableRoute(m) | NextStep::Cancelled(m) => {
                m.clone()
            }
            _ => "failed".into(),
        },
    };
    tracing::warn!(
        instance = %o.instance,
        route = %format_args!("{}/{}", o.route_kind, o.route_id),
        invocation = %o.invocation_id,
        attempt = a.n,
        status = a.status,
        error = %reason,
        next_attempt = %next,
        "delivery attempt failed"
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::Timestamp;

    #[test]
    fn only_failures_are_logged_and_the_next_step_is_named() {
        assert_eq!(next_after_failure(&NextStep::Delivered), None);
        assert_eq!(next_after_failure(&NextStep::AwaitingCallback), None);
        assert_eq!(
            next_after_failure(&NextStep::RetryAt(Timestamp::from_millis(0))).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert!(next_after_failure(&NextStep::Failed("x".into()))
            .unwrap()
            .starts_with("none"));
    }
}
