//! PostgreSQL implementation of [`CallStore`], the twin of `sqlite/calls.rs`: a batch of finished
//! calls is one transaction with multi-row inserts. SQLite's `INSERT OR REPLACE` / `OR IGNORE`
//! become `ON CONFLICT DO UPDATE` / `DO NOTHING`; since Postgres refuses to upsert one row twice
//! in a statement, a batch naming the same key twice keeps the last (as REPLACE would).

use super::PgStore;
use crate::calls::*;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder, Row};
use std::collections::HashSet;
use switchyard_core::{InstanceId, Timestamp};

/// Rows per multi-row insert (10 binds each; Postgres allows 65535).
const ROWS_PER_INSERT: usize = 1000;

const INSERT_ATTEMPTS: &str = "INSERT INTO call_attempts (instance_id, call_id, n, target_id, at, outcome, status, duration_ms, error, response_excerpt) ";

const REPLACE_ATTEMPT: &str = " ON CONFLICT (instance_id, call_id, n) DO UPDATE SET
    target_id = excluded.target_id, at = excluded.at, outcome = excluded.outcome,
    status = excluded.status, duration_ms = excluded.duration_ms, error = excluded.error,
    response_excerpt = excluded.response_excerpt";

fn push_attempts<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    rows: impl IntoIterator<Item = (&'a str, &'a str, &'a CallAttempt)>,
) {
    q.push_values(rows, |mut b, (instance, call_id, a)| {
        b.push_bind(instance)
            .push_bind(call_id)
            .push_bind(i64::from(a.n))
            .push_bind(a.target_id.as_str())
            .push_bind(a.at.millis())
            .push_bind(a.outcome.as_str())
            .push_bind(a.status.map(i64::from))
            .push_bind(a.duration_ms as i64)
            .push_bind(a.error.as_deref())
            .push_bind(a.response_excerpt.as_deref());
    });
}

#[async_trait]
impl CallStore for PgStore {
    async fn record_calls(&self, calls: &[CallRecord]) -> StoreResult<()> {
        if calls.is_empty() {
            return Ok(());
        }
        // The last record of a call id in the batch wins, as with SQLite's INSERT OR REPLACE.
        let mut seen = HashSet::new();
        let mut latest: Vec<&CallRecord> = calls
            .iter()
            .rev()
            .filter(|c| seen.insert((c.instance.as_str(), c.id.as_str())))
            .collect();
        latest.reverse();
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<()> = async {
            for chunk in latest.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Postgres>::new(
                    "INSERT INTO calls (instance_id, id, condition, created_at, duration_ms, status, error) ",
                );
                q.push_values(chunk, |mut b, c| {
                    b.push_bind(c.instance.as_str())
                        .push_bind(c.id.as_str())
                        .push_bind(c.condition.as_str())
                        .push_bind(c.created_at.millis())
                        .push_bind(c.duration_ms as i64)
                        .push_bind(i64::from(c.status))
                        .push_bind(c.error.as_deref());
                });
                q.push(
                    " ON CONFLICT (instance_id, id) DO UPDATE SET condition = excluded.condition,
                      created_at = excluded.created_at, duration_ms = excluded.duration_ms,
                      status = excluded.status, error = excluded.error",
                );
                q.build().execute(&mut *tx).await?;
            }
            let rows: Vec<(&str, &str, &CallAttempt)> = calls
                .iter()
                .flat_map(|c| {
                    c.attempts
                        .iter()
                        .map(move |a| (c.instance.as_str(), c.id.as_str(), a))
                })
                .collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                // A late result recorded first (restAsync) wins over the chain's "dispatched" row.
                let mut q = QueryBuilder::<Postgres>::new(INSERT_ATTEMPTS);
                push_attempts(&mut q, chunk.iter().copied());
                q.push(" ON CONFLICT (instance_id, call_id, n) DO NOTHING");
                q.build().execute(&mut *tx).await?;
            }
            Ok(())
        }
        .await;
        super::finish(tx, result).await
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
        let mut seen = HashSet::new();
        let mut latest: Vec<&CallAttempt> =
            attempts.iter().rev().filter(|a| seen.insert(a.n)).collect();
        latest.reverse();
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<()> = async {
            for chunk in latest.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Postgres>::new(INSERT_ATTEMPTS);
                push_attempts(
                    &mut q,
                    chunk.iter().map(|a| (instance.as_str(), call_id, *a)),
                );
                q.push(REPLACE_ATTEMPT);
                q.build().execute(&mut *tx).await?;
            }
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }

    async fn call_record(&self, instance: &InstanceId, id: &str) -> StoreResult<CallRecord> {
        let row = sqlx::query(
            "SELECT condition, created_at, duration_ms, status, error FROM calls
             WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let attempts = sqlx::query(
            "SELECT n, target_id, at, outcome, status, duration_ms, error, response_excerpt
             FROM call_attempts WHERE instance_id = $1 AND call_id = $2 ORDER BY n",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            let outcome: String = r.get("outcome");
            Ok(CallAttempt {
                n: r.get::<i64, _>("n") as u32,
                target_id: r.get("target_id"),
                at: Timestamp(r.get("at")),
                outcome: CallAttemptOutcome::parse(&outcome).ok_or_else(|| {
                    StoreError::Internal(anyhow::anyhow!("unknown call outcome '{outcome}'"))
                })?,
                status: r.get::<Option<i64>, _>("status").map(|s| s as u16),
                duration_ms: r.get::<i64, _>("duration_ms") as u64,
                error: r.get("error"),
                response_excerpt: r.get("response_excerpt"),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(CallRecord {
            instance: instance.clone(),
            id: id.to_string(),
            condition: row.get("condition"),
            created_at: Timestamp(row.get("created_at")),
            duration_ms: row.get::<i64, _>("duration_ms") as u64,
            status: row.get::<i64, _>("status") as u16,
            error: row.get("error"),
            attempts,
        })
    }
}
