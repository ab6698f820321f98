//! Contract tests for request-response invocations and SailPoint's status list: the
//! subscription-invocation window (newest first, `max`, names from the subscription join), the
//! callback lookup, the completion compare-and-set (once, never after the deadline), the deadline
//! sweep, outcome reads in the caller's order, and the `Completed` / `AwaitingCallback` steps.

use crate::catalog::{inst, key, sub};
use crate::queue::{claimed_ids, event, inv, outcome, status};
use std::sync::Arc;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::queue::*;
use switchyard_store::{Store, StoreError};

crate::contract!(
    subscription_invocations_window_max_and_names,
    complete_is_a_compare_and_set,
    expire_due_and_next_deadline,
    invocation_outcomes_in_the_given_order,
    outcomes_complete_or_await_the_callback,
);

/// A request-response subscription invocation with a secret and a deadline.
fn rr(id: &str, route: &str, deadline: i64) -> NewInvocation {
    NewInvocation {
        secret_hash: Some(format!("hash-{id}")),
        deadline_at: Some(Timestamp(deadline)),
        ..inv(id, RouteKind::Subscription, route, InitialState::Pending)
    }
}

async fn publish_rr(
    s: &Arc<dyn Store>,
    i: &InstanceId,
    ev: &str,
    at: i64,
    invs: Vec<NewInvocation>,
) {
    let r = s.publish(&[event(i, ev, at, invs)]).await.unwrap();
    assert_eq!(r, vec![PublishResult::Created]);
}

pub async fn subscription_invocations_window_max_and_names(s: Arc<dyn Store>) {
    let i = inst("rr1");
    s.create_subscription(
        &i,
        &sub("s1", "idn:identity-created"),
        50,
        &key("k", 1),
        Timestamp(1),
    )
    .await
    .unwrap();
    let mut first = event(
        &i,
        "e1",
        100,
        vec![inv(
            "old",
            RouteKind::Subscription,
            "s1",
            InitialState::Pending,
        )],
    );
    first.content_json = Some(r#"{"k":"v"}"#.into());
    let mut test = event(
        &i,
        "e3",
        300,
        vec![
            inv(
                "deleted",
                RouteKind::Subscription,
                "gone",
                InitialState::Pending,
            ),
            inv("target", RouteKind::Target, "t1", InitialState::Pending),
        ],
    );
    test.kind = InvocationKind::Test;
    s.publish(&[
        first,
        event(&i, "e2", 200, vec![rr("mid", "s1", 5000)]),
        test,
        event(
            &inst("rr2"),
            "e4",
            400,
            vec![inv(
                "foreign",
                RouteKind::Subscription,
                "s1",
                InitialState::Pending,
            )],
        ),
    ])
    .await
    .unwrap();

    let all = s
        .subscription_invocations(&i, Timestamp(0), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["deleted", "mid", "old"],
        "newest first, subscriptions of rr1 only"
    );
    let deleted = &all[0];
    assert_eq!(
        deleted.subscription_name, "",
        "the subscription no longer exists"
    );
    assert_eq!(deleted.subscription_id, "gone");
    assert_eq!(deleted.kind, InvocationKind::Test);
    assert_eq!(deleted.status, InvocationStatus::Pending);
    let old = &all[2];
    assert_eq!(old.subscription_name, "s1");
    assert_eq!(old.trigger_id, "idn:identity-created");
    assert_eq!(old.kind, InvocationKind::RealTime);
    assert_eq!(old.input, r#"{"event":"e1"}"#);
    assert_eq!(old.content_json.as_deref(), Some(r#"{"k":"v"}"#));
    assert_eq!(old.created_at, Timestamp(100));
    assert_eq!((old.completed_at, old.output.as_deref()), (None, None));

    // The window starts at `since` (inclusive); `max` keeps the newest.
    let window = s
        .subscription_invocations(&i, Timestamp(200), 10)
        .await
        .unwrap();
    assert_eq!(
        window.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["deleted", "mid"]
    );
    let top = s
        .subscription_invocations(&i, Timestamp(0), 1)
        .await
        .unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(top[0].id, "deleted");

    // A completion shows up with its output and completion time.
    assert_eq!(
        s.complete("mid", Some(r#"{"ok":true}"#), None, Timestamp(250))
            .await
            .unwrap(),
        CompleteResult::Done
    );
    let mid = s
        .subscription_invocations(&i, Timestamp(200), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.id == "mid")
        .unwrap();
    assert_eq!(
        (mid.status.as_str(), mid.output.as_deref(), mid.completed_at),
        ("completed", Some(r#"{"ok":true}"#), Some(Timestamp(250)))
    );
    assert!(s
        .subscription_invocations(&inst("rr3"), Timestamp(0), 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn complete_is_a_compare_and_set(s: Arc<dyn Store>) {
    let i = inst("rr1");
    publish_rr(
        &s,
        &i,
        "e1",
        100,
        vec![
            rr("a", "s1", 1000),
            rr("b", "s1", 1000),
            rr("c", "s1", 1000),
            inv(
                "plain",
                RouteKind::Subscription,
                "s1",
                InitialState::Pending,
            ),
        ],
    )
    .await;
    let t = s.callback_target("a").await.unwrap();
    assert_eq!(t.instance, i);
    assert_eq!(t.trigger_id, "idn:identity-created");
    assert_eq!(t.status, InvocationStatus::Pending);
    assert_eq!(t.secret_hash.as_deref(), Some("hash-a"));
    assert_eq!(t.deadline_at, Some(Timestamp(1000)));
    assert_eq!(t.last_error, None);
    assert!(matches!(
        s.callback_target("nope").await,
        Err(StoreError::NotFound)
    ));
    let plain = s.callback_target("plain").await.unwrap();
    assert_eq!((plain.secret_hash, plain.deadline_at), (None, None));

    // Completes once; every later attempt (output or error) finds it ended.
    assert_eq!(
        s.complete("a", Some(r#"{"x":1}"#), None, Timestamp(500))
            .await
            .unwrap(),
        CompleteResult::Done
    );
    assert_eq!(
        s.complete("a", Some(r#"{"x":2}"#), None, Timestamp(501))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
    assert_eq!(
        s.complete("a", None, Some("late"), Timestamp(502))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
    let v = s.invocation(&i, "a").await.unwrap();
    assert_eq!(v.status, InvocationStatus::Completed);
    assert_eq!(v.output, Some(serde_json::json!({"x": 1})));
    assert_eq!(v.completed_at, Some(Timestamp(500)));
    assert_eq!(v.deadline_at, Some(Timestamp(1000)));
    assert_eq!(v.last_error, None);

    // An error fails it, also while the delivery is still in flight (the callback overtook it).
    let mut claimed = s
        .claim_due(Timestamp(100), Timestamp(900), 10)
        .await
        .unwrap();
    claimed.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(claimed_ids(&claimed), ["b", "c", "plain"]);
    assert_eq!(claimed[0].deadline_at, Some(Timestamp(1000)));
    assert_eq!(claimed[2].deadline_at, None);
    assert_eq!(
        s.complete("b", None, Some("subscriber refused"), Timestamp(600))
            .await
            .unwrap(),
        CompleteResult::Done
    );
    let v = s.invocation(&i, "b").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.last_error.as_deref(), v.output),
        ("failed", Some("subscriber refused"), None)
    );
    // The delivery's own late result leaves the completed row alone.
    s.record_outcomes(&[outcome(
        &claimed[0],
        NextStep::AwaitingCallback,
        610,
        Some(202),
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "b").await, "failed");

    // Not at or after the deadline, and never for an invocation without one.
    assert_eq!(
        s.complete("c", Some("{}"), None, Timestamp(1000))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
    assert_eq!(status(&s, &i, "c").await, "in_flight");
    assert_eq!(
        s.complete("plain", Some("{}"), None, Timestamp(200))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
    assert_eq!(
        s.complete("nope", Some("{}"), None, Timestamp(200))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
}

pub async fn expire_due_and_next_deadline(s: Arc<dyn Store>) {
    let i = inst("rr1");
    assert_eq!(s.next_deadline().await.unwrap(), None);
    publish_rr(
        &s,
        &i,
        "e1",
        100,
        vec![
            rr("d300", "s1", 300),
            rr("d200", "s1", 200),
            rr("d500", "s1", 500),
            rr("d400", "s1", 400),
            rr("done", "s1", 150),
            inv(
                "plain",
                RouteKind::Subscription,
                "s1",
                InitialState::Pending,
            ),
        ],
    )
    .await;
    assert_eq!(s.next_deadline().await.unwrap(), Some(Timestamp(150)));
    s.complete("done", Some("{}"), None, Timestamp(120))
        .await
        .unwrap();
    // Completed invocations no longer count.
    assert_eq!(s.next_deadline().await.unwrap(), Some(Timestamp(200)));
    assert!(s.expire_due(Timestamp(199), 10).await.unwrap().is_empty());

    // One awaiting its callback expires like a pending one.
    let leased = s
        .claim_due(Timestamp(100), Timestamp(10_000), 10)
        .await
        .unwrap();
    let d300 = leased.iter().find(|c| c.id == "d300").unwrap();
    s.record_outcomes(&[outcome(d300, NextStep::AwaitingCallback, 110, Some(202))])
        .await
        .unwrap();
    assert_eq!(status(&s, &i, "d300").await, "awaiting_callback");

    let mut expired = s.expire_due(Timestamp(300), 10).await.unwrap();
    expired.sort();
    assert_eq!(expired, ["d200", "d300"], "deadline at or before now");
    for id in ["d200", "d300"] {
        let v = s.invocation(&i, id).await.unwrap();
        assert_eq!(
            (v.status.as_str(), v.last_error.as_deref(), v.completed_at),
            ("failed", Some(TIMED_OUT), Some(Timestamp(300)))
        );
        assert_eq!(
            s.callback_target(id).await.unwrap().last_error.as_deref(),
            Some(TIMED_OUT)
        );
    }
    assert_eq!(status(&s, &i, "done").await, "completed");
    assert_eq!(s.next_deadline().await.unwrap(), Some(Timestamp(400)));
    // The limit caps one sweep; the next sweep takes the rest; nothing expires twice.
    assert_eq!(s.expire_due(Timestamp(1000), 1).await.unwrap().len(), 1);
    assert_eq!(s.expire_due(Timestamp(1000), 10).await.unwrap().len(), 1);
    assert!(s.expire_due(Timestamp(1000), 10).await.unwrap().is_empty());
    assert_eq!(s.next_deadline().await.unwrap(), None);
    // A callback after the sweep finds the invocation ended.
    assert_eq!(
        s.complete("d500", Some("{}"), None, Timestamp(450))
            .await
            .unwrap(),
        CompleteResult::AlreadyEnded
    );
    assert_eq!(status(&s, &i, "plain").await, "in_flight");
}

pub async fn invocation_outcomes_in_the_given_order(s: Arc<dyn Store>) {
    let i = inst("rr1");
    publish_rr(
        &s,
        &i,
        "e1",
        100,
        vec![
            rr("a", "s-a", 1000),
            rr("b", "s-b", 1000),
            rr("c", "s-c", 1000),
        ],
    )
    .await;
    s.complete("a", Some(r#"{"a":1}"#), None, Timestamp(200))
        .await
        .unwrap();
    s.complete("b", None, Some("no"), Timestamp(200))
        .await
        .unwrap();
    let got = s
        .invocation_outcomes(&i, &["c".into(), "unknown".into(), "a".into(), "b".into()])
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            InvocationOutcome {
                id: "c".into(),
                route_id: "s-c".into(),
                status: InvocationStatus::Pending,
                output: None,
                error: None,
            },
            InvocationOutcome {
                id: "a".into(),
                route_id: "s-a".into(),
                status: InvocationStatus::Completed,
                output: Some(r#"{"a":1}"#.into()),
                error: None,
            },
            InvocationOutcome {
                id: "b".into(),
                route_id: "s-b".into(),
                status: InvocationStatus::Failed,
                output: None,
                error: Some("no".into()),
            },
        ]
    );
    assert!(!got[0].is_final() && got[1].is_final() && got[2].is_final());
    assert!(s.invocation_outcomes(&i, &[]).await.unwrap().is_empty());
    assert!(s
        .invocation_outcomes(&inst("rr2"), &["a".into()])
        .await
        .unwrap()
        .is_empty());
}

pub async fn outcomes_complete_or_await_the_callback(s: Arc<dyn Store>) {
    let i = inst("rr1");
    let chained = NewInvocation {
        chain_next: Some("next".into()),
        ..rr("sync", "s1", 5000)
    };
    publish_rr(
        &s,
        &i,
        "e1",
        100,
        vec![
            chained,
            inv("next", RouteKind::Target, "t1", InitialState::Waiting),
            rr("async", "s1", 5000),
        ],
    )
    .await;
    let mut c = s
        .claim_due(Timestamp(100), Timestamp(1000), 10)
        .await
        .unwrap();
    c.sort_by(|x, y| y.id.cmp(&x.id));
    assert_eq!(claimed_ids(&c), ["sync", "async"]);
    let released = s
        .record_outcomes(&[
            outcome(
                &c[0],
                NextStep::Completed(r#"{"answer":42}"#.into()),
                150,
                Some(200),
            ),
            outcome(&c[1], NextStep::AwaitingCallback, 150, Some(202)),
        ])
        .await
        .unwrap();
    assert_eq!(released, 1, "completing releases the chain's next member");
    assert_eq!(status(&s, &i, "next").await, "pending");
    let v = s.invocation(&i, "sync").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.attempts, v.completed_at, v.last_status),
        ("completed", 1, Some(Timestamp(150)), Some(200))
    );
    assert_eq!(v.output, Some(serde_json::json!({"answer": 42})));
    let v = s.invocation(&i, "async").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.attempts, v.completed_at, v.output),
        ("awaiting_callback", 1, None, None)
    );
    assert_eq!(v.attempt_log.len(), 1);
    // Awaiting the callback is not claimable work.
    let more = s
        .claim_due(Timestamp(2000), Timestamp(3000), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&more), ["next"]);
    assert_eq!(
        s.complete("async", Some(r#"{"late":true}"#), None, Timestamp(300))
            .await
            .unwrap(),
        CompleteResult::Done
    );
    let v = s.invocation(&i, "async").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.output, v.completed_at),
        (
            "completed",
            Some(serde_json::json!({"late": true})),
            Some(Timestamp(300))
        )
    );
}
