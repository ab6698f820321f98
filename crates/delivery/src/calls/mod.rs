//! Synchronous ZITADEL call chains (`POST /v1/calls`): the best-matching request, response or
//! function execution is run target by target and the final payload goes back to the caller.
//! The hot path touches no database: chains and keys come from [`plan::ChainCache`], requests go
//! through the engine's pooled, outbound-protected client, and the record of the call is handed
//! to a group-committing [`recorder::Recorder`]. A per-target circuit breaker
//! ([`breakers::Breakers`]) keeps one broken target from taking every call down with it
//! (zitadel#8205).
//!
//! restAsync targets are not awaited: each is written to the durable delivery queue as an
//! invocation carrying the body the chain built for it, so it is retried and logged like any
//! delivery and survives a crash; the call's record names that invocation.

pub mod answer;
pub mod breakers;
pub mod plan;
pub mod recorder;

pub use answer::CallContext;

use crate::payload_type::Encoded;
use crate::transport::{Response, SendError, Transports};
use crate::Engine;
use answer::Verdict;
use breakers::Breakers;
use plan::{ChainCache, ChainTarget};
use recorder::Recorder;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::breaker::{Admission, BreakerPolicy, BreakerSnapshot};
use switchyard_core::crypto::MasterKey;
use switchyard_core::invocation::DestinationKind;
use switchyard_core::signing::zitadel_signature;
use switchyard_core::zitadel::{Condition, TargetType};
use switchyard_core::{Clock, InstanceId, Timestamp};
use switchyard_store::calls::{CallAttempt, CallAttemptOutcome, CallRecord};
use switchyard_store::{Store, StoreError};

/// One call to run.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub instance: InstanceId,
    /// A request, response or function condition (events are published, not called).
    pub condition: Condition,
    /// The request (request conditions), the response (response conditions) or the function
    /// input; restCall answers replace it.
    pub payload: Value,
    pub context: CallContext,
}

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// A target answered `{forwardedStatusCode, forwardedErrorMessage}`.
    #[error("{message}")]
    Forwarded { status: u16, message: String },
    /// An interruptOnError target failed.
    #[error("target {target} failed: {message}")]
    TargetFailed {
        target: String,
        message: String,
        timed_out: bool,
    },
    /// An interruptOnError target's circuit is open.
    #[error("circuit open for target {target}; next try at {}", .retry_at.rfc3339())]
    CircuitOpen { target: String, retry_at: Timestamp },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CallError {
    /// The HTTP status the caller gets.
    pub fn http_status(&self) -> u16 {
        match self {
            CallError::Forwarded { status, .. } => *status,
            CallError::TargetFailed {
                timed_out: true, ..
            } => 504,
            CallError::TargetFailed { .. } => 502,
            CallError::CircuitOpen { .. } => 503,
            CallError::Store(_) => 500,
        }
    }
}

/// The result of a call and the id of its record.
#[derive(Debug)]
pub struct CallResult {
    pub call_id: String,
    pub outcome: Result<Value, CallError>,
}

/// Cheap-to-clone handle shared by the API.
#[derive(Clone)]
pub struct CallRunner {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    chains: ChainCache,
    breakers: Arc<Breakers>,
    recorder: Recorder,
    clock: Arc<dyn Clock>,
}

impl CallRunner {
    /// Builds the runner on the engine's HTTP client (one connection pool for everything).
    pub fn new(
        engine: &Engine,
        store: Arc<dyn Store>,
        master_key: MasterKey,
        clock: Arc<dyn Clock>,
        breaker: BreakerPolicy,
    ) -> Self {
        let breakers = Arc::new(Breakers::new(breaker, clock.clone()));
        engine.attach_breakers(breakers.clone());
        Self {
            inner: Arc::new(Inner {
                engine: engine.clone(),
                chains: ChainCache::new(store.clone(), master_key, clock.clone()),
                breakers,
                recorder: Recorder::spawn(store),
                clock,
            }),
        }
    }

    /// Forgets cached chains of `instance` (its targets or executions changed).
    pub fn invalidate(&self, instance: &InstanceId) {
        self.inner.chains.invalidate(instance);
    }

    /// The circuit breaker state of a target.
    pub fn health(&self, instance: &InstanceId, target: &str) -> BreakerSnapshot {
        self.inner.breakers.snapshot(instance, target)
    }

    /// Appends the breaker metrics in Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        self.inner.breakers.render(out);
    }

    /// Waits (bounded) until every call record handed off so far is written.
    pub async fn flush(&self, grace: Duration) {
        self.inner.recorder.flush(grace).await;
    }

    /// Runs the chain and records it.
    pub async fn call(&self, req: CallRequest) -> CallResult {
        let inner = &self.inner;
        let call_id = switchyard_core::ids::ordered_uuid();
        let created_at = inner.clock.now();
        let t0 = Instant::now();
        let mut attempts = Vec::new();
        let condition_key = req.condition.key();
        let instance = req.instance.clone();
        let outcome = self.run(req, &call_id, &mut attempts).await;
        let (status, error) = match &outcome {
            Ok(_) => (200, None),
            Err(e) => (e.http_status(), Some(e.to_string())),
        };
        inner.recorder.call(CallRecord {
            instance,
            id: call_id.clone(),
            condition: condition_key,
            created_at,
            duration_ms: t0.elapsed().as_millis() as u64,
            status,
            error,
            attempts,
        });
        CallResult { call_id, outcome }
    }

    async fn run(
        &self,
        req: CallRequest,
        call_id: &str,
        attempts: &mut Vec<CallAttempt>,
    ) -> Result<Value, CallError> {
        let inner = &self.inner;
        let mut payload = req.payload;
        let Some(chain) = inner.chains.get(&req.instance, &req.condition).await? else {
            return Ok(payload);
        };
        for target in &chain.targets {
            let n = attempts.len() as u32 + 1;
            let at = inner.clock.now();
            let interrupt = target.kind.interrupt_on_error();
            if let Admission::Rejected { retry_at } =
                inner.breakers.admit(&req.instance, &target.id)
            {
                attempts.push(attempt(
                    n,
                    target,
                    at,
                    CallAttemptOutcome::Skipped,
                    None,
                    Some(format!("circuit open; next try at {}", retry_at.rfc3339())),
                ));
                if interrupt {
                    return Err(CallError::CircuitOpen {
                        target: target.label(),
                        retry_at,
                    });
                }
                continue;
            }
            let body = answer::body(&req.condition, &req.instance, &req.context, &payload);
            if target.kind == TargetType::Async {
                let queued = inner
                    .engine
                    .enqueue_call_target(&req.instance, call_id, n, &target.id, body)
                    .await;
                let note = match &queued {
                    Ok(invocation) => format!("queued for delivery as invocation {invocation}"),
                    Err(e) => format!("could not be queued: {e}"),
                };
                let outcome = match queued {
                    Ok(_) => CallAttemptOutcome::Dispatched,
                    Err(_) => CallAttemptOutcome::Failed,
                };
                attempts.push(attempt(n, target, at, outcome, None, Some(note)));
                continue;
            }
            // The target's payload type applies to calls too; without a key to use the target
            // fails like one that did not answer.
            let encoded = inner
                .engine
                .encode_payload(&target.payload, &req.instance, at, &body)
                .await;
            let resp = match encoded {
                Ok(encoded) => send(inner.engine.transports(), target, encoded, at).await,
                Err(why) => Response::failed(SendError::Failed(why), Instant::now()),
            };
            let verdict = answer::verdict(target.kind, &resp);
            let healthy = !matches!(verdict, Verdict::Failed { .. });
            inner.breakers.record(&req.instance, &target.id, healthy);
            match verdict {
                Verdict::Ok(replacement) => {
                    attempts.push(attempt(
                        n,
                        target,
                        at,
                        CallAttemptOutcome::Succeeded,
                        Some(&resp),
                        None,
                    ));
                    if let Some(v) = replacement {
                        payload = v;
                    }
                }
                Verdict::Forwarded { status, message } => {
                    attempts.push(attempt(
                        n,
                        target,
                        at,
                        CallAttemptOutcome::Failed,
                        Some(&resp),
                        Some(format!("forwarded error {status}: {message}")),
                    ));
                    if interrupt {
                        return Err(CallError::Forwarded { status, message });
                    }
                }
                Verdict::Failed { message, timed_out } => {
                    attempts.push(attempt(
                        n,
                        target,
                        at,
                        CallAttemptOutcome::Failed,
                        Some(&resp),
                        Some(message.clone()),
                    ));
                    if interrupt {
                        return Err(CallError::TargetFailed {
                            target: target.label(),
                            message,
                            timed_out,
                        });
                    }
                }
            }
        }
        Ok(payload)
    }
}

/// Sends a signed body (JSON, or a JWS or JWE of it) to a target: an HTTP POST, over NATS a
/// request-reply (restCall: the reply is the answer) or a publish (restWebhook), or a publish to
/// any other broker.
async fn send(
    transports: &Transports,
    target: &ChainTarget,
    encoded: Encoded,
    at: Timestamp,
) -> Response {
    let body = encoded.body;
    let mut headers = vec![("content-type", encoded.content_type.to_string())];
    if !target.keys.is_empty() {
        let keys: Vec<&str> = target.keys.iter().map(String::as_str).collect();
        headers.push((
            "zitadel-signature",
            zitadel_signature(&keys, at.unix_seconds(), &body),
        ));
    }
    #[cfg(feature = "nats")]
    if target.url.kind() == DestinationKind::Nats {
        let nats = transports.nats();
        return match target.kind {
            TargetType::Call { .. } => {
                nats.request(&target.url, &headers, body, target.timeout)
                    .await
            }
            _ => {
                let msg = crate::prepare::Prepared {
                    event_type: String::new(),
                    body,
                    headers,
                };
                nats.publish(&target.url, msg, target.timeout).await
            }
        };
    }
    if target.url.kind() != DestinationKind::Http {
        if let Err(missing) = crate::transport::compiled_in(target.url.kind()) {
            return Response::failed(SendError::Unavailable(missing), Instant::now());
        }
        // Other brokers take a publish only: a restCall needs an answer.
        if let TargetType::Call { .. } = target.kind {
            return Response::failed(
                crate::transport::SendError::Failed(format!(
                    "a restCall target must answer: {} destinations take no request-reply (use http(s) or nats)",
                    target.url.kind().as_str()
                )),
                Instant::now(),
            );
        }
        let msg = crate::prepare::Prepared {
            event_type: String::new(),
            body,
            headers,
        };
        let endpoint = crate::routing::Endpoint::of_url(target.url.clone());
        return transports.send(&endpoint, msg, target.timeout).await;
    }
    transports
        .http()
        .post(&target.url, &headers, body, target.timeout)
        .await
}

fn attempt(
    n: u32,
    target: &ChainTarget,
    at: Timestamp,
    outcome: CallAttemptOutcome,
    resp: Option<&Response>,
    error: Option<String>,
) -> CallAttempt {
    CallAttempt {
        n,
        target_id: target.id.clone(),
        at,
        outcome,
        status: resp.and_then(|r| r.status),
        duration_ms: resp.map_or(0, |r| r.duration.as_millis() as u64),
        error,
        response_excerpt: resp.and_then(Response::excerpt),
    }
}
