//! SQLite implementation of [`CallStore`]: a batch of finished calls is one transaction on the
//! single writer connection, with multi-row inserts.

use super::SqliteStore;
use crate::calls::*;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::{InstanceId, Timestamp};

/// Rows per multi-row insert (10 binds each; SQLite allows 32766).
const ROWS_PER_INSERT: usize = 500;

fn push_attempts<'a>(
    q: &mut QueryBuilder<'a, Sqlite>,
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

const INSERT_ATTEMPTS: &str = "INSERT OR REPLACE INTO call_attempts (instance_id, call_id, n, target_id, at, outcome, status, duration_ms, error, response_excerpt) ";

const INSERT_ATTEMPTS_KEEP: &str = "INSERT OR IGNORE INTO call_attempts (instance_id, call_id, n, target_id, at, outcome, status, duration_ms, error, response_excerpt) ";

#[async_trait]
impl CallStore for SqliteStore {
    async fn record_calls(&self, calls: &[CallRecord]) -> StoreResult<()> {
        if calls.is_empty() {
            return Ok(());
        }
        let mut tx = self.write.begin().await?;
        for chunk in calls.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR REPLACE INTO calls (instance_id, id, condition, created_at, duration_ms, status, error) ",
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
            let mut q = QueryBuilder::<Sqlite>::new(INSERT_ATTEMPTS_KEEP);
            push_attempts(&mut q, chunk.iter().copied());
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
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
        let mut tx = self.write.begin().await?;
        for chunk in attempts.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(INSERT_ATTEMPTS);
            push_attempts(
                &mut q,
                chunk.iter().map(|a| (instance.as_str(), call_id, a)),
            );
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn call_record(&self, instance: &InstanceId, id: &str) -> StoreResult<CallRecord> {
        let row = sqlx::query(
            "SELECT condition, created_at, duration_ms, status, error FROM calls
             WHERE instance_id = ? AND id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let attempts = sqlx::query(
            "SELECT n, target_id, at, outcome, status, duration_ms, error, response_excerpt
             FROM call_attempts WHERE instance_id = ? AND call_id = ? ORDER BY n",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_all(&self.read)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(n: u32, outcome: CallAttemptOutcome) -> CallAttempt {
        CallAttempt {
            n,
            target_id: format!("t{n}"),
            at: Timestamp(1000 + n as i64),
            outcome,
            status: Some(200),
            duration_ms: 3,
            error: None,
            response_excerpt: Some("{}".into()),
        }
    }

    #[tokio::test]
    async fn calls_round_trip_per_instance() {
        let dir = std::env::temp_dir().join(format!("sy-calls-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        let a = InstanceId::parse("a").unwrap();
        let b = InstanceId::parse("b").unwrap();
        let rec = CallRecord {
            instance: a.clone(),
            id: "c1".into(),
            condition: "request.all".into(),
            created_at: Timestamp(1000),
            duration_ms: 7,
            status: 200,
            error: None,
            attempts: vec![
                attempt(1, CallAttemptOutcome::Succeeded),
                attempt(2, CallAttemptOutcome::Skipped),
            ],
        };
        store
            .record_calls(std::slice::from_ref(&rec))
            .await
            .unwrap();
        store
            .record_call_attempts(&a, "c1", &[attempt(3, CallAttemptOutcome::Dispatched)])
            .await
            .unwrap();
        let got = store.call_record(&a, "c1").await.unwrap();
        assert_eq!(got.attempts.len(), 3);
        assert_eq!(got.attempts[2].outcome, CallAttemptOutcome::Dispatched);
        assert_eq!(got.status, 200);
        assert!(matches!(
            store.call_record(&b, "c1").await,
            Err(StoreError::NotFound)
        ));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
