//! Route health and operator events. Every attempt's outcome (except for deliveries of operator
//! events themselves, so a broken operator route cannot feed itself) is handed to one task per
//! node, which aggregates what arrived since its last round per route and reports it to the
//! store ([`switchyard_store::RouteHealthStore`], shared by the nodes). What changed becomes an
//! operator event, published through the normal publish path of the route's own instance, so
//! users receive it through any subscription or execution:
//! `switchyard:route-failing` (N failures in a row), `switchyard:route-recovered`,
//! `switchyard:route-disabled` (410 Gone, `autoDisable`, or an operator) and
//! `switchyard:attempts-exhausted`. Operator events carry ids derived from what they report, so a
//! report published twice (a retry, two nodes seeing one 410) is one event.

use crate::engine::Engine;
use crate::publish::PublishRequest;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use switchyard_core::operator::{self, DisableReason};
use switchyard_core::Timestamp;
use switchyard_store::health::{HealthChange, RouteKey, RouteObservation};
use switchyard_store::queue::{InvocationKind, RouteKind};
use tokio::sync::mpsc;

/// Most signals aggregated into one store report.
const BATCH: usize = 4096;

/// When routes count as failing, and when a failing route is switched off.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthConfig {
    /// Consecutive failed attempts after which a route is reported failing.
    pub failing_after: u32,
    /// A route failing without a single success this long is disabled (the server default; a
    /// route's own policy may set another).
    pub auto_disable_after: Option<Duration>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            failing_after: 5,
            auto_disable_after: Some(Duration::from_secs(72 * 3600)),
        }
    }
}

/// What the delivery stage tells the health task.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    /// An attempt was made; `error` is `None` when it delivered. `auto_disable_after` is the
    /// route's period (its policy's `autoDisable.after`, else the server's; `None`: never).
    Attempt {
        route: RouteKey,
        at: Timestamp,
        error: Option<String>,
        auto_disable_after: Option<Duration>,
    },
    /// An invocation failed for good.
    Exhausted {
        route: RouteKey,
        invocation_id: String,
        event_id: String,
        event_type: String,
        attempts: u32,
        last_error: String,
        at: Timestamp,
    },
    /// The receiver answered 410 Gone: the route was switched off.
    Gone { route: RouteKey, at: Timestamp },
    /// Someone switched the route off through the API.
    DisabledByOperator { route: RouteKey, at: Timestamp },
}

/// Whether deliveries of `event_type` are reported on (operator events are not).
pub(crate) fn observed(event_type: &str, kind: InvocationKind) -> bool {
    kind == InvocationKind::RealTime && !operator::is_operator_event(event_type)
}

impl Engine {
    /// Runs until the engine's signal channel closes.
    pub(crate) async fn health_loop(self, mut rx: mpsc::UnboundedReceiver<Signal>) {
        let mut batch = Vec::with_capacity(64);
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(s) => batch.push(s),
                    Err(_) => break,
                }
            }
            self.health_round(std::mem::take(&mut batch)).await;
        }
    }

    async fn health_round(&self, batch: Vec<Signal>) {
        let config = self.health_config();
        let mut order: Vec<RouteKey> = Vec::new();
        let mut seen: HashMap<RouteKey, RouteObservation> = HashMap::new();
        let mut events: Vec<(RouteKey, &'static str, String, Value)> = Vec::new();
        for signal in batch {
            match signal {
                Signal::Attempt {
                    route,
                    at,
                    error,
                    auto_disable_after,
                } => {
                    let o = seen.entry(route.clone()).or_insert_with(|| {
                        order.push(route.clone());
                        RouteObservation::new(route)
                    });
                    // The latest attempt carries the route's current policy.
                    o.auto_disable_after = auto_disable_after;
                    match error {
                        None => o.success(at),
                        Some(e) => o.failure(at, &e),
                    }
                }
                Signal::Exhausted {
                    route,
                    invocation_id,
                    event_id,
                    event_type,
                    attempts,
                    last_error,
                    at,
                } => {
                    let id = format!("attempts-exhausted:{invocation_id}:{attempts}");
                    let payload = json!({
                        "route": route_json(&route),
                        "invocationId": invocation_id,
                        "eventId": event_id,
                        "eventType": event_type,
                        "attempts": attempts,
                        "lastError": last_error,
                        "failedAt": at.rfc3339(),
                    });
                    events.push((route, operator::ATTEMPTS_EXHAUSTED, id, payload));
                }
                Signal::Gone { route, at } => {
                    events.push(disabled_event(
                        route,
                        DisableReason::Gone,
                        "the receiver answered 410 Gone; the route was disabled".into(),
                        at,
                        None,
                    ));
                }
                Signal::DisabledByOperator { route, at } => {
                    events.push(disabled_event(
                        route,
                        DisableReason::Operator,
                        "the route was disabled through the API".into(),
                        at,
                        None,
                    ));
                }
            }
        }
        let observations: Vec<RouteObservation> =
            order.into_iter().filter_map(|k| seen.remove(&k)).collect();
        let changes = self
            .report_health(&observations, config.failing_after)
            .await;
        for change in changes {
            events.push(match change {
                HealthChange::Failing {
                    route,
                    consecutive_failures,
                    failing_since,
                    last_error,
                } => {
                    let id = format!(
                        "route-failing:{}:{}:{}",
                        route_kind(route.kind),
                        route.route_id,
                        failing_since.millis()
                    );
                    let payload = json!({
                        "route": route_json(&route),
                        "consecutiveFailures": consecutive_failures,
                        "failingSince": failing_since.rfc3339(),
                        "lastError": last_error,
                    });
                    (route, operator::ROUTE_FAILING, id, payload)
                }
                HealthChange::Recovered {
                    route,
                    failing_since,
                    recovered_at,
                    failures,
                } => {
                    let id = format!(
                        "route-recovered:{}:{}:{}",
                        route_kind(route.kind),
                        route.route_id,
                        failing_since.millis()
                    );
                    let payload = json!({
                        "route": route_json(&route),
                        "failingSince": failing_since.rfc3339(),
                        "recoveredAt": recovered_at.rfc3339(),
                        "failures": failures,
                    });
                    (route, operator::ROUTE_RECOVERED, id, payload)
                }
                HealthChange::AutoDisabled {
                    route,
                    failing_since,
                    disabled_at,
                } => {
                    self.routing().invalidate(&route.instance);
                    disabled_event(
                        route,
                        DisableReason::AutoDisable,
                        format!(
                            "no successful delivery since {} (autoDisable); the route was disabled",
                            failing_since.rfc3339()
                        ),
                        disabled_at,
                        Some(failing_since),
                    )
                }
            });
        }
        for (route, event_type, id, payload) in events {
            self.publish_operator_event(route, event_type, id, payload)
                .await;
        }
    }

    /// Reports to the store, retrying a few times (a lost report only loses counts).
    async fn report_health(
        &self,
        observations: &[RouteObservation],
        failing_after: u32,
    ) -> Vec<HealthChange> {
        let mut backoff = Duration::from_millis(50);
        for _ in 0..5 {
            match self
                .store()
                .observe_routes(observations, failing_after)
                .await
            {
                Ok(changes) => return changes,
                Err(e) => {
                    tracing::warn!(error = %e, "recording route health failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
            }
        }
        Vec::new()
    }

    async fn publish_operator_event(
        &self,
        route: RouteKey,
        event_type: &'static str,
        id: String,
        payload: Value,
    ) {
        let req = PublishRequest {
            instance: route.instance,
            // In the reserved namespace: no producer can take an operator event's id.
            id: Some(format!("{}{id}", operator::NAMESPACE)),
            event_type: event_type.to_string(),
            payload,
            kind: InvocationKind::RealTime,
            only_subscriptions: None,
            include_disabled: false,
            content_json: None,
            with_secrets: false,
            expect_request_response: Some(false),
        };
        // The store may be briefly unavailable: try a few times (the id makes a retry that
        // did land the first time a no-op). Shutting down or an invalid event ends it.
        let mut backoff = Duration::from_millis(50);
        for left in (0..5).rev() {
            match self.publish(req.clone()).await {
                Ok(_) => return,
                Err(e @ crate::publish::PublishError::Store(_)) if left > 0 => {
                    tracing::warn!(error = %e, event_type, "publishing an operator event failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(e) => {
                    tracing::warn!(error = %e, event_type, "publishing an operator event failed");
                    return;
                }
            }
        }
    }
}

fn route_json(route: &RouteKey) -> Value {
    json!({"kind": route_kind(route.kind), "id": route.route_id})
}

fn route_kind(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::Subscription => "subscription",
        RouteKind::Target => "target",
    }
}

/// A `switchyard:route-disabled` event; its id names the route and the minute, so nodes that
/// saw the same 410 (or a report retried) publish it once.
fn disabled_event(
    route: RouteKey,
    reason: DisableReason,
    detail: String,
    at: Timestamp,
    failing_since: Option<Timestamp>,
) -> (RouteKey, &'static str, String, Value) {
    let id = format!(
        "route-disabled:{}:{}:{}:{}",
        reason.as_str(),
        route_kind(route.kind),
        route.route_id,
        failing_since.map_or(at.millis() / 60_000, |t| t.millis())
    );
    let mut payload = json!({
        "route": route_json(&route),
        "reason": reason.as_str(),
        "detail": detail,
        "disabledAt": at.rfc3339(),
    });
    if let Some(t) = failing_since {
        payload["failingSince"] = json!(t.rfc3339());
    }
    (route, operator::ROUTE_DISABLED, id, payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::sailpoint::TriggerCatalog;
    use switchyard_core::InstanceId;

    fn route() -> RouteKey {
        RouteKey {
            instance: InstanceId::parse("acme").unwrap(),
            kind: RouteKind::Target,
            route_id: "t-1".into(),
        }
    }

    #[test]
    fn disabled_events_match_their_schema() {
        let catalog = TriggerCatalog::builtin();
        let trigger = catalog.get(operator::ROUTE_DISABLED).unwrap();
        for (reason, since) in [
            (DisableReason::Gone, None),
            (DisableReason::Operator, None),
            (DisableReason::AutoDisable, Some(Timestamp(1_000))),
        ] {
            let (_, t, id, payload) =
                disabled_event(route(), reason, "why".into(), Timestamp(90_000), since);
            assert_eq!(t, operator::ROUTE_DISABLED);
            assert!(id.starts_with(&format!("route-disabled:{}:target:t-1:", reason.as_str())));
            trigger
                .validate_input(&payload)
                .unwrap_or_else(|e| panic!("{payload}: {e:?}"));
        }
    }

    #[test]
    fn operator_events_are_not_observed() {
        assert!(observed("idn:identity-created", InvocationKind::RealTime));
        assert!(!observed(operator::ROUTE_FAILING, InvocationKind::RealTime));
        assert!(!observed("idn:identity-created", InvocationKind::Test));
    }
}
