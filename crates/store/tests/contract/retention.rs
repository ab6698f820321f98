//! Contract tests for retention (`RetentionStore`): events purged with their invocations and
//! attempts only once every invocation ended, in batches of the given size; attempt-log entries
//! purged by age on their own; call records purged with their attempts; one event expunged
//! (payload, outputs and response excerpts erased, ids, times and statuses kept, no replay
//! afterwards, refused while live); the maintenance lease held by one holder at a time.

use crate::catalog::inst;
use crate::queue::{event, inv, outcome};
use std::sync::Arc;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::calls::{CallAttempt, CallAttemptOutcome, CallRecord};
use switchyard_store::queue::*;
use switchyard_store::retention::Purged;
use switchyard_store::search::InvocationFilter;
use switchyard_store::{Store, StoreError};

crate::contract!(
    events_are_purged_with_their_history_only_once_ended,
    purging_goes_in_batches_oldest_first,
    attempt_logs_are_purged_by_their_own_age,
    call_records_are_purged_with_their_attempts,
    expunge_erases_one_events_data_and_keeps_its_shape,
    the_maintenance_lease_has_one_holder,
    a_member_still_holding_its_fifo_place_is_not_purged,
);

fn pending(id: &str) -> NewInvocation {
    inv(id, RouteKind::Subscription, "s1", InitialState::Pending)
}

/// Claims every due invocation at `at` and ends each with `next`, one logged attempt each.
async fn finish_all(s: &Arc<dyn Store>, at: i64, next: NextStep) {
    let claimed = s
        .claim_due(Timestamp(at), Timestamp(at + 1000), 1000)
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = claimed
        .iter()
        .map(|c| outcome(c, next.clone(), at, Some(200)))
        .collect();
    s.record_outcomes(&outcomes).await.unwrap();
}

async fn exists(s: &Arc<dyn Store>, i: &InstanceId, id: &str) -> bool {
    match s.invocation(i, id).await {
        Ok(_) => true,
        Err(StoreError::NotFound) => false,
        Err(e) => panic!("reading {id}: {e}"),
    }
}

pub async fn events_are_purged_with_their_history_only_once_ended(s: Arc<dyn Store>) {
    let i = inst("r1");
    s.publish(&[
        event(&i, "old-done", 100, vec![pending("a1"), pending("a2")]),
        event(&i, "old-none", 100, vec![]),
    ])
    .await
    .unwrap();
    finish_all(&s, 120, NextStep::Delivered).await;
    // Accepted later but also old: a chain whose first member is delivered below, which makes
    // the second one pending (still live).
    s.publish(&[event(
        &i,
        "old-live",
        200,
        vec![
            NewInvocation {
                chain_next: Some("b2".into()),
                ..pending("b1")
            },
            inv("b2", RouteKind::Target, "t1", InitialState::Waiting),
        ],
    )])
    .await
    .unwrap();
    s.publish(&[event(&i, "young", 900, vec![pending("c1")])])
        .await
        .unwrap();
    finish_all(&s, 920, NextStep::Delivered).await;
    assert_eq!(
        s.invocation(&i, "b2").await.unwrap().status,
        InvocationStatus::Pending
    );

    let purged = s.purge_events(Timestamp(500), 1000).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            events: 2,
            invocations: 2,
            attempts: 2,
            ..Purged::default()
        },
        "the ended event and the one without invocations; not the live one, not the young one"
    );
    assert!(!exists(&s, &i, "a1").await && !exists(&s, &i, "a2").await);
    for kept in ["b1", "b2", "c1"] {
        assert!(exists(&s, &i, kept).await, "{kept} was kept");
    }
    assert_eq!(
        s.invocation(&i, "b1").await.unwrap().attempt_log.len(),
        1,
        "a live event keeps its whole history"
    );
    // Nothing more to do until the live invocation ends.
    let again = s.purge_events(Timestamp(500), 1000).await.unwrap();
    assert_eq!(again, Purged::default());
    s.cancel(&i, "b2", "by an operator", Timestamp(300))
        .await
        .unwrap();
    let purged = s.purge_events(Timestamp(500), 1000).await.unwrap();
    assert_eq!((purged.events, purged.invocations), (1, 2));
    assert_eq!(
        purged.attempts, 2,
        "b1's delivery and b2's cancellation entry"
    );
    assert!(exists(&s, &i, "c1").await);
}

pub async fn purging_goes_in_batches_oldest_first(s: Arc<dyn Store>) {
    let i = inst("r2");
    let events: Vec<NewEvent> = (0..25)
        .map(|n| {
            event(
                &i,
                &format!("e{n:02}"),
                100 + n,
                vec![pending(&format!("i{n:02}"))],
            )
        })
        .collect();
    s.publish(&events).await.unwrap();
    finish_all(&s, 200, NextStep::Failed("gave up".into())).await;
    let mut sizes = Vec::new();
    loop {
        let p = s.purge_events(Timestamp(1000), 10).await.unwrap();
        assert_eq!(p.events, p.invocations);
        sizes.push(p.events);
        if p.events == 0 {
            break;
        }
        // The oldest went first: after the first batch, e00..e09 are gone and e10 is not.
        if sizes.len() == 1 {
            assert!(!exists(&s, &i, "i09").await);
            assert!(exists(&s, &i, "i10").await);
        }
    }
    assert_eq!(sizes, [10, 10, 5, 0]);
}

pub async fn attempt_logs_are_purged_by_their_own_age(s: Arc<dyn Store>) {
    let i = inst("r3");
    s.publish(&[event(&i, "e1", 100, vec![pending("a")])])
        .await
        .unwrap();
    finish_all(&s, 110, NextStep::RetryAt(Timestamp(500))).await;
    finish_all(&s, 600, NextStep::RetryAt(Timestamp(700))).await;
    finish_all(&s, 800, NextStep::Delivered).await;
    assert_eq!(s.invocation(&i, "a").await.unwrap().attempt_log.len(), 3);

    let p = s.purge_attempts(Timestamp(700), 1000).await.unwrap();
    assert_eq!(
        p,
        Purged {
            attempts: 2,
            ..Purged::default()
        }
    );
    let view = s.invocation(&i, "a").await.unwrap();
    assert_eq!(view.status, InvocationStatus::Delivered);
    assert_eq!(view.attempts, 3, "the count of attempts made stays");
    let left: Vec<u32> = view.attempt_log.iter().map(|a| a.n).collect();
    assert_eq!(left, [3]);
    // Batches bound each statement.
    let p = s.purge_attempts(Timestamp(10_000), 0).await.unwrap();
    assert_eq!(p.total(), 0);
    let p = s.purge_attempts(Timestamp(10_000), 1).await.unwrap();
    assert_eq!(p.attempts, 1);
}

fn call(id: &str, at: i64, attempts: u32) -> CallRecord {
    CallRecord {
        instance: inst("r4"),
        id: id.into(),
        condition: "function.preuserinfo".into(),
        created_at: Timestamp(at),
        duration_ms: 5,
        status: 200,
        error: None,
        attempts: (1..=attempts)
            .map(|n| CallAttempt {
                n,
                target_id: "t1".into(),
                at: Timestamp(at + i64::from(n)),
                outcome: CallAttemptOutcome::Succeeded,
                status: Some(200),
                duration_ms: 1,
                error: None,
                response_excerpt: Some("{}".into()),
            })
            .collect(),
    }
}

pub async fn call_records_are_purged_with_their_attempts(s: Arc<dyn Store>) {
    s.record_calls(&[call("old", 100, 2), call("young", 900, 1)])
        .await
        .unwrap();
    let p = s.purge_events(Timestamp(500), 1000).await.unwrap();
    assert_eq!((p.calls, p.call_attempts), (1, 2));
    assert!(matches!(
        s.call_record(&inst("r4"), "old").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.call_record(&inst("r4"), "young")
            .await
            .unwrap()
            .attempts
            .len(),
        1
    );
    // Call attempts age like the attempt log.
    let p = s.purge_attempts(Timestamp(1000), 1000).await.unwrap();
    assert_eq!(p.call_attempts, 1);
    assert!(s
        .call_record(&inst("r4"), "young")
        .await
        .unwrap()
        .attempts
        .is_empty());
}

pub async fn expunge_erases_one_events_data_and_keeps_its_shape(s: Arc<dyn Store>) {
    let i = inst("r5");
    let mut e = event(&i, "gdpr", 100, vec![pending("x1"), pending("x2")]);
    e.content_json = Some(r#"{"name":"Ada"}"#.into());
    s.publish(&[e, event(&i, "other", 100, vec![pending("y1")])])
        .await
        .unwrap();
    finish_all(&s, 110, NextStep::RetryAt(Timestamp(150))).await;
    let before = s.invocation(&i, "x1").await.unwrap();
    assert_eq!(
        before.attempt_log[0].response_excerpt.as_deref(),
        Some("ok")
    );

    // Live invocations: refused, nothing changed.
    let r = s.expunge_event(&i, "gdpr", Timestamp(120)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    finish_all(&s, 200, NextStep::Delivered).await;
    assert!(matches!(
        s.expunge_event(&i, "nope", Timestamp(300)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.expunge_event(&inst("r5-other"), "gdpr", Timestamp(300))
            .await,
        Err(StoreError::NotFound)
    ));

    let done = s.expunge_event(&i, "gdpr", Timestamp(300)).await.unwrap();
    assert_eq!(
        (done.at, done.invocations, done.attempts),
        (Timestamp(300), 2, 4)
    );
    let x1 = s.invocation(&i, "x1").await.unwrap();
    assert_eq!(x1.status, InvocationStatus::Delivered);
    assert_eq!(x1.created_at, before.created_at);
    assert_eq!(x1.attempts, 2);
    assert_eq!(x1.attempt_log.len(), 2, "every attempt keeps its entry");
    for a in &x1.attempt_log {
        assert_eq!(a.response_excerpt, None);
        assert_eq!(a.status, Some(200), "statuses stay");
    }
    let listed = s
        .subscription_invocations(&i, Timestamp(0), 100)
        .await
        .unwrap();
    for row in &listed {
        if row.id.starts_with('x') {
            assert_eq!(row.input, "{}");
            assert_eq!(row.content_json, None);
        } else {
            assert_eq!(row.input, r#"{"event":"other"}"#, "other events untouched");
        }
    }
    let y1 = s.invocation(&i, "y1").await.unwrap();
    assert_eq!(y1.attempt_log[0].response_excerpt.as_deref(), Some("ok"));

    let record = s.event(&i, "gdpr").await.unwrap();
    assert_eq!(
        (record.payload.as_str(), record.expunged_at),
        ("{}", Some(Timestamp(300)))
    );
    assert_eq!(s.event(&i, "other").await.unwrap().expunged_at, None);

    // Nothing is left to deliver: no replay, alone or in bulk.
    let r = s.replay(&i, "x1", Timestamp(400)).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let bulk = s
        .replay_matching(&i, &InvocationFilter::default(), 100, Timestamp(400))
        .await
        .unwrap();
    assert_eq!(bulk.replayed, 1, "only the other event's invocation");
    assert_eq!(
        s.invocation(&i, "x1").await.unwrap().status,
        InvocationStatus::Delivered
    );
    assert_eq!(
        s.invocation(&i, "y1").await.unwrap().status,
        InvocationStatus::Pending
    );
    // Again: nothing changes, the first time is reported.
    let again = s.expunge_event(&i, "gdpr", Timestamp(500)).await.unwrap();
    assert_eq!(again.at, Timestamp(300));
}

pub async fn the_maintenance_lease_has_one_holder(s: Arc<dyn Store>) {
    let take = |holder: &'static str, now: i64, until: i64| {
        let s = s.clone();
        async move {
            s.take_lease("retention", holder, Timestamp(now), Timestamp(until))
                .await
                .unwrap()
        }
    };
    assert!(take("a", 100, 200).await, "free: taken");
    assert!(!take("b", 150, 250).await, "held by a");
    assert!(take("a", 190, 300).await, "a renews");
    assert!(!take("b", 299, 400).await, "still a's");
    assert!(take("b", 300, 400).await, "expired: b takes over");
    assert!(!take("a", 310, 500).await, "a lost it");
    assert!(
        s.take_lease("other", "a", Timestamp(310), Timestamp(500))
            .await
            .unwrap(),
        "leases are per name"
    );
}

/// k2 is cancelled while it waits behind k1 in its key's line: it has ended, but k1's release
/// still passes through it to k3, so its event must stay until then.
pub async fn a_member_still_holding_its_fifo_place_is_not_purged(s: Arc<dyn Store>) {
    let i = inst("r7");
    let keyed = |id: &str| NewInvocation {
        order_key: Some("A".into()),
        ..inv(id, RouteKind::Subscription, "r", InitialState::Pending)
    };
    for (e, id) in [("f1", "k1"), ("f2", "k2"), ("f3", "k3")] {
        s.publish(&[event(&i, e, 100, vec![keyed(id)])])
            .await
            .unwrap();
    }
    let head = s
        .claim_due(Timestamp(100), Timestamp(10_000), 100)
        .await
        .unwrap();
    assert_eq!(head.len(), 1, "only the head of the line");
    s.cancel(&i, "k2", "operator", Timestamp(110))
        .await
        .unwrap();
    let p = s.purge_events(Timestamp(1_000), 100).await.unwrap();
    assert_eq!(p.events, 0, "{p:?}");
    assert!(exists(&s, &i, "k2").await, "k2 keeps its place");

    s.record_outcomes(&[outcome(&head[0], NextStep::Delivered, 200, Some(200))])
        .await
        .unwrap();
    assert_eq!(
        s.invocation(&i, "k3").await.unwrap().status,
        InvocationStatus::Pending,
        "the release reached k3 through k2"
    );
    let p = s.purge_events(Timestamp(1_000), 100).await.unwrap();
    assert_eq!(
        (p.events, p.invocations),
        (2, 2),
        "f1 and f2 now; f3 is live"
    );
    assert!(!exists(&s, &i, "k2").await);
    assert!(exists(&s, &i, "k3").await);
}
