//! Contract tests for the durable queue: publish (with duplicate ids), claims (due time, limit,
//! expired leases, fast-path leases), concurrent claimers never sharing an invocation, outcomes
//! (retry, delivered, failed, 410 disabling both route kinds, late results ignored), chains
//! (release and interruptOnError cancel), replay and queue depth.

use crate::catalog::{inst, key, sub};
use std::collections::HashSet;
use std::sync::Arc;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::queue::*;
use switchyard_store::{Store, StoreError};

crate::contract!(
    publish_and_duplicate_ids,
    claims_respect_due_time_limit_and_leases,
    concurrent_claims_never_share_an_invocation,
    outcomes_retry_deliver_and_replay,
    gone_disables_both_route_kinds,
    an_operator_disables_a_target,
    chains_release_and_cancel,
    wakeups_follow_new_due_work,
);

pub fn inv(id: &str, kind: RouteKind, route: &str, state: InitialState) -> NewInvocation {
    NewInvocation {
        id: id.into(),
        secret_hash: None,
        deadline_at: None,
        route_kind: kind,
        route_id: route.into(),
        state,
        chain_next: None,
        interrupt_on_error: false,
        gated: false,
        order_key: None,
    }
}

pub fn event(i: &InstanceId, id: &str, at: i64, invocations: Vec<NewInvocation>) -> NewEvent {
    NewEvent {
        instance: i.clone(),
        id: id.into(),
        event_type: "idn:identity-created".into(),
        payload: format!(r#"{{"event":"{id}"}}"#).into(),
        content_json: None,
        created_at: Timestamp(at),
        kind: InvocationKind::RealTime,
        invocations,
        response: format!(r#"{{"eventId":"{id}"}}"#),
    }
}

pub fn outcome(c: &Claimed, next: NextStep, at: i64, status: Option<u16>) -> Outcome {
    Outcome {
        invocation_id: c.id.clone(),
        instance: c.instance.clone(),
        route_kind: c.route_kind,
        route_id: c.route_id.clone(),
        attempt: AttemptRecord {
            n: c.attempts_done + 1,
            at: Timestamp(at),
            transport: Some(DestinationKind::Http),
            destination: Some("http://127.0.0.1:9/hook".into()),
            outcome: Some(next.attempt_outcome()),
            request_headers: serde_json::json!({"webhook-id": c.id}),
            status,
            duration_ms: 3,
            response_excerpt: Some("ok".into()),
            error: None,
        },
        next,
        at: Timestamp(at),
    }
}

pub fn claimed_ids(c: &[Claimed]) -> Vec<&str> {
    c.iter().map(|c| c.id.as_str()).collect()
}

async fn depth(s: &Arc<dyn Store>) -> Vec<(String, i64)> {
    s.queue_depth()
        .await
        .unwrap()
        .into_iter()
        .map(|(status, n)| (status.to_string(), n))
        .collect()
}

pub async fn status(s: &Arc<dyn Store>, i: &InstanceId, id: &str) -> String {
    s.invocation(i, id).await.unwrap().status.to_string()
}

pub async fn publish_and_duplicate_ids(s: Arc<dyn Store>) {
    let i = inst("q1");
    let sub_inv = |id: &str| inv(id, RouteKind::Subscription, "s1", InitialState::Pending);
    let r = s
        .publish(&[event(&i, "e1", 100, vec![sub_inv("i1"), sub_inv("i2")])])
        .await
        .unwrap();
    assert_eq!(r, vec![PublishResult::Created]);
    // Same id again (even alone with a different answer): nothing written, first answer back.
    let mut again = event(&i, "e1", 200, vec![sub_inv("i3")]);
    again.response = "{\"other\":true}".into();
    let r = s
        .publish(&[again, event(&i, "e2", 200, vec![sub_inv("i4")])])
        .await
        .unwrap();
    assert_eq!(
        r,
        vec![
            PublishResult::Duplicate {
                response: r#"{"eventId":"e1"}"#.into()
            },
            PublishResult::Created
        ]
    );
    // Event ids are per instance.
    let r = s
        .publish(&[event(&inst("q2"), "e1", 300, vec![sub_inv("i5")])])
        .await
        .unwrap();
    assert_eq!(r, vec![PublishResult::Created]);
    assert_eq!(depth(&s).await, vec![("pending".to_string(), 4)]);
    assert!(matches!(
        s.invocation(&i, "i3").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.invocation(&i, "i5").await,
        Err(StoreError::NotFound)
    ));
    let v = s.invocation(&i, "i1").await.unwrap();
    assert_eq!(
        (v.event_id.as_str(), v.status.as_str(), v.attempts),
        ("e1", "pending", 0)
    );
    assert_eq!(v.next_attempt_at, Some(Timestamp(100)));
}

pub async fn claims_respect_due_time_limit_and_leases(s: Arc<dyn Store>) {
    let i = inst("q1");
    let p = |id: &str| inv(id, RouteKind::Target, "t1", InitialState::Pending);
    s.publish(&[
        event(&i, "e1", 100, vec![p("a")]),
        event(&i, "e2", 110, vec![p("b")]),
        event(&i, "e3", 120, vec![p("c")]),
        event(
            &i,
            "e4",
            100,
            vec![inv(
                "fast",
                RouteKind::Target,
                "t1",
                InitialState::Leased(Timestamp(1000)),
            )],
        ),
        event(
            &i,
            "e5",
            100,
            vec![inv("w", RouteKind::Target, "t1", InitialState::Waiting)],
        ),
    ])
    .await
    .unwrap();
    assert_eq!(s.next_due_at().await.unwrap(), Some(Timestamp(100)));
    assert!(s
        .claim_due(Timestamp(99), Timestamp(500), 10)
        .await
        .unwrap()
        .is_empty());
    let first = s
        .claim_due(Timestamp(200), Timestamp(500), 2)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&first), ["a", "b"]);
    let c = &first[0];
    assert_eq!(
        (c.event_id.as_str(), &*c.payload),
        ("e1", r#"{"event":"e1"}"#)
    );
    assert_eq!(
        (c.attempts_done, c.round_attempts, c.instance.clone()),
        (0, 0, i.clone())
    );
    assert_eq!(c.event_created_at, Timestamp(100));
    let second = s
        .claim_due(Timestamp(200), Timestamp(500), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&second), ["c"]);
    assert!(s
        .claim_due(Timestamp(200), Timestamp(500), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(status(&s, &i, "a").await, "in_flight");
    assert_eq!(status(&s, &i, "w").await, "waiting");
    // Earliest expiring lease is next.
    assert_eq!(s.next_due_at().await.unwrap(), Some(Timestamp(500)));

    // The fast path's own lease is not claimable until it expires.
    // Expired leases come back (a crashed node's work), oldest lease first, honouring the limit.
    let back = s
        .claim_due(Timestamp(999), Timestamp(2000), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&back), ["a", "b", "c"]);
    let back = s
        .claim_due(Timestamp(1000), Timestamp(3000), 1)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&back), ["fast"]);
    assert!(s
        .claim_due(Timestamp(1000), Timestamp(3000), 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        depth(&s).await,
        vec![("in_flight".to_string(), 4), ("waiting".to_string(), 1)]
    );
}

pub async fn concurrent_claims_never_share_an_invocation(s: Arc<dyn Store>) {
    let i = inst("q1");
    let events: Vec<NewEvent> = (0..300)
        .map(|n| {
            let id = format!("i{n:04}");
            event(
                &i,
                &format!("e{n}"),
                100,
                vec![inv(
                    &id,
                    RouteKind::Subscription,
                    "s1",
                    InitialState::Pending,
                )],
            )
        })
        .collect();
    s.publish(&events).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = s
                    .claim_due(Timestamp(200), Timestamp(10_000), 7)
                    .await
                    .unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|c| c.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an invocation was claimed twice");
    assert_eq!(all.len(), 300);
}

pub async fn outcomes_retry_deliver_and_replay(s: Arc<dyn Store>) {
    let i = inst("q1");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![inv("a", RouteKind::Target, "t1", InitialState::Pending)],
    )])
    .await
    .unwrap();
    let c = s
        .claim_due(Timestamp(100), Timestamp(500), 1)
        .await
        .unwrap()
        .remove(0);
    let mut retry = outcome(&c, NextStep::RetryAt(Timestamp(300)), 150, Some(503));
    retry.attempt.error = Some("HTTP 503".into());
    assert_eq!(s.record_outcomes(&[retry]).await.unwrap(), 1);
    let v = s.invocation(&i, "a").await.unwrap();
    assert_eq!((v.status.as_str(), v.attempts), ("pending", 1));
    assert_eq!(v.next_attempt_at, Some(Timestamp(300)));
    assert_eq!(
        (v.last_status, v.last_error.as_deref()),
        (Some(503), Some("HTTP 503"))
    );
    assert!(s
        .claim_due(Timestamp(299), Timestamp(500), 1)
        .await
        .unwrap()
        .is_empty());
    let c = s
        .claim_due(Timestamp(300), Timestamp(700), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((c.attempts_done, c.round_attempts), (1, 1));
    assert_eq!(
        s.record_outcomes(&[outcome(&c, NextStep::Delivered, 320, Some(200))])
            .await
            .unwrap(),
        0
    );
    let v = s.invocation(&i, "a").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.attempts, v.completed_at),
        ("delivered", 2, Some(Timestamp(320)))
    );
    assert_eq!(v.next_attempt_at, None);
    assert_eq!(
        v.attempt_log.iter().map(|a| a.n).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(v.attempt_log[0].status, Some(503));
    // Every attempt says what carried it, where to, and how it was classified.
    assert_eq!(v.attempt_log[0].outcome, Some(AttemptOutcome::Retry));
    assert_eq!(v.attempt_log[1].outcome, Some(AttemptOutcome::Delivered));
    assert_eq!(v.attempt_log[1].transport, Some(DestinationKind::Http));
    assert_eq!(
        v.attempt_log[1].destination.as_deref(),
        Some("http://127.0.0.1:9/hook")
    );
    assert_eq!(v.attempt_log[1].request_headers["webhook-id"], "a");
    // A late result for work that is no longer in flight does not change its state.
    s.record_outcomes(&[outcome(&c, NextStep::Failed("late".into()), 330, None)])
        .await
        .unwrap();
    assert_eq!(status(&s, &i, "a").await, "delivered");

    // Replay: a fresh round whose attempt numbers continue.
    assert!(matches!(
        s.replay(&inst("other"), "a", Timestamp(400)).await,
        Err(StoreError::NotFound)
    ));
    s.replay(&i, "a", Timestamp(400)).await.unwrap();
    assert!(matches!(
        s.replay(&i, "a", Timestamp(401)).await,
        Err(StoreError::Conflict(_))
    ));
    let c = s
        .claim_due(Timestamp(400), Timestamp(900), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!((c.attempts_done, c.round_attempts), (2, 0));
    s.record_outcomes(&[outcome(
        &c,
        NextStep::Failed("HTTP 500".into()),
        410,
        Some(500),
    )])
    .await
    .unwrap();
    let v = s.invocation(&i, "a").await.unwrap();
    assert_eq!(
        (v.status.as_str(), v.attempts, v.last_error.as_deref()),
        ("failed", 3, Some("HTTP 500"))
    );
    s.replay(&i, "a", Timestamp(500)).await.unwrap();
    assert_eq!(status(&s, &i, "a").await, "pending");
}

pub async fn gone_disables_both_route_kinds(s: Arc<dyn Store>) {
    let i = inst("q1");
    s.create_subscription(
        &i,
        &sub("s1", "idn:identity-created"),
        50,
        &key("k", 1),
        Timestamp(1),
    )
    .await
    .unwrap();
    assert!(s.subscription(&i, "s1").await.unwrap().enabled);
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![
            inv("a", RouteKind::Subscription, "s1", InitialState::Pending),
            inv("b", RouteKind::Target, "t1", InitialState::Pending),
        ],
    )])
    .await
    .unwrap();
    let claimed = s
        .claim_due(Timestamp(100), Timestamp(500), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let gone: Vec<Outcome> = claimed
        .iter()
        .map(|c| {
            outcome(
                c,
                NextStep::FailedDisableRoute("HTTP 410 Gone".into()),
                150,
                Some(410),
            )
        })
        .collect();
    assert_eq!(s.record_outcomes(&gone).await.unwrap(), 0);
    assert_eq!(status(&s, &i, "a").await, "failed");
    assert_eq!(status(&s, &i, "b").await, "failed");
    // The subscription is switched off in its own document; the target through the marker.
    let off = s.subscription(&i, "s1").await.unwrap();
    assert!(!off.enabled);
    assert_eq!(off.name, "s1");
    assert!(!s
        .is_route_disabled(&i, RouteKind::Subscription, "s1")
        .await
        .unwrap());
    assert!(s
        .is_route_disabled(&i, RouteKind::Target, "t1")
        .await
        .unwrap());
    assert!(!s
        .is_route_disabled(&inst("q2"), RouteKind::Target, "t1")
        .await
        .unwrap());
    s.enable_route(&i, RouteKind::Target, "t1").await.unwrap();
    assert!(!s
        .is_route_disabled(&i, RouteKind::Target, "t1")
        .await
        .unwrap());
}

pub async fn an_operator_disables_a_target(s: Arc<dyn Store>) {
    let i = inst("q1");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![
            inv("a", RouteKind::Target, "t1", InitialState::Pending),
            inv("b", RouteKind::Target, "t2", InitialState::Pending),
        ],
    )])
    .await
    .unwrap();
    assert_eq!(
        s.route_disabled(&i, RouteKind::Target, "t1").await.unwrap(),
        None
    );
    assert!(s
        .disable_route(&i, RouteKind::Target, "t1", Timestamp(200))
        .await
        .unwrap());
    assert_eq!(
        s.route_disabled(&i, RouteKind::Target, "t1").await.unwrap(),
        Some((Timestamp(200), "operator".to_string()))
    );
    // Its live invocation is cancelled; the other target's is not; a second switch-off is a no-op.
    assert_eq!(status(&s, &i, "a").await, "cancelled");
    assert_eq!(status(&s, &i, "b").await, "pending");
    assert!(!s
        .disable_route(&i, RouteKind::Target, "t1", Timestamp(300))
        .await
        .unwrap());
    assert_eq!(
        s.route_disabled(&i, RouteKind::Target, "t1").await.unwrap(),
        Some((Timestamp(200), "operator".to_string()))
    );
    // Only this instance's target.
    assert_eq!(
        s.route_disabled(&inst("q2"), RouteKind::Target, "t1")
            .await
            .unwrap(),
        None
    );
    s.enable_route(&i, RouteKind::Target, "t1").await.unwrap();
    assert_eq!(
        s.route_disabled(&i, RouteKind::Target, "t1").await.unwrap(),
        None
    );
}

pub async fn chains_release_and_cancel(s: Arc<dyn Store>) {
    let i = inst("q1");
    let link = |id: &str, state, next: Option<&str>, interrupt| NewInvocation {
        chain_next: next.map(str::to_string),
        interrupt_on_error: interrupt,
        ..inv(id, RouteKind::Target, &format!("t-{id}"), state)
    };
    // a → b (interruptOnError) → c → d; and x → y without interrupt.
    s.publish(&[
        event(
            &i,
            "e1",
            100,
            vec![
                link("a", InitialState::Pending, Some("b"), false),
                link("b", InitialState::Waiting, Some("c"), true),
                link("c", InitialState::Waiting, Some("d"), false),
                link("d", InitialState::Waiting, None, false),
            ],
        ),
        event(
            &i,
            "e2",
            100,
            vec![
                link("x", InitialState::Pending, Some("y"), false),
                link("y", InitialState::Waiting, None, false),
            ],
        ),
    ])
    .await
    .unwrap();
    let first = s
        .claim_due(Timestamp(100), Timestamp(500), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&first), ["a", "x"]);
    // a delivered releases b; x failed without interrupt still releases y.
    let released = s
        .record_outcomes(&[
            outcome(&first[0], NextStep::Delivered, 150, Some(200)),
            outcome(
                &first[1],
                NextStep::Failed("HTTP 500".into()),
                150,
                Some(500),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(released, 2);
    assert_eq!(status(&s, &i, "b").await, "pending");
    assert_eq!(status(&s, &i, "y").await, "pending");
    assert_eq!(status(&s, &i, "c").await, "waiting");
    // Both became due at the same moment; the order among equally due work is unspecified.
    let mut next = s
        .claim_due(Timestamp(150), Timestamp(500), 10)
        .await
        .unwrap();
    next.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(claimed_ids(&next), ["b", "y"]);
    // A retry of b keeps c waiting; b's final failure (interruptOnError) cancels c and d.
    s.record_outcomes(&[outcome(
        &next[0],
        NextStep::RetryAt(Timestamp(200)),
        160,
        Some(500),
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "c").await, "waiting");
    let b = s
        .claim_due(Timestamp(200), Timestamp(600), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&b), ["b"]);
    assert_eq!(
        s.record_outcomes(&[outcome(
            &b[0],
            NextStep::Failed("HTTP 500".into()),
            210,
            Some(500)
        )])
        .await
        .unwrap(),
        0
    );
    for id in ["c", "d"] {
        let v = s.invocation(&i, id).await.unwrap();
        assert_eq!(v.status, InvocationStatus::Failed);
        assert!(
            v.last_error.unwrap().contains("t-b"),
            "names the failed target"
        );
        assert_eq!(v.completed_at, Some(Timestamp(210)));
    }
    assert_eq!(
        depth(&s).await,
        vec![("in_flight".to_string(), 1)],
        "finished invocations are not part of the queue"
    );
}

/// Backends with a cross-node signal (PostgreSQL) tick it when work becomes due; SQLite has none.
pub async fn wakeups_follow_new_due_work(s: Arc<dyn Store>) {
    let Some(mut rx) = s.subscribe_wakeups() else {
        return;
    };
    let wait = std::time::Duration::from_secs(5);
    // The first tick means the listener is connected (it ticks once per (re)connect).
    if *rx.borrow_and_update() == 0 {
        tokio::time::timeout(wait, rx.changed())
            .await
            .expect("listener connects")
            .unwrap();
    }
    rx.borrow_and_update();
    let i = inst("q1");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![inv("a", RouteKind::Target, "t1", InitialState::Pending)],
    )])
    .await
    .unwrap();
    tokio::time::timeout(wait, rx.changed())
        .await
        .expect("publish wakes")
        .unwrap();
    rx.borrow_and_update();
    let c = s
        .claim_due(Timestamp(100), Timestamp(500), 1)
        .await
        .unwrap()
        .remove(0);
    s.record_outcomes(&[outcome(
        &c,
        NextStep::RetryAt(Timestamp(200)),
        150,
        Some(503),
    )])
    .await
    .unwrap();
    tokio::time::timeout(wait, rx.changed())
        .await
        .expect("a scheduled retry wakes")
        .unwrap();
}
