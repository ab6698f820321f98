//! Contract tests for FIFO per key: invocations of one route and key run one at a time in
//! acceptance order (within a batch and across batches), other keys and routes are not held up,
//! retries keep the key blocked, cancellation (queued or waiting) and interruptOnError chains
//! pass the line on, replays cannot release a successor twice, concurrent publishers of one key
//! form one line, and ended lines are swept.

use crate::catalog::inst;
use crate::queue::{claimed_ids, event, inv, outcome, status};
use std::collections::HashSet;
use std::sync::Arc;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::queue::*;
use switchyard_store::Store;

crate::contract!(
    one_key_runs_one_at_a_time_in_order,
    retries_and_failures_hold_then_release_the_key,
    cancelled_members_pass_the_line_on,
    chains_and_keys_both_hold,
    replay_does_not_release_twice,
    concurrent_publishers_form_one_line,
    ended_lines_are_swept,
);

fn keyed(id: &str, route: &str, key: &str) -> NewInvocation {
    NewInvocation {
        order_key: Some(key.into()),
        ..inv(id, RouteKind::Subscription, route, InitialState::Pending)
    }
}

async fn claim(s: &Arc<dyn Store>, at: i64) -> Vec<Claimed> {
    s.claim_due(Timestamp(at), Timestamp(at + 10_000), 100)
        .await
        .unwrap()
}

fn sorted(c: &[Claimed]) -> Vec<&str> {
    let mut ids = claimed_ids(c);
    ids.sort();
    ids
}

async fn deliver(s: &Arc<dyn Store>, c: &Claimed, at: i64) -> usize {
    s.record_outcomes(&[outcome(c, NextStep::Delivered, at, Some(200))])
        .await
        .unwrap()
}

pub async fn one_key_runs_one_at_a_time_in_order(s: Arc<dyn Store>) {
    let i = inst("o1");
    // Two keys of one route in one batch (a1 a2 | b1), a3 in a later batch, a key of another
    // route, and an unkeyed invocation of the same route.
    s.publish(&[
        event(
            &i,
            "e1",
            100,
            vec![keyed("a1", "r", "A"), keyed("b1", "r", "B")],
        ),
        event(
            &i,
            "e2",
            100,
            vec![keyed("a2", "r", "A"), keyed("x1", "other", "A")],
        ),
        event(
            &i,
            "e3",
            100,
            vec![inv(
                "free",
                RouteKind::Subscription,
                "r",
                InitialState::Pending,
            )],
        ),
    ])
    .await
    .unwrap();
    s.publish(&[event(&i, "e4", 110, vec![keyed("a3", "r", "A")])])
        .await
        .unwrap();
    assert_eq!(status(&s, &i, "a2").await, "waiting");
    assert_eq!(status(&s, &i, "a3").await, "waiting");
    let first = claim(&s, 200).await;
    assert_eq!(sorted(&first), ["a1", "b1", "free", "x1"]);
    assert!(first.iter().find(|c| c.id == "a1").unwrap().ordered);
    assert!(!first.iter().find(|c| c.id == "free").unwrap().ordered);
    assert!(claim(&s, 210).await.is_empty(), "a2 waits for a1");
    let a1 = first.iter().find(|c| c.id == "a1").unwrap();
    assert_eq!(deliver(&s, a1, 220).await, 1);
    let next = claim(&s, 230).await;
    assert_eq!(claimed_ids(&next), ["a2"]);
    assert_eq!(status(&s, &i, "a3").await, "waiting");
    assert_eq!(deliver(&s, &next[0], 240).await, 1);
    assert_eq!(claimed_ids(&claim(&s, 250).await), ["a3"]);
}

pub async fn retries_and_failures_hold_then_release_the_key(s: Arc<dyn Store>) {
    let i = inst("o2");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![keyed("h", "r", "A"), keyed("n", "r", "A")],
    )])
    .await
    .unwrap();
    let c = claim(&s, 100).await;
    assert_eq!(claimed_ids(&c), ["h"]);
    // A retry keeps the key: the head is due again later, its successor still waits.
    let released = s
        .record_outcomes(&[outcome(
            &c[0],
            NextStep::RetryAt(Timestamp(300)),
            110,
            Some(500),
        )])
        .await
        .unwrap();
    assert_eq!(released, 1, "the head itself is pending again");
    assert_eq!(status(&s, &i, "n").await, "waiting");
    assert!(claim(&s, 200).await.is_empty());
    let c = claim(&s, 300).await;
    assert_eq!(claimed_ids(&c), ["h"]);
    // Failing finally ends the head: the key moves on.
    s.record_outcomes(&[outcome(
        &c[0],
        NextStep::Failed("out of tries".into()),
        310,
        Some(500),
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "h").await, "failed");
    assert_eq!(claimed_ids(&claim(&s, 320).await), ["n"]);
}

pub async fn cancelled_members_pass_the_line_on(s: Arc<dyn Store>) {
    let i = inst("o3");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![
            keyed("k1", "r", "A"),
            keyed("k2", "r", "A"),
            keyed("k3", "r", "A"),
            keyed("k4", "r", "A"),
        ],
    )])
    .await
    .unwrap();
    let head = claim(&s, 100).await;
    assert_eq!(claimed_ids(&head), ["k1"]);
    // k2 is cancelled while it waits: k3 must still wait for k1.
    s.cancel(&i, "k2", "operator", Timestamp(110))
        .await
        .unwrap();
    assert_eq!(status(&s, &i, "k3").await, "waiting");
    assert!(claim(&s, 120).await.is_empty());
    deliver(&s, &head[0], 130).await;
    assert_eq!(status(&s, &i, "k2").await, "cancelled");
    let c = claim(&s, 140).await;
    assert_eq!(claimed_ids(&c), ["k3"]);
    // k4 waits behind k3 in flight; cancelling the route's live work ends both, and a new
    // event of the key starts at once.
    s.cancel(&i, "k4", "operator", Timestamp(150))
        .await
        .unwrap();
    deliver(&s, &c[0], 160).await;
    s.publish(&[event(&i, "e2", 170, vec![keyed("k5", "r", "A")])])
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claim(&s, 180).await), ["k5"]);
    // A queued (pending) head that is cancelled lets its successor go at once.
    s.publish(&[event(
        &i,
        "e3",
        200,
        vec![keyed("p1", "r", "B"), keyed("p2", "r", "B")],
    )])
    .await
    .unwrap();
    s.cancel(&i, "p1", "operator", Timestamp(210))
        .await
        .unwrap();
    assert_eq!(status(&s, &i, "p2").await, "pending");
}

pub async fn chains_and_keys_both_hold(s: Arc<dyn Store>) {
    let i = inst("o4");
    let link = |id: &str, state, next: Option<&str>, interrupt| NewInvocation {
        chain_next: next.map(str::to_string),
        interrupt_on_error: interrupt,
        order_key: Some("A".into()),
        ..inv(id, RouteKind::Target, &format!("t-{id}"), state)
    };
    // Event 1: chain c1 → d1 (c1 interrupts on error); d1's route is also t-d, so event 2's
    // d2 (a lone target of the same route and key) waits for d1.
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![
            link("c", InitialState::Pending, Some("d"), true),
            link("d", InitialState::Waiting, None, false),
        ],
    )])
    .await
    .unwrap();
    s.publish(&[event(
        &i,
        "e2",
        110,
        vec![NewInvocation {
            order_key: Some("A".into()),
            ..inv("d2", RouteKind::Target, "t-d", InitialState::Pending)
        }],
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "d2").await, "waiting");
    let c = claim(&s, 120).await;
    assert_eq!(claimed_ids(&c), ["c"]);
    // c fails with interruptOnError: d fails without being called, and passes the key on.
    s.record_outcomes(&[outcome(
        &c[0],
        NextStep::Failed("500".into()),
        130,
        Some(500),
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "d").await, "failed");
    assert_eq!(claimed_ids(&claim(&s, 140).await), ["d2"]);
}

pub async fn replay_does_not_release_twice(s: Arc<dyn Store>) {
    let i = inst("o5");
    let chained = NewInvocation {
        chain_next: Some("w".into()),
        ..inv("c", RouteKind::Target, "t-c", InitialState::Pending)
    };
    // w waits for two things: its chain predecessor c and its key's predecessor h.
    s.publish(&[event(&i, "e0", 90, vec![keyed("h", "t-w", "A")])])
        .await
        .unwrap();
    let w = NewInvocation {
        order_key: Some("A".into()),
        ..inv("w", RouteKind::Subscription, "t-w", InitialState::Waiting)
    };
    s.publish(&[event(&i, "e1", 100, vec![chained, w])])
        .await
        .unwrap();
    let first = claim(&s, 100).await;
    assert_eq!(sorted(&first), ["c", "h"]);
    let h = first.iter().find(|c| c.id == "h").unwrap().clone();
    let c = first.iter().find(|c| c.id == "c").unwrap().clone();
    deliver(&s, &h, 110).await;
    assert_eq!(status(&s, &i, "w").await, "waiting", "c still holds it");
    // h is replayed and delivered again: it must not release w a second time.
    s.replay(&i, "h", Timestamp(120)).await.unwrap();
    let again = claim(&s, 130).await;
    assert_eq!(claimed_ids(&again), ["h"]);
    deliver(&s, &again[0], 140).await;
    assert_eq!(status(&s, &i, "w").await, "waiting", "c still holds it");
    deliver(&s, &c, 150).await;
    assert_eq!(claimed_ids(&claim(&s, 160).await), ["w"]);
}

pub async fn concurrent_publishers_form_one_line(s: Arc<dyn Store>) {
    let i = inst("o6");
    // Eight publishers at once, 10 events each, all of key A; then drain: never two in flight.
    let mut tasks = Vec::new();
    for p in 0..8 {
        let s = s.clone();
        let i = i.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..10 {
                let id = format!("p{p}-{n}");
                s.publish(&[event(
                    &i,
                    &format!("e-{id}"),
                    100,
                    vec![keyed(&id, "r", "A")],
                )])
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut seen: HashSet<String> = HashSet::new();
    let mut order: Vec<String> = Vec::new();
    let mut at = 200;
    while seen.len() < 80 {
        let c = claim(&s, at).await;
        assert_eq!(c.len(), 1, "one at a time, after {order:?}");
        assert!(seen.insert(c[0].id.clone()));
        order.push(c[0].id.clone());
        deliver(&s, &c[0], at + 1).await;
        at += 2;
    }
    // Each publisher's events keep their own order.
    for p in 0..8 {
        let mine: Vec<&String> = order
            .iter()
            .filter(|id| id.starts_with(&format!("p{p}-")))
            .collect();
        let expected: Vec<String> = (0..10).map(|n| format!("p{p}-{n}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
}

pub async fn ended_lines_are_swept(s: Arc<dyn Store>) {
    let i: InstanceId = inst("o7");
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![keyed("a", "r", "A"), keyed("b", "r", "B")],
    )])
    .await
    .unwrap();
    assert_eq!(s.sweep_ordering_tails(100).await.unwrap(), 0, "both live");
    let c = claim(&s, 100).await;
    let a = c.iter().find(|c| c.id == "a").unwrap();
    deliver(&s, a, 110).await;
    assert_eq!(s.sweep_ordering_tails(100).await.unwrap(), 1);
    // A new event of the swept key starts a new line; B's line still holds.
    s.publish(&[event(
        &i,
        "e2",
        120,
        vec![keyed("a2", "r", "A"), keyed("b2", "r", "B")],
    )])
    .await
    .unwrap();
    assert_eq!(status(&s, &i, "a2").await, "pending");
    assert_eq!(status(&s, &i, "b2").await, "waiting");
}
