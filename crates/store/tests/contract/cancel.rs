//! Contract tests for ending invocations early: an operator's cancel (queued, in flight, ended),
//! a subscription switched off or deleted, a target deleted or taken out of its execution, and
//! chains stepping over a cancelled member.

use crate::catalog::{inst, key, sub, target};
use crate::queue::{claimed_ids, event, inv, outcome};
use std::sync::Arc;
use switchyard_core::zitadel::{Condition, EventSelector, ExecutionEntry};
use switchyard_core::Timestamp;
use switchyard_store::queue::*;
use switchyard_store::Store;

crate::contract!(
    cancel_ends_queued_and_marks_in_flight,
    disabling_a_subscription_cancels_its_real_time_work,
    unbinding_or_deleting_a_target_cancels_its_work,
    chains_step_over_a_cancelled_member,
);

async fn view(s: &Arc<dyn Store>, i: &switchyard_core::InstanceId, id: &str) -> InvocationView {
    s.invocation(i, id).await.unwrap()
}

pub async fn cancel_ends_queued_and_marks_in_flight(s: Arc<dyn Store>) {
    let i = inst("c1");
    let pending = |id: &str| inv(id, RouteKind::Subscription, "s", InitialState::Pending);
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![pending("a"), pending("b"), pending("c")],
    )])
    .await
    .unwrap();
    let claimed = s
        .claim_due(Timestamp(100), Timestamp(500), 2)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&claimed), ["a", "b"]);

    // Queued: ends now, with an entry in its attempt log.
    let r = s.cancel(&i, "c", "by an operator", Timestamp(110)).await;
    assert_eq!(r.unwrap(), CancelResult::Cancelled);
    let c = view(&s, &i, "c").await;
    assert_eq!(c.status, InvocationStatus::Cancelled);
    assert_eq!(c.last_error.as_deref(), Some("by an operator"));
    assert_eq!(c.completed_at, Some(Timestamp(110)));
    let log = &c.attempt_log;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].error.as_deref(), Some("cancelled: by an operator"));
    assert_eq!(log[0].status, None);
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Cancelled));
    assert_eq!(
        (log[0].transport, log[0].destination.as_deref()),
        (None, None)
    );

    // In flight: the attempt ends as it ends; a retry becomes the end, a success stays one.
    for id in ["a", "b"] {
        let r = s.cancel(&i, id, "by an operator", Timestamp(120)).await;
        assert_eq!(r.unwrap(), CancelResult::AfterAttempt);
        assert_eq!(view(&s, &i, id).await.status, InvocationStatus::InFlight);
    }
    let released = s
        .record_outcomes(&[
            outcome(
                &claimed[0],
                NextStep::RetryAt(Timestamp(900)),
                130,
                Some(503),
            ),
            outcome(&claimed[1], NextStep::Delivered, 130, Some(204)),
        ])
        .await
        .unwrap();
    assert_eq!(released, 0, "nothing became due");
    let a = view(&s, &i, "a").await;
    assert_eq!(a.status, InvocationStatus::Cancelled);
    assert_eq!(a.last_error.as_deref(), Some("by an operator"));
    assert_eq!(a.attempt_log.len(), 1, "the attempt itself is logged");
    assert_eq!(
        a.attempt_log[0].error.as_deref(),
        Some("cancelled: by an operator"),
        "with the reason no retry follows"
    );
    assert_eq!(view(&s, &i, "b").await.status, InvocationStatus::Delivered);
    assert!(s
        .claim_due(Timestamp(1000), Timestamp(2000), 10)
        .await
        .unwrap()
        .is_empty());

    // Ended: nothing changes.
    let r = s.cancel(&i, "b", "late", Timestamp(140)).await.unwrap();
    assert_eq!(r, CancelResult::AlreadyEnded(InvocationStatus::Delivered));
    assert!(matches!(
        s.cancel(&i, "nope", "x", Timestamp(140)).await,
        Err(switchyard_store::StoreError::NotFound)
    ));
    // A cancelled invocation may be replayed on purpose.
    s.replay(&i, "c", Timestamp(150)).await.unwrap();
    assert_eq!(view(&s, &i, "c").await.status, InvocationStatus::Pending);
}

pub async fn disabling_a_subscription_cancels_its_real_time_work(s: Arc<dyn Store>) {
    let i = inst("c2");
    let mut subscription = sub("s1", "idn:identity-created");
    s.create_subscription(&i, &subscription, 50, &key("k1", 1), Timestamp(1))
        .await
        .unwrap();
    let to = |id: &str| inv(id, RouteKind::Subscription, "s1", InitialState::Pending);
    let mut test = event(&i, "t1", 100, vec![to("test")]);
    test.kind = InvocationKind::Test;
    s.publish(&[event(&i, "e1", 100, vec![to("real")]), test])
        .await
        .unwrap();
    // An unrelated change keeps the work.
    subscription.name = "renamed".into();
    s.update_subscription(&i, &subscription, Timestamp(110))
        .await
        .unwrap();
    assert_eq!(view(&s, &i, "real").await.status, InvocationStatus::Pending);
    // Switching it off ends the real-time work; SailPoint still sends tests to it.
    subscription.enabled = false;
    s.update_subscription(&i, &subscription, Timestamp(120))
        .await
        .unwrap();
    let real = view(&s, &i, "real").await;
    assert_eq!(real.status, InvocationStatus::Cancelled);
    assert_eq!(
        real.last_error.as_deref(),
        Some("the subscription was disabled")
    );
    assert_eq!(view(&s, &i, "test").await.status, InvocationStatus::Pending);
    // Switching it on again brings nothing back; deleting it ends the rest.
    subscription.enabled = true;
    s.update_subscription(&i, &subscription, Timestamp(130))
        .await
        .unwrap();
    assert_eq!(
        view(&s, &i, "real").await.status,
        InvocationStatus::Cancelled
    );
    s.delete_subscription(&i, "s1", Timestamp(140))
        .await
        .unwrap();
    let test = view(&s, &i, "test").await;
    assert_eq!(test.status, InvocationStatus::Cancelled);
    assert_eq!(
        test.last_error.as_deref(),
        Some("the subscription was deleted")
    );
}

pub async fn unbinding_or_deleting_a_target_cancels_its_work(s: Arc<dyn Store>) {
    let i = inst("c3");
    let (a, b) = ("100".to_string(), "200".to_string());
    for (id, name) in [(&a, "a"), (&b, "b")] {
        s.create_target(&i, id, &target(name, false), &key(name, 1), Timestamp(1))
            .await
            .unwrap();
    }
    let added = Condition::Event(EventSelector::Event("user.human.added".into()));
    let all = Condition::Event(EventSelector::All);
    let bind = |ids: &[&str]| -> Vec<ExecutionEntry> {
        ids.iter()
            .map(|t| ExecutionEntry::Target(t.to_string()))
            .collect()
    };
    s.set_execution(&i, &added, &bind(&[&a, &b]), Timestamp(2))
        .await
        .unwrap()
        .unwrap();
    s.set_execution(&i, &all, &bind(&[&b]), Timestamp(2))
        .await
        .unwrap()
        .unwrap();
    let to = |id: &str, t: &str| inv(id, RouteKind::Target, t, InitialState::Pending);
    let mut added_event = event(&i, "e1", 100, vec![to("a1", &a), to("b1", &b)]);
    added_event.event_type = "user.human.added".into();
    let mut other_event = event(&i, "e2", 100, vec![to("b2", &b)]);
    other_event.event_type = "user.human.changed".into();
    s.publish(&[added_event, other_event]).await.unwrap();

    // `b` leaves the execution of user.human.added; it stays bound to every other event.
    s.set_execution(&i, &added, &bind(&[&a]), Timestamp(110))
        .await
        .unwrap()
        .unwrap();
    let b1 = view(&s, &i, "b1").await;
    assert_eq!(b1.status, InvocationStatus::Cancelled);
    assert!(b1.last_error.unwrap().contains("'user.human.added'"));
    assert_eq!(view(&s, &i, "a1").await.status, InvocationStatus::Pending);
    assert_eq!(view(&s, &i, "b2").await.status, InvocationStatus::Pending);

    assert!(s.delete_target(&i, &a, Timestamp(120)).await.unwrap());
    let a1 = view(&s, &i, "a1").await;
    assert_eq!(a1.status, InvocationStatus::Cancelled);
    assert_eq!(a1.last_error.as_deref(), Some("the target was deleted"));
    assert_eq!(view(&s, &i, "b2").await.status, InvocationStatus::Pending);
}

pub async fn chains_step_over_a_cancelled_member(s: Arc<dyn Store>) {
    let i = inst("c4");
    let link = |id: &str, state, next: Option<&str>| NewInvocation {
        chain_next: next.map(str::to_string),
        ..inv(id, RouteKind::Target, &format!("t-{id}"), state)
    };
    // a → b → c → d; b is cancelled while it waits, c once it is due.
    s.publish(&[event(
        &i,
        "e1",
        100,
        vec![
            link("a", InitialState::Pending, Some("b")),
            link("b", InitialState::Waiting, Some("c")),
            link("c", InitialState::Waiting, Some("d")),
            link("d", InitialState::Waiting, None),
        ],
    )])
    .await
    .unwrap();
    let first = s
        .claim_due(Timestamp(100), Timestamp(500), 10)
        .await
        .unwrap();
    assert_eq!(claimed_ids(&first), ["a"]);
    s.cancel(&i, "b", "unbound", Timestamp(110)).await.unwrap();
    assert_eq!(view(&s, &i, "c").await.status, InvocationStatus::Waiting);
    let released = s
        .record_outcomes(&[outcome(&first[0], NextStep::Delivered, 120, Some(200))])
        .await
        .unwrap();
    assert_eq!(released, 1);
    assert_eq!(view(&s, &i, "b").await.status, InvocationStatus::Cancelled);
    assert_eq!(view(&s, &i, "c").await.status, InvocationStatus::Pending);
    // c is due: cancelling it lets d go at once.
    s.cancel(&i, "c", "unbound", Timestamp(130)).await.unwrap();
    assert_eq!(view(&s, &i, "d").await.status, InvocationStatus::Pending);
}
