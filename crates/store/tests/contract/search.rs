//! Contract tests for the operator's reads: invocation and event lists (every filter, keyset
//! pages that stay exact while newer rows arrive, instances kept apart), one event with its
//! fan-out, bulk replay (counted, bounded, only finished invocations), and API clients listed and
//! revoked.

use crate::catalog::inst;
use crate::queue::{event, inv, outcome};
use std::sync::Arc;
use switchyard_core::auth::Scopes;
use switchyard_core::Timestamp;
use switchyard_store::queue::*;
use switchyard_store::search::*;
use switchyard_store::{ApiClient, Store, StoreError};

crate::contract!(
    invocation_lists_filter_and_page_newest_first,
    pages_stay_exact_while_newer_rows_arrive,
    events_list_and_show_their_fan_out,
    bulk_replay_counts_bounds_and_keeps_to_finished_work,
    clients_are_listed_per_instance_and_revoked,
);

fn ids(rows: &[InvocationSummary]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

/// Events `e1..=e4` at 100, 200, 300, 400; each with a subscription invocation `<p>eN-s` (route
/// s1) and a target invocation `<p>eN-t` (route t1); `eN` 2 and 4 of the subscription end failed,
/// 3 of the target delivered. Invocation ids are unique across instances, hence the prefix `p`.
async fn history(s: &Arc<dyn Store>, instance: &str, p: &str) {
    let i = inst(instance);
    for n in 1..=4 {
        let mut e = event(
            &i,
            &format!("e{n}"),
            n * 100,
            vec![
                inv(
                    &format!("{p}e{n}-s"),
                    RouteKind::Subscription,
                    "s1",
                    InitialState::Pending,
                ),
                inv(
                    &format!("{p}e{n}-t"),
                    RouteKind::Target,
                    "t1",
                    InitialState::Pending,
                ),
            ],
        );
        if n == 4 {
            e.event_type = "user.human.added".into();
        }
        s.publish(&[e]).await.unwrap();
    }
    let claimed = s
        .claim_due(Timestamp(1_000), Timestamp(5_000), 100)
        .await
        .unwrap();
    let mut outcomes = Vec::new();
    for c in claimed.iter().filter(|c| c.instance == i) {
        let next = match c.id.strip_prefix(p).unwrap_or("") {
            "e2-s" | "e4-s" => NextStep::Failed("HTTP 500".into()),
            "e3-t" => NextStep::Delivered,
            _ => continue,
        };
        outcomes.push(outcome(c, next, 1_100, Some(500)));
    }
    s.record_outcomes(&outcomes).await.unwrap();
}

pub async fn invocation_lists_filter_and_page_newest_first(s: Arc<dyn Store>) {
    history(&s, "l1", "").await;
    let i = inst("l1");
    let list = |f: InvocationFilter| {
        let s = s.clone();
        let i = i.clone();
        async move { s.list_invocations(&i, &f, None, 100).await.unwrap() }
    };
    let all = list(InvocationFilter::default()).await;
    assert_eq!(
        ids(&all),
        ["e4-t", "e4-s", "e3-t", "e3-s", "e2-t", "e2-s", "e1-t", "e1-s"]
    );
    let failed = list(InvocationFilter {
        status: Some(InvocationStatus::Failed),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&failed), ["e4-s", "e2-s"]);
    assert_eq!(failed[0].last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(failed[0].attempts, 1);
    let targets = list(InvocationFilter {
        route_kind: Some(RouteKind::Target),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&targets), ["e4-t", "e3-t", "e2-t", "e1-t"]);
    let route = list(InvocationFilter {
        route_id: Some("s1".into()),
        since: Some(Timestamp(200)),
        until: Some(Timestamp(400)),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&route), ["e3-s", "e2-s"]);
    let trigger = list(InvocationFilter {
        trigger_id: Some("user.human.added".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&trigger), ["e4-t", "e4-s"]);
    let of_event = list(InvocationFilter {
        event_id: Some("e1".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(ids(&of_event), ["e1-t", "e1-s"]);
    let none = list(InvocationFilter {
        status: Some(InvocationStatus::Failed),
        route_kind: Some(RouteKind::Target),
        ..Default::default()
    })
    .await;
    assert!(none.is_empty());

    // Pages of three, each after the previous page's last row, cover the list exactly once.
    let mut seen = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = s
            .list_invocations(&i, &InvocationFilter::default(), after.as_ref(), 3)
            .await
            .unwrap();
        seen.extend(page.iter().map(|r| r.id.clone()));
        if page.len() < 3 {
            break;
        }
        after = page.last().map(InvocationSummary::cursor);
    }
    assert_eq!(seen, ids(&all));

    // Another instance sees nothing of it.
    let other = s
        .list_invocations(&inst("l2"), &InvocationFilter::default(), None, 100)
        .await
        .unwrap();
    assert!(other.is_empty());
}

pub async fn pages_stay_exact_while_newer_rows_arrive(s: Arc<dyn Store>) {
    let i = inst("p1");
    let publish = |n: i64| {
        let s = s.clone();
        let i = i.clone();
        async move {
            let e = event(
                &i,
                &format!("p{n:03}"),
                n,
                vec![inv(
                    &format!("p{n:03}-s"),
                    RouteKind::Subscription,
                    "s",
                    InitialState::Pending,
                )],
            );
            s.publish(&[e]).await.unwrap();
        }
    };
    for n in 1..=20 {
        publish(n).await;
    }
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<Cursor> = None;
    let mut newer = 100;
    loop {
        let page = s
            .list_invocations(&i, &InvocationFilter::default(), after.as_ref(), 4)
            .await
            .unwrap();
        seen.extend(page.iter().map(|r| r.id.clone()));
        // Newer rows arrive between pages: they never shift the pages still to come.
        publish(newer).await;
        newer += 1;
        if page.len() < 4 {
            break;
        }
        after = page.last().map(InvocationSummary::cursor);
    }
    let expected: Vec<String> = (1..=20).rev().map(|n| format!("p{n:03}-s")).collect();
    assert_eq!(seen, expected);
}

pub async fn events_list_and_show_their_fan_out(s: Arc<dyn Store>) {
    history(&s, "v1", "").await;
    let i = inst("v1");
    let all = s
        .list_events(&i, &EventFilter::default(), None, 10)
        .await
        .unwrap();
    let names: Vec<&str> = all.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(names, ["e4", "e3", "e2", "e1"]);
    let page = s
        .list_events(&i, &EventFilter::default(), Some(&all[1].cursor()), 10)
        .await
        .unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].id, "e2");
    let typed = s
        .list_events(
            &i,
            &EventFilter {
                event_type: Some("idn:identity-created".into()),
                since: Some(Timestamp(200)),
                until: None,
            },
            None,
            10,
        )
        .await
        .unwrap();
    let names: Vec<&str> = typed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(names, ["e3", "e2"]);

    let e = s.event(&i, "e2").await.unwrap();
    assert_eq!(e.event_type, "idn:identity-created");
    assert_eq!(e.payload, r#"{"event":"e2"}"#);
    assert_eq!(e.response, r#"{"eventId":"e2"}"#);
    assert_eq!(e.created_at, Timestamp(200));
    assert_eq!(ids(&e.invocations), ["e2-s", "e2-t"]);
    assert_eq!(e.invocations[0].status, InvocationStatus::Failed);
    assert_eq!(
        s.invocation_payload(&i, "e2-t").await.unwrap(),
        r#"{"event":"e2"}"#
    );
    assert!(matches!(
        s.event(&inst("v2"), "e2").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.invocation_payload(&inst("v2"), "e2-t").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn bulk_replay_counts_bounds_and_keeps_to_finished_work(s: Arc<dyn Store>) {
    history(&s, "r1", "").await;
    history(&s, "r2", "x").await;
    let i = inst("r1");
    let failed = InvocationFilter {
        status: Some(InvocationStatus::Failed),
        ..Default::default()
    };
    // A bound smaller than the match: one replayed, and "more" says to call again.
    let first = s
        .replay_matching(&i, &failed, 1, Timestamp(2_000))
        .await
        .unwrap();
    assert_eq!(
        first,
        BulkReplay {
            replayed: 1,
            more: true
        }
    );
    let e4 = s.invocation(&i, "e4-s").await.unwrap();
    assert_eq!(e4.status, InvocationStatus::Pending);
    assert_eq!(e4.next_attempt_at, Some(Timestamp(2_000)));
    let rest = s
        .replay_matching(&i, &failed, 100, Timestamp(2_000))
        .await
        .unwrap();
    assert_eq!(
        rest,
        BulkReplay {
            replayed: 1,
            more: false
        }
    );
    assert_eq!(
        s.invocation(&i, "e2-s").await.unwrap().status,
        InvocationStatus::Pending
    );
    // Nothing failed is left; the other instance's failures are untouched.
    let again = s
        .replay_matching(&i, &failed, 100, Timestamp(2_000))
        .await
        .unwrap();
    assert_eq!(again.replayed, 0);
    assert_eq!(
        s.invocation(&inst("r2"), "xe2-s").await.unwrap().status,
        InvocationStatus::Failed
    );
    // With no status, only finished work is replayed (here: the delivered e3-t), never
    // invocations still queued.
    let any = s
        .replay_matching(
            &i,
            &InvocationFilter {
                route_kind: Some(RouteKind::Target),
                ..Default::default()
            },
            100,
            Timestamp(2_100),
        )
        .await
        .unwrap();
    assert_eq!(any.replayed, 1);
    assert_eq!(
        s.invocation(&i, "e3-t").await.unwrap().status,
        InvocationStatus::Pending
    );
    let queued = InvocationFilter {
        status: Some(InvocationStatus::Pending),
        ..Default::default()
    };
    assert!(matches!(
        s.replay_matching(&i, &queued, 100, Timestamp(2_100)).await,
        Err(StoreError::Conflict(_))
    ));
    // Many matches are replayed in several transactions and all counted.
    let j = inst("r3");
    let many: Vec<NewInvocation> = (0..1_200)
        .map(|n| {
            inv(
                &format!("m{n}"),
                RouteKind::Subscription,
                "s",
                InitialState::Pending,
            )
        })
        .collect();
    s.publish(&[event(&j, "big", 10, many)]).await.unwrap();
    let claimed = s
        .claim_due(Timestamp(3_000), Timestamp(9_000), 2_000)
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = claimed
        .iter()
        .filter(|c| c.instance == j)
        .map(|c| outcome(c, NextStep::Failed("down".into()), 3_100, Some(503)))
        .collect();
    assert_eq!(outcomes.len(), 1_200);
    s.record_outcomes(&outcomes).await.unwrap();
    let all = s
        .replay_matching(&j, &failed, 10_000, Timestamp(3_200))
        .await
        .unwrap();
    assert_eq!(
        all,
        BulkReplay {
            replayed: 1_200,
            more: false
        }
    );
}

pub async fn clients_are_listed_per_instance_and_revoked(s: Arc<dyn Store>) {
    let client = |id: &str, instance: &str, at: i64| ApiClient {
        id: id.into(),
        instance: inst(instance),
        secret_hash: "h".into(),
        scopes: Scopes::parse("admin").unwrap(),
        management_limit: None,
        producer_limit: None,
        created_at: Timestamp(at),
    };
    for c in [
        client("b", "k1", 2),
        client("a", "k1", 1),
        client("c", "k2", 1),
    ] {
        s.create_client(&c).await.unwrap();
    }
    let listed: Vec<String> = s
        .clients(&inst("k1"))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, ["a", "b"]);
    // Another instance cannot revoke it; its own can, once.
    assert!(matches!(
        s.delete_client(&inst("k2"), "a").await,
        Err(StoreError::NotFound)
    ));
    s.delete_client(&inst("k1"), "a").await.unwrap();
    assert!(s.client("a").await.unwrap().is_none());
    assert!(matches!(
        s.delete_client(&inst("k1"), "a").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.clients(&inst("k1")).await.unwrap().len(), 1);
}
