//! Finished ZITADEL call chains: a batch of calls is one transaction with multi-row upserts.
//! A batch naming the same key twice keeps the last (PostgreSQL refuses to upsert one row twice
//! in a statement, so duplicates are dropped before the statement is built).

use super::backend::{Backend, SqlStore};
use super::{finish, sql_row, Stmt, Tuple};
use crate::calls::*;
use crate::StoreResult;
use async_trait::async_trait;
use std::collections::HashSet;
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct CallRow {
        condition: String,
        created_at: Timestamp,
        duration_ms: i64,
        status: i64,
        error: Option<String>,
    }
}

sql_row! {
    struct CallAttemptRow {
        n: i64,
        target_id: String,
        at: Timestamp,
        outcome: CallAttemptOutcome,
        status: Option<i64>,
        duration_ms: i64,
        error: Option<String>,
        response_excerpt: Option<String>,
    }
}

const INSERT_ATTEMPTS: &str = "INSERT INTO call_attempts
    (instance_id, call_id, n, target_id, at, outcome, status, duration_ms, error, response_excerpt)";

const REPLACE_ATTEMPT: &str = " ON CONFLICT (instance_id, call_id, n) DO UPDATE SET
    target_id = excluded.target_id, at = excluded.at, outcome = excluded.outcome,
    status = excluded.status, duration_ms = excluded.duration_ms, error = excluded.error,
    response_excerpt = excluded.response_excerpt";

/// `(instance, call id, attempt)`.
type AttemptOf<'a> = (&'a str, &'a str, &'a CallAttempt);

fn attempt_values<'a>(t: &mut Tuple<'a, '_>, (instance, call_id, a): &'a AttemptOf<'a>) {
    t.bind(*instance)
        .bind(*call_id)
        .bind(a.n)
        .bind(a.target_id.as_str())
        .bind(a.at)
        .bind(a.outcome)
        .bind(a.status)
        .bind(a.duration_ms)
        .bind(a.error.as_deref())
        .bind(a.response_excerpt.as_deref());
}

/// The last of each key, in the original order.
fn last_of_each<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut seen = HashSet::new();
    let mut latest: Vec<&T> = items.iter().rev().filter(|x| seen.insert(key(x))).collect();
    latest.reverse();
    latest
}

#[async_trait]
impl<B: Backend> CallStore for SqlStore<B> {
    async fn record_calls(&self, calls: &[CallRecord]) -> StoreResult<()> {
        if calls.is_empty() {
            return Ok(());
        }
        let latest = last_of_each(calls, |c| (c.instance.as_str(), c.id.as_str()));
        let attempts: Vec<AttemptOf<'_>> = calls
            .iter()
            .flat_map(|c| {
                c.attempts
                    .iter()
                    .map(move |a| (c.instance.as_str(), c.id.as_str(), a))
            })
            .collect();
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            for chunk in latest.chunks(B::ROWS_PER_STATEMENT) {
                Stmt::new(
                    "INSERT INTO calls (instance_id, id, condition, created_at, duration_ms, status, error)",
                )
                .values(chunk, |t, c| {
                    t.bind(&c.instance)
                        .bind(c.id.as_str())
                        .bind(c.condition.as_str())
                        .bind(c.created_at)
                        .bind(c.duration_ms)
                        .bind(i64::from(c.status))
                        .bind(c.error.as_deref());
                })
                .push(
                    " ON CONFLICT (instance_id, id) DO UPDATE SET condition = excluded.condition,
                      created_at = excluded.created_at, duration_ms = excluded.duration_ms,
                      status = excluded.status, error = excluded.error",
                )
                .execute(&mut tx)
                .await?;
            }
            for chunk in attempts.chunks(B::ROWS_PER_STATEMENT) {
                // A late result recorded first (restAsync) wins over the chain's "dispatched" row.
                Stmt::new(INSERT_ATTEMPTS)
                    .values(chunk, attempt_values)
                    .push(" ON CONFLICT (instance_id, call_id, n) DO NOTHING")
                    .execute(&mut tx)
                    .await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn record_call_attempts(
        &self,
        instance: &InstanceId,
        call_id: &str,
        attempts: &[CallAttempt],
    ) -> StoreResult<()> {
        if attempts.is_empty() {
            return Ok(());
        }
        let rows: Vec<AttemptOf<'_>> = last_of_each(attempts, |a| a.n)
            .into_iter()
            .map(|a| (instance.as_str(), call_id, a))
            .collect();
        let mut tx = self.begin().await?;
        let result: StoreResult<()> = async {
            for chunk in rows.chunks(B::ROWS_PER_STATEMENT) {
                Stmt::new(INSERT_ATTEMPTS)
                    .values(chunk, attempt_values)
                    .push(REPLACE_ATTEMPT)
                    .execute(&mut tx)
                    .await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn call_record(&self, instance: &InstanceId, id: &str) -> StoreResult<CallRecord> {
        let mut conn = self.read().await?;
        let call: CallRow = Stmt::new(
            "SELECT condition, created_at, duration_ms, status, error FROM calls
             WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance)
        .bind(id)
        .fetch_one(&mut conn)
        .await?;
        let attempts: Vec<CallAttemptRow> = Stmt::new(
            "SELECT n, target_id, at, outcome, status, duration_ms, error, response_excerpt
             FROM call_attempts WHERE instance_id = $1 AND call_id = $2 ORDER BY n",
        )
        .bind(instance)
        .bind(id)
        .fetch_all(&mut conn)
        .await?;
        Ok(CallRecord {
            instance: instance.clone(),
            id: id.to_string(),
            condition: call.condition,
            created_at: call.created_at,
            duration_ms: call.duration_ms as u64,
            status: call.status as u16,
            error: call.error,
            attempts: attempts
                .into_iter()
                .map(|a| CallAttempt {
                    n: a.n as u32,
                    target_id: a.target_id,
                    at: a.at,
                    outcome: a.outcome,
                    status: a.status.map(|s| s as u16),
                    duration_ms: a.duration_ms as u64,
                    error: a.error,
                    response_excerpt: a.response_excerpt,
                })
                .collect(),
        })
    }
}
