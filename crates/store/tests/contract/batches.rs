//! Contract tests for the batched write paths: a multi-row publish that must still notice
//! duplicate ids (inside one batch and across batches, first answer wins, ids are per instance),
//! and successful deliveries applied in bulk (one statement per HTTP status) that still release
//! chained invocations and ignore work that is no longer in flight.

use crate::catalog::inst;
use crate::queue::{claimed_ids, event, inv, outcome, status};
use std::sync::Arc;
use switchyard_core::Timestamp;
use switchyard_store::queue::*;
use switchyard_store::Store;

crate::contract!(
    publish_duplicates_within_and_across_batches,
    bulk_deliveries_release_chains,
);

fn answered(mut ev: NewEvent, response: &str) -> NewEvent {
    ev.response = response.into();
    ev
}

fn dup(response: &str) -> PublishResult {
    PublishResult::Duplicate {
        response: response.into(),
    }
}

pub async fn publish_duplicates_within_and_across_batches(s: Arc<dyn Store>) {
    let (i, j) = (inst("b1"), inst("b2"));
    let p = |id: &str| inv(id, RouteKind::Subscription, "s1", InitialState::Pending);
    let r = s
        .publish(&[
            answered(event(&i, "a", 100, vec![p("i1")]), "A1"),
            answered(event(&i, "b", 100, vec![p("i2")]), "B1"),
            answered(event(&i, "a", 100, vec![p("i3")]), "A2"),
            answered(event(&j, "a", 100, vec![p("i4")]), "JA1"),
            answered(event(&i, "a", 100, vec![p("i5")]), "A3"),
        ])
        .await
        .unwrap();
    assert_eq!(
        r,
        vec![
            PublishResult::Created,
            PublishResult::Created,
            dup("A1"),
            PublishResult::Created,
            dup("A1"),
        ]
    );
    // Across batches, including a repeat inside the later batch and a new id between them.
    let r = s
        .publish(&[
            answered(event(&i, "b", 200, vec![p("i6")]), "B2"),
            answered(event(&i, "c", 200, vec![p("i7")]), "C1"),
            answered(event(&i, "b", 200, vec![p("i8")]), "B3"),
            answered(event(&i, "c", 200, vec![p("i9")]), "C2"),
        ])
        .await
        .unwrap();
    assert_eq!(
        r,
        vec![dup("B1"), PublishResult::Created, dup("B1"), dup("C1")]
    );
    // Only the first of each id wrote its invocations, and with its own payload.
    let mut pending = s
        .claim_due(Timestamp(1000), Timestamp(2000), 100)
        .await
        .unwrap();
    pending.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(claimed_ids(&pending), ["i1", "i2", "i4", "i7"]);
    assert_eq!(pending[0].event_created_at, Timestamp(100));
    assert_eq!(pending[3].event_created_at, Timestamp(200));
}

pub async fn bulk_deliveries_release_chains(s: Arc<dyn Store>) {
    let i = inst("b1");
    let link = |id: &str, state, next: Option<&str>| NewInvocation {
        chain_next: next.map(str::to_string),
        ..inv(id, RouteKind::Target, &format!("t-{id}"), state)
    };
    s.publish(&[
        event(
            &i,
            "e1",
            100,
            vec![
                link("a", InitialState::Pending, Some("a2")),
                link("a2", InitialState::Waiting, None),
            ],
        ),
        event(
            &i,
            "e2",
            110,
            vec![
                link("b", InitialState::Pending, Some("b2")),
                link("b2", InitialState::Waiting, None),
            ],
        ),
        event(&i, "e3", 120, vec![link("c", InitialState::Pending, None)]),
        event(&i, "e4", 130, vec![link("d", InitialState::Pending, None)]),
        event(
            &i,
            "e5",
            5000,
            vec![link("later", InitialState::Pending, None)],
        ),
    ])
    .await
    .unwrap();
    let c = s
        .claim_due(Timestamp(200), Timestamp(1000), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&c), ["a", "b", "c", "d"]);
    let released = s
        .record_outcomes(&[
            outcome(&c[0], NextStep::Delivered, 300, Some(200)),
            outcome(&c[1], NextStep::Delivered, 310, Some(204)),
            outcome(&c[2], NextStep::Delivered, 305, Some(200)),
            outcome(&c[3], NextStep::RetryAt(Timestamp(900)), 300, Some(503)),
        ])
        .await
        .unwrap();
    assert_eq!(released, 3, "a2 and b2 released, d rescheduled");
    for id in ["a2", "b2"] {
        assert_eq!(status(&s, &i, id).await, "pending");
    }
    let a = s.invocation(&i, "a").await.unwrap();
    assert_eq!(
        (a.status.as_str(), a.attempts, a.last_status, a.last_error),
        ("delivered", 1, Some(200), None)
    );
    assert!(a.completed_at.is_some());
    assert_eq!(a.attempt_log.len(), 1);
    assert_eq!(s.invocation(&i, "b").await.unwrap().last_status, Some(204));
    assert_eq!(
        s.invocation(&i, "c").await.unwrap().status,
        InvocationStatus::Delivered
    );
    assert_eq!(status(&s, &i, "d").await, "pending");

    // Deliveries for work that is not in flight (already delivered, never claimed) change nothing.
    let never = Claimed {
        id: "later".into(),
        ..c[0].clone()
    };
    let released = s
        .record_outcomes(&[
            outcome(&c[0], NextStep::Delivered, 400, Some(200)),
            outcome(&never, NextStep::Delivered, 400, Some(200)),
        ])
        .await
        .unwrap();
    assert_eq!(released, 0);
    assert_eq!(status(&s, &i, "later").await, "pending");
    let a = s.invocation(&i, "a").await.unwrap();
    assert_eq!(a.attempts, 1);
}
