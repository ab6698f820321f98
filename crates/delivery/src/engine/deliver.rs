//! One attempt of one invocation, as explicit stages: look the route up → [`prepare`] the
//! message from the route's settings → encode it in the target's payload type
//! ([`crate::payload_type`]) → send it through the route's transport
//! ([`crate::transport`]) → [`classify`] the response into the next step → record the attempt
//! (handed to the group-committing writer). Request-response deliveries carry their deadline;
//! nothing is sent after it, and no send may outlive it.
//!
//! [`prepare`]: crate::prepare::prepare
//! [`classify`]: crate::classify

use super::Engine;
use crate::classify::{
    classify, describe, next_step, parked_wait, request_response_step, ResponseRules, Verdict,
};
use crate::cloudevents;
use crate::health::{self, Signal};
use crate::metrics::DeliveryOutcome;
use crate::prepare::{self, Prepared, ResponseMeta};
use crate::routing::Destination;
use crate::transport::{self, Response, SendError};
use rand::Rng;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use switchyard_core::policy::{OnFailure, RoutePolicy};
use switchyard_core::sailpoint::DispatchMode;
use switchyard_core::Timestamp;
use switchyard_store::health::RouteKey;
use switchyard_store::queue::{
    AttemptRecord, Claimed, InvocationKind, NextStep, Outcome, RouteKind, TIMED_OUT,
};
use tokio::sync::OwnedSemaphorePermit;

/// Everything one attempt is judged and numbered by.
struct Attempt {
    /// Number among all attempts of the invocation (1-based).
    n: u32,
    /// Number within the current round (since the last replay), for the schedule.
    round_n: u32,
    started: Timestamp,
    jitter: f64,
}

impl Engine {
    /// Delivers one invocation and hands the outcome to the writer.
    pub(super) async fn deliver(self, job: Claimed, _permit: OwnedSemaphorePermit) {
        let inner = &self.inner;
        let at = Attempt {
            n: job.attempts_done + 1,
            round_n: job.round_attempts + 1,
            started: inner.clock.now(),
            jitter: rand::thread_rng().gen(),
        };
        if let Some(reason) = job.cancel_reason.clone() {
            // Its route went away while an earlier attempt was in flight (that attempt's node
            // stopped before it could record it): nothing more is sent.
            return self.finish_unsent(job, &at, NextStep::Cancelled(reason));
        }
        // The route's delivery policy comes with its destination (both cached).
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
        match dest {
            Ok(Some((dest, policy))) => self.attempt(job, &dest, &policy, &at).await,
            Ok(None) => {
                let reason = "the route no longer exists or was disabled";
                self.finish_unsent(job, &at, NextStep::Cancelled(reason.into()))
            }
            Err(e) => {
                // Could not even look the route up (store trouble): try again soon.
                let wait = parked_wait(&inner.config.schedule, at.round_n, at.jitter);
                let next = NextStep::RetryAt(at.started.plus(wait));
                let error = format!("route lookup failed: {e}");
                let attempt = unsent(&at, &next, &error);
                let label = DeliveryOutcome::of(&next);
                self.finish(job, attempt, next, label)
            }
        }
    }

    /// Prepare → send → classify → record, for a route that exists.
    async fn attempt(&self, job: Claimed, dest: &Destination, policy: &RoutePolicy, at: &Attempt) {
        let inner = &self.inner;
        // The route's own schedule and tries (or the server's) decide retries.
        let schedule = policy.schedule(&inner.config.schedule);
        // A subscription's policy may set its timeout; targets keep their own.
        let dest_timeout = match (job.route_kind, policy.timeout) {
            (RouteKind::Subscription, Some(own)) => own,
            _ => dest.timeout,
        };
        // Request-response: the invocation carries its deadline; nothing is sent after it, and
        // no send may outlive it.
        let rr = job.deadline_at.map(|deadline| {
            let meta = ResponseMeta {
                mode: dest.dispatch.unwrap_or(DispatchMode::Sync),
                callback_url: format!(
                    "{}/trigger-invocations/v1/{}/complete",
                    inner.config.callback_base.trim_end_matches('/'),
                    job.id
                ),
                secret: inner.config.secrets.secret(&job.id),
            };
            (deadline, meta)
        });
        if rr.as_ref().is_some_and(|(d, _)| at.started >= *d) {
            let next = NextStep::Failed(TIMED_OUT.into());
            return self.finish_unsent(job, at, next);
        }
        let timeout = match &rr {
            Some((deadline, _)) => dest_timeout.min(Duration::from_millis(
                (deadline.millis() - at.started.millis()).max(1) as u64,
            )),
            None => dest_timeout,
        };

        // The route's body format: CloudEvents for events (request-response bodies carry their
        // callback in the dialect's metadata, and call-chain bodies were built by the chain, so
        // both stay as they are). Signatures cover the body exactly as sent.
        let cloud = (rr.is_none() && job.kind != InvocationKind::Call)
            .then(|| cloudevents::encode(policy.format, &job, &inner.config.callback_base))
            .flatten();
        let prepared = match cloud {
            Some(e) => prepare::prepare_encoded(&job, dest, e, at.started.unix_seconds()),
            None => prepare::prepare(
                &job,
                dest,
                rr.as_ref().map(|(_, m)| m),
                at.started.unix_seconds(),
            ),
        };
        // ZITADEL targets: the body as a JWS or JWE when the target asks for it. Without a key
        // to use the attempt fails before sending and is retried like any failed attempt.
        let (prepared, not_sent) = match self.encoded(&job, dest, prepared, at).await {
            Ok(p) => (p, None),
            Err((p, why)) => (p, Some(why)),
        };
        let recorded = prepared.recorded_headers();

        let resp: Response = match not_sent {
            Some(why) => Response::failed(SendError::Failed(why), Instant::now()),
            None => {
                inner
                    .transports
                    .send(&dest.endpoint, prepared, timeout)
                    .await
            }
        };
        inner.metrics.latency(resp.duration);

        let verdict = classify(&resp);
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
                    at.round_n,
                    &schedule,
                    inner.clock.now(),
                    at.jitter,
                )
            }
            None => next_step(&resp, at.round_n, &schedule, inner.clock.now(), at.jitter),
        };
        let next = skip_if_ordered(next, &job, policy, &verdict);

        let error = match &next {
            NextStep::Delivered | NextStep::Completed(_) | NextStep::AwaitingCallback => None,
            // An answer that was accepted but did not do (invalid output): say why.
            NextStep::Failed(m) if verdict == Verdict::Delivered => Some(m.clone()),
            _ => Some(describe(&resp)),
        };
        let attempt = AttemptRecord {
            n: at.n,
            at: at.started,
            transport: Some(transport::kind(&dest.endpoint)),
            destination: Some(dest.endpoint.masked()),
            outcome: Some(next.attempt_outcome()),
            request_headers: recorded,
            status: resp.status,
            duration_ms: resp.duration.as_millis() as u64,
            response_excerpt: resp.excerpt(),
            error,
        };
        let label = match verdict {
            Verdict::Parked(_) => DeliveryOutcome::Parked,
            _ => DeliveryOutcome::of(&next),
        };
        inner
            .metrics
            .transport_outcome(transport::kind(&dest.endpoint), label);
        // A parked attempt sent nothing: it says nothing about the receiver.
        if !matches!(verdict, Verdict::Parked(_)) {
            self.observe(&job, &attempt, &next, policy);
        }
        self.finish(job, attempt, next, label);
    }

    /// The prepared message in the route's payload type (JSON: unchanged). On failure the
    /// message comes back unchanged with the reason, which becomes the attempt's error.
    async fn encoded(
        &self,
        job: &Claimed,
        dest: &Destination,
        prepared: Prepared,
        at: &Attempt,
    ) -> Result<Prepared, (Prepared, String)> {
        if dest.payload.is_json() {
            return Ok(prepared);
        }
        let (instance, now) = (&job.instance, at.started);
        match self
            .encode_payload(&dest.payload, instance, now, &prepared.body)
            .await
        {
            Ok(encoded) => Ok(prepare::reencoded(
                job,
                dest,
                prepared,
                encoded,
                at.started.unix_seconds(),
            )),
            Err(why) => Err((prepared, why)),
        }
    }

    /// Records an attempt that sent nothing (cancelled, or past its deadline).
    fn finish_unsent(&self, job: Claimed, at: &Attempt, next: NextStep) {
        let error = match &next {
            NextStep::Cancelled(reason) => format!("cancelled: {reason}"),
            NextStep::Failed(m) => m.clone(),
            other => format!("{other:?}"),
        };
        let attempt = unsent(at, &next, &error);
        let label = DeliveryOutcome::of(&next);
        self.finish(job, attempt, next, label);
    }

    /// Counts the outcome, reports a final failure as `switchyard:attempts-exhausted`, and hands
    /// the outcome to the writer.
    fn finish(&self, job: Claimed, attempt: AttemptRecord, next: NextStep, label: DeliveryOutcome) {
        let inner = &self.inner;
        inner.metrics.outcome(label);
        if let NextStep::Failed(reason) = &next {
            if health::observed(&job.event_type, job.kind) {
                let _ = inner.signals.send(Signal::Exhausted {
                    route: route_key(&job),
                    invocation_id: job.id.clone(),
                    event_id: job.event_id.clone(),
                    event_type: job.event_type.clone(),
                    attempts: attempt.n,
                    last_error: reason.clone(),
                    at: attempt.at,
                });
            }
        }
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

/// FIFO with `onFailure: "skip"`: a keyed invocation whose attempt failed is not retried (a
/// retry would either hold its key up, which is `block`, or go out of order); it ends failed, an
/// operator may replay it, and the next invocation of its key goes on. An attempt parked by the
/// destination's circuit breaker is no failure of this delivery and is retried as usual.
fn skip_if_ordered(
    next: NextStep,
    job: &Claimed,
    policy: &RoutePolicy,
    verdict: &Verdict,
) -> NextStep {
    let skips = job.ordered
        && policy
            .ordering
            .as_ref()
            .is_some_and(|o| o.on_failure == OnFailure::Skip);
    match next {
        NextStep::RetryAt(_) if skips && !matches!(verdict, Verdict::Parked(_)) => {
            NextStep::Failed(
                "not retried: the route delivers in order per key with onFailure \"skip\"".into(),
            )
        }
        other => other,
    }
}

impl Engine {
    /// Feeds an attempt that reached (or tried to reach) the receiver to the target's circuit
    /// breaker, and to route health, with the route's `autoDisable` period (its policy's, else
    /// the server's). Deliveries of operator events and test invocations are not reported on,
    /// so a broken operator route cannot feed itself.
    fn observe(
        &self,
        job: &Claimed,
        attempt: &AttemptRecord,
        next: &NextStep,
        policy: &RoutePolicy,
    ) {
        let inner = &self.inner;
        let ok = matches!(
            next,
            NextStep::Delivered | NextStep::Completed(_) | NextStep::AwaitingCallback
        );
        if job.route_kind == RouteKind::Target {
            if let Some(breakers) = inner.breakers.get() {
                breakers.record(&job.instance, &job.route_id, ok);
            }
        }
        if !health::observed(&job.event_type, job.kind) {
            return;
        }
        let route = route_key(job);
        let error = (!ok).then(|| {
            attempt
                .error
                .clone()
                .unwrap_or_else(|| "delivery failed".to_string())
        });
        let _ = inner.signals.send(Signal::Attempt {
            route: route.clone(),
            at: attempt.at,
            error,
            auto_disable_after: policy
                .auto_disable_after
                .or(inner.config.health.auto_disable_after),
        });
        if let NextStep::FailedDisableRoute(_) = next {
            let _ = inner.signals.send(Signal::Gone {
                route,
                at: attempt.at,
            });
        }
    }
}

fn route_key(job: &Claimed) -> RouteKey {
    RouteKey {
        instance: job.instance.clone(),
        kind: job.route_kind,
        route_id: job.route_id.clone(),
    }
}

/// The record of an attempt that sent nothing.
fn unsent(at: &Attempt, next: &NextStep, error: &str) -> AttemptRecord {
    AttemptRecord {
        n: at.n,
        at: at.started,
        transport: None,
        destination: None,
        outcome: Some(next.attempt_outcome()),
        request_headers: serde_json::json!({}),
        status: None,
        duration_ms: 0,
        response_excerpt: None,
        error: Some(error.to_string()),
    }
}
