//! Contract tests for route delivery policies: set, read back, replace, kept apart per instance
//! and route kind, and forgotten with their route.

use crate::catalog::{inst, key, sub, target};
use crate::queue::{claimed_ids, event, inv, outcome};
use serde_json::json;
use std::sync::Arc;
use switchyard_core::policy::{PolicyDoc, RoutePolicy};
use switchyard_core::Timestamp;
use switchyard_store::queue::RouteKind;
use switchyard_store::queue::{InitialState, NewInvocation, NextStep};

use switchyard_core::zitadel::{TargetName, TargetPatch};
use switchyard_store::Store;

crate::contract!(
    policies_round_trip_and_go_with_their_route,
    gates_bound_in_flight_work_and_free_slots_on_outcomes,
    token_buckets_refill_at_their_rate,
    setting_a_policy_gates_queued_work,
);

fn policy(v: serde_json::Value) -> RoutePolicy {
    RoutePolicy::parse(&serde_json::from_value::<PolicyDoc>(v).unwrap()).unwrap()
}

pub async fn policies_round_trip_and_go_with_their_route(s: Arc<dyn Store>) {
    let (i, other) = (inst("p1"), inst("p2"));
    let (t, sb) = (RouteKind::Target, RouteKind::Subscription);
    s.create_target(
        &i,
        "t1",
        &target("alpha", false),
        &key("k1", 1),
        Timestamp(1),
    )
    .await
    .unwrap();
    let trig = "idn:identity-created";
    s.create_subscription(&i, &sub("s1", trig), 5, &key("k2", 1), Timestamp(1))
        .await
        .unwrap();
    assert_eq!(s.route_policy(&i, t, "t1").await.unwrap(), None);

    let full = policy(
        json!({"retrySchedule": ["1s", "2m"], "maxAttempts": 4, "timeout": "30s",
        "maxInFlight": 3, "rateLimit": "10/1m", "ordering": {"key": "$.a.b", "onFailure": "skip"},
        "format": "cloudevents-binary", "autoDisable": {"after": "1d"}}),
    );
    s.set_route_policy(&i, t, "t1", &full, Timestamp(2))
        .await
        .unwrap();
    assert_eq!(
        s.route_policy(&i, t, "t1").await.unwrap(),
        Some(full.clone())
    );
    // Kept apart by instance and by route kind.
    assert_eq!(s.route_policy(&other, t, "t1").await.unwrap(), None);
    assert_eq!(s.route_policy(&i, sb, "t1").await.unwrap(), None);

    // Changing the target keeps its policy.
    let patch = TargetPatch {
        name: Some(TargetName::parse("alpha-renamed").unwrap()),
        ..Default::default()
    };
    s.update_target(&i, "t1", &patch, None, Timestamp(2))
        .await
        .unwrap();
    assert_eq!(
        s.route_policy(&i, t, "t1").await.unwrap(),
        Some(full.clone())
    );

    // A PUT replaces the whole document.
    let small = policy(json!({"maxAttempts": 2}));
    s.set_route_policy(&i, t, "t1", &small, Timestamp(3))
        .await
        .unwrap();
    assert_eq!(s.route_policy(&i, t, "t1").await.unwrap(), Some(small));

    s.set_route_policy(&i, sb, "s1", &full, Timestamp(4))
        .await
        .unwrap();
    assert_eq!(s.route_policy(&i, sb, "s1").await.unwrap(), Some(full));

    // Deleting a route forgets its policy (a route created later under the id starts afresh).
    assert!(s.delete_target(&i, "t1", Timestamp(5)).await.unwrap());
    assert_eq!(s.route_policy(&i, t, "t1").await.unwrap(), None);
    s.delete_subscription(&i, "s1", Timestamp(6)).await.unwrap();
    assert_eq!(s.route_policy(&i, sb, "s1").await.unwrap(), None);
}

fn gated(id: &str, route: &str) -> NewInvocation {
    NewInvocation {
        gated: true,
        ..inv(id, RouteKind::Subscription, route, InitialState::Pending)
    }
}

pub async fn gates_bound_in_flight_work_and_free_slots_on_outcomes(s: Arc<dyn Store>) {
    let i = inst("g1");
    let sb = RouteKind::Subscription;
    s.set_route_policy(
        &i,
        sb,
        "lim",
        &policy(json!({"maxInFlight": 2})),
        Timestamp(1),
    )
    .await
    .unwrap();
    let invs = vec![
        gated("a", "lim"),
        gated("b", "lim"),
        gated("c", "lim"),
        inv("free", sb, "other", InitialState::Pending),
    ];
    s.publish(&[event(&i, "e1", 10, invs)]).await.unwrap();
    let first = s
        .claim_due(Timestamp(10), Timestamp(1000), 10)
        .await
        .unwrap();
    let mut got = claimed_ids(&first);
    got.sort();
    assert_eq!(
        got,
        ["a", "b", "free"],
        "two slots, the ungated one besides"
    );
    // Full: nothing more, however much capacity is offered, and no due time to sleep until.
    assert!(s
        .claim_due(Timestamp(20), Timestamp(1000), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.next_due_at().await.unwrap(),
        Some(Timestamp(1000)),
        "only leases"
    );

    // A retry frees its slot as well as a delivery; the freed slot goes to the next in line.
    let a = first.iter().find(|c| c.id == "a").unwrap();
    let released = s
        .record_outcomes(&[outcome(a, NextStep::RetryAt(Timestamp(500)), 30, Some(500))])
        .await
        .unwrap();
    assert!(released > 0, "a freed slot wakes the claimers");
    let next = s
        .claim_due(Timestamp(40), Timestamp(1000), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&next), ["c"]);
    assert!(s
        .claim_due(Timestamp(600), Timestamp(1000), 10)
        .await
        .unwrap()
        .is_empty());
    let b = first.iter().find(|c| c.id == "b").unwrap();
    s.record_outcomes(&[outcome(b, NextStep::Delivered, 610, Some(200))])
        .await
        .unwrap();
    assert_eq!(
        s.next_due_at().await.unwrap(),
        Some(Timestamp(500)),
        "a's retry"
    );
    let retried = s
        .claim_due(Timestamp(620), Timestamp(1000), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&retried), ["a"]);
}

pub async fn token_buckets_refill_at_their_rate(s: Arc<dyn Store>) {
    let i = inst("g2");
    let sb = RouteKind::Subscription;
    // 2 per second: a full bucket of 2, then one every 500 ms.
    s.set_route_policy(
        &i,
        sb,
        "r",
        &policy(json!({"rateLimit": "2/1s"})),
        Timestamp(0),
    )
    .await
    .unwrap();
    let invs: Vec<NewInvocation> = (0..6).map(|n| gated(&format!("r{n}"), "r")).collect();
    s.publish(&[event(&i, "e", 0, invs)]).await.unwrap();
    let claim = |at: i64| {
        let s = s.clone();
        async move {
            s.claim_due(Timestamp(at), Timestamp(at + 100_000), 10)
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(claim(0).await, 2, "the full bucket");
    assert_eq!(claim(100).await, 0);
    assert_eq!(s.next_due_at().await.unwrap(), Some(Timestamp(500)));
    assert_eq!(claim(499).await, 0);
    assert_eq!(claim(500).await, 1);
    // Frequent claims do not lose the fractions of tokens that accrue between them.
    let mut n = 0;
    for at in (510..=1500).step_by(10) {
        n += claim(at).await;
    }
    assert_eq!(n, 2, "one at 1000 ms, one at 1500 ms");
    // In-flight work does not count against a pure rate limit.
    assert_eq!(claim(2000).await, 1);
}

pub async fn setting_a_policy_gates_queued_work(s: Arc<dyn Store>) {
    let i = inst("g3");
    let sb = RouteKind::Subscription;
    let invs: Vec<NewInvocation> = (0..3)
        .map(|n| inv(&format!("q{n}"), sb, "later", InitialState::Pending))
        .collect();
    s.publish(&[event(&i, "e", 0, invs)]).await.unwrap();
    s.set_route_policy(
        &i,
        sb,
        "later",
        &policy(json!({"maxInFlight": 1})),
        Timestamp(1),
    )
    .await
    .unwrap();
    let got = s
        .claim_due(Timestamp(10), Timestamp(1000), 10)
        .await
        .unwrap();
    assert_eq!(got.len(), 1, "queued work now waits for the gate");
    // Lifting the limit lets the rest go at once; the slot taken stays accounted for.
    s.set_route_policy(&i, sb, "later", &policy(json!({})), Timestamp(20))
        .await
        .unwrap();
    let rest = s
        .claim_due(Timestamp(30), Timestamp(1000), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 2);
}
