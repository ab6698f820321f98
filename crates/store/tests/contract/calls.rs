//! Contract tests for call-chain records (`CallStore`): a round trip with every attempt field,
//! isolation between instances, late restAsync attempts (recorded before or after their call)
//! surviving a rewrite of the call, and batches naming one call twice.

use crate::catalog::inst;
use std::sync::Arc;
use switchyard_core::Timestamp;
use switchyard_store::calls::*;
use switchyard_store::{Store, StoreError};

crate::contract!(call_records_round_trip, late_attempts_and_rewrites);

fn attempt(n: u32, outcome: CallAttemptOutcome) -> CallAttempt {
    CallAttempt {
        n,
        target_id: format!("t{n}"),
        at: Timestamp(1000 + i64::from(n)),
        outcome,
        status: (outcome == CallAttemptOutcome::Succeeded).then_some(200),
        duration_ms: 3 + u64::from(n),
        error: (outcome == CallAttemptOutcome::Failed).then(|| "HTTP 500".to_string()),
        response_excerpt: Some(format!("{{\"n\":{n}}}")),
    }
}

fn record(instance: &str, id: &str, status: u16, attempts: Vec<CallAttempt>) -> CallRecord {
    CallRecord {
        instance: inst(instance),
        id: id.into(),
        condition: "request./zitadel.user.v2.UserService/AddHumanUser".into(),
        created_at: Timestamp(1000),
        duration_ms: 12,
        status,
        error: (status >= 400).then(|| "target failed".to_string()),
        attempts,
    }
}

pub async fn call_records_round_trip(s: Arc<dyn Store>) {
    let rec = record(
        "c1",
        "call-1",
        502,
        vec![
            attempt(1, CallAttemptOutcome::Succeeded),
            attempt(2, CallAttemptOutcome::Failed),
            attempt(3, CallAttemptOutcome::Skipped),
            attempt(4, CallAttemptOutcome::Dispatched),
        ],
    );
    let other = record("c2", "call-1", 200, vec![]);
    s.record_calls(&[rec.clone(), other.clone()]).await.unwrap();
    s.record_calls(&[]).await.unwrap();
    assert_eq!(s.call_record(&inst("c1"), "call-1").await.unwrap(), rec);
    assert_eq!(s.call_record(&inst("c2"), "call-1").await.unwrap(), other);
    assert!(matches!(
        s.call_record(&inst("c3"), "call-1").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.call_record(&inst("c1"), "call-2").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn late_attempts_and_rewrites(s: Arc<dyn Store>) {
    let i = inst("c1");
    // A restAsync result that arrives before its chain's record is written.
    let mut late = attempt(2, CallAttemptOutcome::Succeeded);
    late.duration_ms = 99;
    s.record_call_attempts(&i, "call-1", std::slice::from_ref(&late))
        .await
        .unwrap();
    assert!(matches!(
        s.call_record(&i, "call-1").await,
        Err(StoreError::NotFound)
    ));
    // The chain's own "dispatched" row does not overwrite the late result.
    let rec = record(
        "c1",
        "call-1",
        200,
        vec![
            attempt(1, CallAttemptOutcome::Succeeded),
            attempt(2, CallAttemptOutcome::Dispatched),
        ],
    );
    s.record_calls(std::slice::from_ref(&rec)).await.unwrap();
    let got = s.call_record(&i, "call-1").await.unwrap();
    assert_eq!(got.attempts[0], rec.attempts[0]);
    assert_eq!(got.attempts[1], late);
    // A result after the record replaces the attempt with the same number; others are added.
    let mut failed = attempt(2, CallAttemptOutcome::Failed);
    failed.duration_ms = 120;
    s.record_call_attempts(
        &i,
        "call-1",
        &[failed.clone(), attempt(3, CallAttemptOutcome::Succeeded)],
    )
    .await
    .unwrap();
    s.record_call_attempts(&i, "call-1", &[]).await.unwrap();
    let got = s.call_record(&i, "call-1").await.unwrap();
    assert_eq!(
        got.attempts.iter().map(|a| a.n).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(got.attempts[1], failed);
    // The writer retrying a batch (the same call twice): the call row is the last one written,
    // attempts already recorded are kept.
    let mut retried = rec.clone();
    retried.status = 504;
    retried.duration_ms = 30;
    retried.attempts = vec![attempt(1, CallAttemptOutcome::Failed)];
    s.record_calls(&[rec.clone(), retried.clone()])
        .await
        .unwrap();
    let got = s.call_record(&i, "call-1").await.unwrap();
    assert_eq!((got.status, got.duration_ms), (504, 30));
    assert_eq!(
        got.attempts[0], rec.attempts[0],
        "the first attempt row stays"
    );
    assert_eq!(got.attempts.len(), 3);
}
