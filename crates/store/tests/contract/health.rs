//! Contract tests for route health (`RouteHealthStore`): a run of failures reported failing once
//! at the threshold and recovered at the next success; successes on healthy routes change
//! nothing; a route failing for its auto-disable period is switched off with its queued work
//! cancelled; switching a route back on starts its health over.

use crate::catalog::{inst, key as signing_key, sub};
use crate::queue::{event, inv};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Timestamp;
use switchyard_store::health::*;
use switchyard_store::queue::*;
use switchyard_store::Store;

crate::contract!(
    a_run_of_failures_is_reported_once_and_recovers,
    a_route_failing_for_its_period_is_disabled,
    a_subscription_failing_for_its_period_is_disabled,
    switching_a_route_back_on_starts_its_health_over,
);

fn key(route: &str) -> RouteKey {
    RouteKey {
        instance: inst("h1"),
        kind: RouteKind::Target,
        route_id: route.into(),
    }
}

fn failures(route: &str, times: &[i64]) -> RouteObservation {
    let mut o = RouteObservation::new(key(route));
    for t in times {
        o.failure(Timestamp(*t), &format!("HTTP 503 at {t}"));
    }
    o
}

fn success(route: &str, at: i64) -> RouteObservation {
    let mut o = RouteObservation::new(key(route));
    o.success(Timestamp(at));
    o
}

pub async fn a_run_of_failures_is_reported_once_and_recovers(s: Arc<dyn Store>) {
    let none = s
        .observe_routes(&[success("a", 10), success("b", 10)], 3)
        .await
        .unwrap();
    assert!(none.is_empty(), "healthy routes: nothing to say");
    assert_eq!(s.route_health(&key("a")).await.unwrap(), None);

    let c = s.observe_routes(&[failures("a", &[100, 110])], 3).await;
    assert!(c.unwrap().is_empty(), "below the threshold");
    assert_eq!(
        s.route_health(&key("a")).await.unwrap(),
        Some((2, Timestamp(100)))
    );
    let c = s
        .observe_routes(&[failures("a", &[120]), success("b", 120)], 3)
        .await
        .unwrap();
    assert_eq!(
        c,
        vec![HealthChange::Failing {
            route: key("a"),
            consecutive_failures: 3,
            failing_since: Timestamp(100),
            last_error: "HTTP 503 at 120".into(),
        }]
    );
    let c = s.observe_routes(&[failures("a", &[130, 140])], 3).await;
    assert!(c.unwrap().is_empty(), "reported once per run");
    assert_eq!(
        s.route_health(&key("a")).await.unwrap(),
        Some((5, Timestamp(100)))
    );

    // A success, then a new failure, in one report: recovered, and a new run begins.
    let mut o = success("a", 200);
    o.failure(Timestamp(210), "timeout");
    let c = s.observe_routes(&[o], 3).await.unwrap();
    assert_eq!(
        c,
        vec![HealthChange::Recovered {
            route: key("a"),
            failing_since: Timestamp(100),
            recovered_at: Timestamp(200),
            failures: 5,
        }]
    );
    assert_eq!(
        s.route_health(&key("a")).await.unwrap(),
        Some((1, Timestamp(210)))
    );
    // A run that never reached the threshold ends silently.
    let c = s.observe_routes(&[success("a", 300)], 3).await.unwrap();
    assert!(c.is_empty());
    assert_eq!(s.route_health(&key("a")).await.unwrap(), None);
}

pub async fn a_route_failing_for_its_period_is_disabled(s: Arc<dyn Store>) {
    let i = inst("h1");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![inv("q1", RouteKind::Target, "t1", InitialState::Pending)],
    )])
    .await
    .unwrap();
    let period = |mut o: RouteObservation| {
        o.auto_disable_after = Some(Duration::from_millis(500));
        o
    };
    let c = s
        .observe_routes(&[period(failures("t1", &[1000, 1400]))], 100)
        .await
        .unwrap();
    assert!(c.is_empty(), "failing for 400 ms of 500");
    assert!(!s
        .is_route_disabled(&i, RouteKind::Target, "t1")
        .await
        .unwrap());
    let c = s
        .observe_routes(&[period(failures("t1", &[1500]))], 100)
        .await
        .unwrap();
    assert_eq!(
        c,
        vec![HealthChange::AutoDisabled {
            route: key("t1"),
            failing_since: Timestamp(1000),
            disabled_at: Timestamp(1500),
        }]
    );
    assert!(s
        .is_route_disabled(&i, RouteKind::Target, "t1")
        .await
        .unwrap());
    let q = s.invocation(&i, "q1").await.unwrap();
    assert_eq!(
        q.status,
        InvocationStatus::Cancelled,
        "its queued work ends"
    );
    assert!(q.last_error.unwrap().contains("autoDisable"));
    assert_eq!(s.route_health(&key("t1")).await.unwrap(), None);
    // Without a period nothing is disabled, however long it fails.
    let c = s
        .observe_routes(&[failures("t2", &[0, 10_000_000])], 100)
        .await
        .unwrap();
    assert!(c.is_empty());
}

pub async fn a_subscription_failing_for_its_period_is_disabled(s: Arc<dyn Store>) {
    let i = inst("h1");
    s.create_subscription(
        &i,
        &sub("s1", "idn:identity-created"),
        50,
        &signing_key("k", 1),
        Timestamp(1),
    )
    .await
    .unwrap();
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![inv(
            "q1",
            RouteKind::Subscription,
            "s1",
            InitialState::Pending,
        )],
    )])
    .await
    .unwrap();
    let route = RouteKey {
        instance: i.clone(),
        kind: RouteKind::Subscription,
        route_id: "s1".into(),
    };
    let mut o = RouteObservation::new(route.clone());
    o.auto_disable_after = Some(Duration::from_millis(500));
    for t in [1000, 1600] {
        o.failure(Timestamp(t), "HTTP 503");
    }
    let c = s.observe_routes(&[o], 100).await.unwrap();
    assert_eq!(
        c,
        vec![HealthChange::AutoDisabled {
            route,
            failing_since: Timestamp(1000),
            disabled_at: Timestamp(1600),
        }]
    );
    // Switched off in its own document, as its owner would with a PATCH.
    let off = s.subscription(&i, "s1").await.unwrap();
    assert!(!off.enabled);
    assert_eq!(off.name, "s1");
    let q = s.invocation(&i, "q1").await.unwrap();
    assert_eq!(q.status, InvocationStatus::Cancelled);
    assert!(q.last_error.unwrap().contains("autoDisable"));
}

pub async fn switching_a_route_back_on_starts_its_health_over(s: Arc<dyn Store>) {
    let i = inst("h1");
    s.observe_routes(&[failures("t3", &[100, 200])], 100)
        .await
        .unwrap();
    assert!(s.route_health(&key("t3")).await.unwrap().is_some());
    s.enable_route(&i, RouteKind::Target, "t3").await.unwrap();
    assert_eq!(s.route_health(&key("t3")).await.unwrap(), None);
}
