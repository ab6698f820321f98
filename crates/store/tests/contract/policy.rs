//! Contract tests for route delivery policies: set, read back, replace, kept apart per instance
//! and route kind, and forgotten with their route.

use crate::catalog::{inst, key, sub, target};
use serde_json::json;
use std::sync::Arc;
use switchyard_core::policy::{PolicyDoc, RoutePolicy};
use switchyard_core::Timestamp;
use switchyard_store::queue::RouteKind;
use switchyard_store::Store;

crate::contract!(policies_round_trip_and_go_with_their_route);

fn policy(v: serde_json::Value) -> RoutePolicy {
    RoutePolicy::parse(&serde_json::from_value::<PolicyDoc>(v).unwrap()).unwrap()
}

pub async fn policies_round_trip_and_go_with_their_route(s: Arc<dyn Store>) {
    let (i, other) = (inst("p1"), inst("p2"));
    let (t, sb) = (RouteKind::Target, RouteKind::Subscription);
    s.create_target(&i, "t1", &target("alpha", false), &key("k1", 1), Timestamp(1))
        .await
        .unwrap();
    let trig = "idn:identity-created";
    s.create_subscription(&i, &sub("s1", trig), 5, &key("k2", 1), Timestamp(1))
        .await
        .unwrap();
    assert_eq!(s.route_policy(&i, t, "t1").await.unwrap(), None);

    let full = policy(json!({"retrySchedule": ["1s", "2m"], "maxAttempts": 4, "timeout": "30s",
        "maxInFlight": 3, "rateLimit": "10/1m", "ordering": {"key": "$.a.b", "onFailure": "skip"},
        "format": "cloudevents-binary", "autoDisable": {"after": "1d"}}));
    s.set_route_policy(&i, t, "t1", &full, Timestamp(2))
        .await
        .unwrap();
    assert_eq!(s.route_policy(&i, t, "t1").await.unwrap(), Some(full.clone()));
    // Kept apart by instance and by route kind.
    assert_eq!(s.route_policy(&other, t, "t1").await.unwrap(), None);
    assert_eq!(s.route_policy(&i, sb, "t1").await.unwrap(), None);

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
