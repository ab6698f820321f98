//! Accepting an event: validate the payload against the trigger, fan it out over the cached
//! plan (matching subscriptions, then the execution's targets as an ordered chain), and commit
//! the event with all its invocations in one group-committed transaction before answering.

use crate::routing::{FanoutPlan, RoutingError};
use serde_json::{json, Value};
use switchyard_core::crypto::{self, InvocationSecrets};
use switchyard_core::policy::KeyPath;
use switchyard_core::{ids, InstanceId, Timestamp};
use switchyard_store::queue::{InitialState, InvocationKind, NewEvent, NewInvocation, RouteKind};

/// A producer's request to publish one event.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub instance: InstanceId,
    /// The producer's id: publishing again with the same id is a no-op returning the first answer.
    pub id: Option<String>,
    pub event_type: String,
    pub payload: Value,
    pub kind: InvocationKind,
    /// Restricts the fan-out to these subscriptions (test invocations).
    pub only_subscriptions: Option<Vec<String>>,
    /// Include disabled subscriptions (test invocations ignore `enabled`).
    pub include_disabled: bool,
    /// SailPoint's `contentJson` metadata map, kept with the event.
    pub content_json: Option<Value>,
    /// Give every invocation a secret (returned once in [`Published::secrets`], stored hashed).
    /// Request-response invocations always get one (their callback needs it); this only decides
    /// whether it is returned.
    pub with_secrets: bool,
    /// `Some(true)`: the type must be a request-response trigger (starting one); `Some(false)`:
    /// it must not be (publishing an event); `None`: either (test invocations).
    pub expect_request_response: Option<bool>,
}

/// The answer to a publish.
#[derive(Debug, Clone)]
pub struct Published {
    /// `{eventId, invocations}` as first given.
    pub response: Value,
    pub duplicate: bool,
    /// (invocation id, secret) when secrets were asked for; empty for a duplicate.
    pub secrets: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Routing(#[from] RoutingError),
    #[error("{0}")]
    Invalid(String),
    #[error("the server is shutting down")]
    Unavailable,
    #[error("storing the event failed: {0}")]
    Store(String),
}

/// Checks what every payload must be, independent of the trigger.
pub fn check_payload(payload: &Value) -> Result<(), PublishError> {
    let obj = payload
        .as_object()
        .ok_or_else(|| PublishError::Invalid("payload must be a JSON object".into()))?;
    if obj.contains_key("_metadata") {
        return Err(PublishError::Invalid(
            "payload must not contain '_metadata': Switchyard adds it on delivery".into(),
        ));
    }
    Ok(())
}

/// Checks a producer-chosen event id.
pub fn check_event_id(id: &str) -> Result<(), PublishError> {
    let ok = !id.is_empty() && id.len() <= 200 && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(PublishError::Invalid(
            "id must be 1 to 200 printable ASCII characters without spaces".into(),
        ))
    }
}

/// Checks the trigger kind against what the caller asked for.
pub fn check_kind(req: &PublishRequest, plan: &FanoutPlan) -> Result<(), RoutingError> {
    match (req.expect_request_response, plan.request_response) {
        (Some(false), true) => Err(RoutingError::NotFireAndForget(req.event_type.clone())),
        (Some(true), false) => Err(RoutingError::NotRequestResponse(req.event_type.clone())),
        _ => Ok(()),
    }
}

/// An event ready to commit, with the answer to give its producer.
pub struct BuiltEvent {
    pub event: NewEvent,
    /// `{eventId, invocations}`; `event.response` holds the same as text.
    pub response: Value,
    /// (invocation id, secret) when the request asked for secrets.
    pub secrets: Vec<(String, String)>,
}

/// Builds the event row and its invocations, one for each subscription in `selected` (indices
/// into the plan's, see [`crate::filters`]) and, for real-time events, the execution's chain.
/// `lease` is `Some(until)` when the caller reserved worker capacity for every immediately-due
/// invocation (the fast path). Request-response invocations get their deadline (now + the
/// subscription's response deadline) and a secret derived from their id, of which only the
/// hash is stored.
pub fn build_event(
    req: &PublishRequest,
    plan: &FanoutPlan,
    selected: &[usize],
    payload_text: String,
    now: Timestamp,
    lease: Option<Timestamp>,
    keys: &InvocationSecrets,
) -> BuiltEvent {
    let event_id = req.id.clone().unwrap_or_else(ids::ordered_uuid);
    let due = match lease {
        Some(until) => InitialState::Leased(until),
        None => InitialState::Pending,
    };
    // FIFO per key orders real-time event deliveries; test invocations and request-response
    // invocations (bounded by their deadline, answered through a callback) are not ordered.
    let ordered = req.kind == InvocationKind::RealTime && !plan.request_response;
    let key_of = |path: &Option<KeyPath>| {
        path.as_ref()
            .filter(|_| ordered)
            .and_then(|p| p.key_of(&req.payload))
    };
    let mut invocations = Vec::new();
    for sub in selected.iter().filter_map(|i| plan.subscriptions.get(*i)) {
        let order_key = key_of(&sub.ordering);
        invocations.push(NewInvocation {
            id: ids::ordered_uuid(),
            secret_hash: None,
            route_kind: RouteKind::Subscription,
            route_id: sub.id.clone(),
            state: queued_if(due, sub.gated || order_key.is_some()),
            chain_next: None,
            interrupt_on_error: false,
            deadline_at: plan
                .request_response
                .then(|| now.plus(sub.response_deadline)),
            gated: sub.gated,
            order_key,
        });
    }
    if req.kind == InvocationKind::RealTime {
        invocations.extend(chain(plan, due, &key_of));
    }
    let mut secrets = Vec::new();
    if req.with_secrets || plan.request_response {
        for inv in &mut invocations {
            let secret = keys.secret(&inv.id);
            inv.secret_hash = Some(crypto::hash_secret(&secret));
            if req.with_secrets {
                secrets.push((inv.id.clone(), secret));
            }
        }
    }
    let response = json!({
        "eventId": event_id,
        "invocations": invocations.iter().map(|i| json!({
            "id": i.id, "routeKind": i.route_kind.as_str(), "routeId": i.route_id,
        })).collect::<Vec<_>>(),
    });
    let event = NewEvent {
        instance: req.instance.clone(),
        id: event_id,
        event_type: req.event_type.clone(),
        payload: payload_text.into(),
        content_json: req.content_json.as_ref().map(Value::to_string),
        created_at: now,
        kind: req.kind,
        invocations,
        response: response.to_string(),
    };
    BuiltEvent {
        event,
        response,
        secrets,
    }
}

/// The execution's targets: awaited targets form a chain in list order (each waits for the one
/// before); restAsync targets are due at once and hold nothing up.
fn chain(
    plan: &FanoutPlan,
    due: InitialState,
    key_of: &dyn Fn(&Option<KeyPath>) -> Option<String>,
) -> Vec<NewInvocation> {
    let mut out: Vec<NewInvocation> = Vec::with_capacity(plan.targets.len());
    let mut last_awaited: Option<usize> = None;
    for t in &plan.targets {
        let id = ids::ordered_uuid();
        let order_key = key_of(&t.ordering);
        let state = if t.awaited && last_awaited.is_some() {
            InitialState::Waiting
        } else {
            queued_if(due, t.gated || order_key.is_some())
        };
        if t.awaited {
            if let Some(prev) = last_awaited {
                out[prev].chain_next = Some(id.clone());
            }
            last_awaited = Some(out.len());
        }
        out.push(NewInvocation {
            id,
            secret_hash: None,
            route_kind: RouteKind::Target,
            route_id: t.id.clone(),
            state,
            chain_next: None,
            interrupt_on_error: t.interrupt_on_error,
            deadline_at: None,
            gated: t.gated,
            order_key,
        });
    }
    out
}

/// An invocation of a gated or ordered route goes through the durable queue (its gate, its
/// key's line): never leased at once on the fast path.
fn queued_if(due: InitialState, queued: bool) -> InitialState {
    match due {
        InitialState::Leased(_) if queued => InitialState::Pending,
        other => other,
    }
}

/// How many invocations of `ev` could start at once (leased for the fast path: they need a
/// worker now).
pub fn immediately_due(ev: &NewEvent) -> usize {
    ev.invocations
        .iter()
        .filter(|i| matches!(i.state, InitialState::Leased(_)))
        .count()
}

/// A real-time publish of `payload` as event type `t` to the default instance (unit tests).
#[cfg(test)]
pub(crate) fn test_request(payload: Value) -> PublishRequest {
    PublishRequest {
        instance: InstanceId::default_instance(),
        id: None,
        event_type: "t".into(),
        payload,
        kind: InvocationKind::RealTime,
        only_subscriptions: None,
        include_disabled: false,
        content_json: None,
        with_secrets: false,
        expect_request_response: None,
    }
}

#[cfg(test)]
mod tests {
    use super::test_request as req;
    use super::*;
    use crate::routing::{PlannedSubscription, PlannedTarget};
    use std::time::Duration;

    #[test]
    fn selected_subscriptions_and_targets_chain_in_order() {
        let plan = FanoutPlan {
            validator: None,
            request_response: false,
            output_validator: None,
            subscriptions: vec![
                PlannedSubscription {
                    id: "all".into(),
                    enabled: true,
                    filter: None,
                    response_deadline: Duration::from_secs(3600),
                    gated: false,
                    ordering: None,
                },
                PlannedSubscription {
                    id: "off".into(),
                    enabled: false,
                    filter: None,
                    response_deadline: Duration::from_secs(3600),
                    gated: false,
                    ordering: None,
                },
                PlannedSubscription {
                    id: "none".into(),
                    enabled: true,
                    filter: None,
                    response_deadline: Duration::from_secs(3600),
                    gated: false,
                    ordering: None,
                },
            ],
            targets: vec![
                PlannedTarget {
                    id: "a".into(),
                    awaited: true,
                    interrupt_on_error: true,
                    gated: false,
                    ordering: None,
                },
                PlannedTarget {
                    id: "async".into(),
                    awaited: false,
                    interrupt_on_error: false,
                    gated: false,
                    ordering: None,
                },
                PlannedTarget {
                    id: "b".into(),
                    awaited: true,
                    interrupt_on_error: false,
                    gated: false,
                    ordering: None,
                },
            ],
        };
        let keys = InvocationSecrets::random();
        let BuiltEvent {
            event: ev, secrets, ..
        } = build_event(
            &req(json!({})),
            &plan,
            &[0],
            "{}".into(),
            Timestamp(1),
            None,
            &keys,
        );
        assert!(secrets.is_empty());
        let routes: Vec<&str> = ev.invocations.iter().map(|i| i.route_id.as_str()).collect();
        assert_eq!(routes, ["all", "a", "async", "b"]);
        assert_eq!(
            ev.invocations[1].chain_next.as_deref(),
            Some(ev.invocations[3].id.as_str())
        );
        assert_eq!(ev.invocations[2].state, InitialState::Pending);
        assert_eq!(ev.invocations[3].state, InitialState::Waiting);
        // Without a lease (no free workers) nothing starts at once.
        assert_eq!(immediately_due(&ev), 0);
    }

    #[test]
    fn gated_routes_never_take_the_fast_path() {
        let sub = |id: &str, gated| PlannedSubscription {
            id: id.into(),
            enabled: true,
            filter: None,
            response_deadline: Duration::from_secs(1),
            gated,
            ordering: None,
        };
        let plan = FanoutPlan {
            subscriptions: vec![sub("free", false), sub("limited", true)],
            ..FanoutPlan::default()
        };
        let lease = Some(Timestamp(100));
        let keys = InvocationSecrets::random();
        let BuiltEvent { event: ev, .. } = build_event(
            &req(json!({})),
            &plan,
            &[0, 1],
            "{}".into(),
            Timestamp(1),
            lease,
            &keys,
        );
        assert_eq!(
            ev.invocations[0].state,
            InitialState::Leased(Timestamp(100))
        );
        assert!(!ev.invocations[0].gated);
        assert_eq!(ev.invocations[1].state, InitialState::Pending);
        assert!(ev.invocations[1].gated);
        assert_eq!(immediately_due(&ev), 1);
    }

    #[test]
    fn ordered_routes_key_their_invocations_and_never_take_the_fast_path() {
        let key = KeyPath::parse("$.identity.id").unwrap();
        let plan = FanoutPlan {
            subscriptions: vec![PlannedSubscription {
                id: "ordered".into(),
                enabled: true,
                filter: None,
                response_deadline: Duration::from_secs(1),
                gated: false,
                ordering: Some(key.clone()),
            }],
            targets: vec![PlannedTarget {
                id: "t".into(),
                awaited: true,
                interrupt_on_error: false,
                gated: false,
                ordering: Some(key),
            }],
            ..FanoutPlan::default()
        };
        let lease = Some(Timestamp(100));
        let keys = InvocationSecrets::random();
        let build = |r: &PublishRequest| {
            build_event(r, &plan, &[0], "{}".into(), Timestamp(1), lease, &keys).event
        };
        let ev = build(&req(json!({"identity": {"id": "A"}})));
        for inv in &ev.invocations {
            assert_eq!(inv.order_key.as_deref(), Some("A"));
            assert_eq!(inv.state, InitialState::Pending);
        }
        // No key in the payload: no ordering for this event, and the fast path is open.
        let ev = build(&req(json!({"identity": {}})));
        assert!(ev.invocations.iter().all(|i| i.order_key.is_none()));
        assert_eq!(immediately_due(&ev), 2);
        // Test invocations are not ordered.
        let mut test = req(json!({"identity": {"id": "A"}}));
        test.kind = InvocationKind::Test;
        assert!(build(&test).invocations[0].order_key.is_none());
    }

    #[test]
    fn request_response_invocations_get_a_deadline_and_a_derived_secret() {
        let plan = FanoutPlan {
            request_response: true,
            subscriptions: vec![PlannedSubscription {
                id: "s".into(),
                enabled: true,
                filter: None,
                response_deadline: Duration::from_secs(2),
                gated: false,
                ordering: None,
            }],
            ..FanoutPlan::default()
        };
        let keys = InvocationSecrets::random();
        let mut r = req(json!({}));
        r.with_secrets = true;
        let BuiltEvent {
            event: ev, secrets, ..
        } = build_event(&r, &plan, &[0], "{}".into(), Timestamp(1000), None, &keys);
        let inv = &ev.invocations[0];
        assert_eq!(inv.deadline_at, Some(Timestamp(3000)));
        assert_eq!(secrets, vec![(inv.id.clone(), keys.secret(&inv.id))]);
        assert!(crypto::verify_secret(
            &secrets[0].1,
            inv.secret_hash.as_deref().unwrap()
        ));
        // Without with_secrets the hash is still stored (the callback needs it) but not returned.
        let BuiltEvent {
            event: ev, secrets, ..
        } = build_event(
            &req(json!({})),
            &plan,
            &[0],
            "{}".into(),
            Timestamp(0),
            None,
            &keys,
        );
        assert!(secrets.is_empty() && ev.invocations[0].secret_hash.is_some());
        r.expect_request_response = Some(false);
        assert!(check_kind(&r, &plan).is_err());
        r.expect_request_response = Some(true);
        assert!(check_kind(&r, &plan).is_ok());
    }

    #[test]
    fn payload_rules() {
        assert!(check_payload(&json!([])).is_err());
        assert!(check_payload(&json!({"_metadata": {}})).is_err());
        assert!(check_payload(&json!({"a": 1})).is_ok());
        assert!(check_event_id("").is_err());
        assert!(check_event_id("has space").is_err());
        assert!(check_event_id("evt-1").is_ok());
    }
}
