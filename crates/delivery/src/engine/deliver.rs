//! One attempt of one invocation: look the route up, build and send the request, decide the next
//! step, and hand the outcome to the recorder. Request-response deliveries carry their deadline;
//! nothing is sent after it.

use super::Engine;
use crate::cloudevents;
use crate::metrics::DeliveryOutcome;
use crate::outcome::{describe, next_step, parked_wait, request_response_step, ResponseRules};
use crate::request::{self, Prepared};
use crate::routing::{BodyStyle, Destination};
use crate::sender::Response;
use rand::Rng;
use std::sync::atomic::Ordering;
use std::time::Duration;
use switchyard_core::sailpoint::DispatchMode;
use switchyard_store::queue::{
    AttemptRecord, Claimed, InvocationKind, NextStep, Outcome, RouteKind, TIMED_OUT,
};
use tokio::sync::OwnedSemaphorePermit;

impl Engine {
    /// Delivers one invocation and hands the outcome to the writer.
    pub(super) async fn deliver(self, job: Claimed, _permit: OwnedSemaphorePermit) {
        let inner = &self.inner;
        let n = job.attempts_done + 1;
        let round_n = job.round_attempts + 1;
        let started = inner.clock.now();
        let jitter: f64 = rand::thread_rng().gen();
        if let Some(reason) = job.cancel_reason.clone() {
            // Its route went away while an earlier attempt was in flight (that attempt's node
            // stopped before it could record it): nothing more is sent.
            let attempt = failed_attempt(n, started, &format!("cancelled: {reason}"));
            return self.finish(
                job,
                attempt,
                NextStep::Cancelled(reason),
                DeliveryOutcome::Cancelled,
            );
        }
        let dest = match inner
            .routing
            .policy(&job.instance, job.route_kind, &job.route_id)
            .await
        {
            Ok(policy) => inner
                .routing
                .destination(&job.instance, job.route_kind, &job.route_id)
                .await
                .map(|d| d.map(|d| (d, policy))),
            Err(e) => Err(e),
        };
        let mut parked = false;
        // The route's own schedule (or the server's) decides retries, whatever the outcome.
        let schedule = match &dest {
            Ok(Some((_, policy))) => policy.schedule(&inner.config.schedule),
            _ => inner.config.schedule.clone(),
        };
        let (attempt, next) = match dest {
            Ok(Some((dest, policy))) => match dest.as_ref() {
                Destination::Http {
                    url,
                    timeout,
                    authorization,
                    signing,
                    body,
                    dispatch,
                } => {
                    // Request-response: the invocation carries its deadline; nothing is sent
                    // after it, and no request may outlive it.
                    let rr = job.deadline_at.map(|deadline| {
                        let meta = request::ResponseMeta {
                            mode: dispatch.unwrap_or(DispatchMode::Sync),
                            callback_url: format!(
                                "{}/trigger-invocations/v1/{}/complete",
                                inner.config.callback_base.trim_end_matches('/'),
                                job.id
                            ),
                            secret: inner.config.secrets.secret(&job.id),
                        };
                        (deadline, meta)
                    });
                    if rr.as_ref().is_some_and(|(d, _)| started >= *d) {
                        let attempt = failed_attempt(n, started, TIMED_OUT);
                        let next = NextStep::Failed(TIMED_OUT.into());
                        let label = DeliveryOutcome::of(&next);
                        return self.finish(job, attempt, next, label);
                    }
                    let style = match (&rr, *body) {
                        (Some(_), BodyStyle::SailPointFireAndForget) => {
                            BodyStyle::SailPointRequestResponse
                        }
                        (_, style) => style,
                    };
                    // The route's body format: CloudEvents for events (request-response bodies
                    // carry their callback in the dialect's metadata, so they stay native).
                    let cloud = (rr.is_none() && job.kind != InvocationKind::Call)
                        .then(|| {
                            cloudevents::encode(policy.format, &job, &inner.config.callback_base)
                        })
                        .flatten();
                    let (body, content_type, extra) = match cloud {
                        Some(e) => (e.body, e.content_type, e.headers),
                        // A restAsync target of a call chain gets the call's body as built then.
                        None if job.kind == InvocationKind::Call => {
                            (job.payload.as_bytes().to_vec(), "application/json", vec![])
                        }
                        None => (
                            request::body(&job, style, rr.as_ref().map(|(_, m)| m)),
                            "application/json",
                            vec![],
                        ),
                    };
                    // Signatures cover the body exactly as sent.
                    let mut headers = request::headers(
                        &job,
                        &body,
                        signing,
                        authorization.as_deref(),
                        started.unix_seconds(),
                    );
                    request::set_content_type(&mut headers, content_type);
                    headers.extend(extra);
                    let prepared = Prepared { body, headers };
                    let recorded = prepared.recorded_headers();
                    // A subscription's policy may set its timeout; targets keep their own.
                    let timeout = match (job.route_kind, policy.timeout) {
                        (RouteKind::Subscription, Some(own)) => own,
                        _ => *timeout,
                    };
                    let timeout = match &rr {
                        Some((deadline, _)) => timeout.min(Duration::from_millis(
                            (deadline.millis() - started.millis()).max(1) as u64,
                        )),
                        None => timeout,
                    };
                    let resp: Response = inner
                        .sender
                        .post(url, &prepared.headers, prepared.body, timeout)
                        .await;
                    inner.metrics.latency(resp.duration);
                    let next = match &rr {
                        Some((deadline, meta)) => {
                            let plan = inner.routing.plan(&job.instance, &job.event_type).await;
                            let validator = plan.ok().and_then(|p| p.output_validator.clone());
                            let rules = ResponseRules {
                                mode: meta.mode,
                                validate_output: validator.as_ref(),
                                deadline: *deadline,
                            };
                            request_response_step(
                                &resp,
                                &rules,
                                round_n,
                                &schedule,
                                inner.clock.now(),
                                jitter,
                            )
                        }
                        None => next_step(
                            &resp,
                            round_n,
                            &schedule,
                            inner.clock.now(),
                            jitter,
                        ),
                    };
                    let answered = resp.error.is_none()
                        && resp.status.is_some_and(|s| (200..300).contains(&s));
                    let error = match &next {
                        NextStep::Delivered
                        | NextStep::Completed(_)
                        | NextStep::AwaitingCallback => None,
                        // An answer that arrived but did not do (invalid output): say why.
                        NextStep::Failed(m) if answered => Some(m.clone()),
                        _ => Some(describe(&resp)),
                    };
                    (
                        AttemptRecord {
                            n,
                            at: started,
                            request_headers: recorded,
                            status: resp.status,
                            duration_ms: resp.duration.as_millis() as u64,
                            response_excerpt: resp.excerpt(),
                            error,
                        },
                        next,
                    )
                }
                Destination::EventBridge { .. } => {
                    let wait = parked_wait(&schedule, round_n, jitter);
                    parked = true;
                    (
                        failed_attempt(
                            n,
                            started,
                            "EventBridge delivery not configured; the invocation stays queued",
                        ),
                        NextStep::RetryAt(started.plus(wait)),
                    )
                }
            },
            Ok(None) => {
                let reason = "the route no longer exists or was disabled";
                (
                    failed_attempt(n, started, &format!("cancelled: {reason}")),
                    NextStep::Cancelled(reason.into()),
                )
            }
            Err(e) => {
                // Could not even look the route up (store trouble): try again soon.
                let wait = parked_wait(&schedule, round_n, jitter);
                (
                    failed_attempt(n, started, &format!("route lookup failed: {e}")),
                    NextStep::RetryAt(started.plus(wait)),
                )
            }
        };
        let label = if parked {
            DeliveryOutcome::Parked
        } else {
            DeliveryOutcome::of(&next)
        };
        self.finish(job, attempt, next, label);
    }

    /// Counts the outcome and hands it to the writer.
    fn finish(&self, job: Claimed, attempt: AttemptRecord, next: NextStep, label: DeliveryOutcome) {
        let inner = &self.inner;
        inner.metrics.outcome(label);
        if let NextStep::FailedDisableRoute(_) = &next {
            inner.routing.invalidate(&job.instance);
        }
        inner.unrecorded.fetch_add(1, Ordering::SeqCst);
        let _ = inner.outcomes.send(Outcome {
            invocation_id: job.id,
            instance: job.instance,
            route_kind: job.route_kind,
            route_id: job.route_id,
            attempt,
            next,
            at: inner.clock.now(),
        });
    }
}

fn failed_attempt(n: u32, at: switchyard_core::Timestamp, error: &str) -> AttemptRecord {
    AttemptRecord {
        n,
        at,
        request_headers: serde_json::json!({}),
        status: None,
        duration_ms: 0,
        response_excerpt: None,
        error: Some(error.to_string()),
    }
}
