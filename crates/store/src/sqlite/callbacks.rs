//! SQLite side of request-response invocations: the callback lookup, the completion
//! compare-and-set, the deadline sweep and the outcome read used by `wait`. Every state change is
//! one `UPDATE ... WHERE status IN (open states) RETURNING`, so a callback, a delivery outcome and
//! the deadline sweep can race without ever ending an invocation twice.

use crate::queue::{CallbackTarget, CompleteResult, InvocationOutcome, TIMED_OUT};
use crate::{StoreError, StoreResult};
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};
use switchyard_core::{InstanceId, Timestamp};

/// States in which a request-response invocation can still complete.
const OPEN: &str = "('pending', 'in_flight', 'awaiting_callback')";

pub(crate) async fn callback_target(read: &SqlitePool, id: &str) -> StoreResult<CallbackTarget> {
    let row = sqlx::query(
        "SELECT instance_id, trigger_id, status, secret_hash, deadline_at, last_error FROM invocations WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(read)
    .await?
    .ok_or(StoreError::NotFound)?;
    let instance = InstanceId::parse(row.get::<&str, _>(0))
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("stored instance id: {e}")))?;
    Ok(CallbackTarget {
        instance,
        trigger_id: row.get(1),
        status: row.get(2),
        secret_hash: row.get(3),
        deadline_at: row.get::<Option<i64>, _>(4).map(Timestamp),
        last_error: row.get(5),
    })
}

pub(crate) async fn complete(
    write: &SqlitePool,
    id: &str,
    output: Option<&str>,
    error: Option<&str>,
    now: Timestamp,
) -> StoreResult<CompleteResult> {
    let status = if error.is_some() {
        "failed"
    } else {
        "completed"
    };
    // A callback may overtake the delivery's own result (status still in flight): it wins, and
    // the later outcome finds the row no longer in flight and leaves it alone.
    let sql = format!(
        "UPDATE invocations SET status = ?, output = ?, last_error = ?, completed_at = ?, updated_at = ?,
                lease_until = NULL
         WHERE id = ? AND deadline_at IS NOT NULL AND deadline_at > ? AND status IN {OPEN}
         RETURNING id"
    );
    let done: Option<String> = sqlx::query_scalar(&sql)
        .bind(status)
        .bind(output)
        .bind(error)
        .bind(now.millis())
        .bind(now.millis())
        .bind(id)
        .bind(now.millis())
        .fetch_optional(write)
        .await?;
    Ok(if done.is_some() {
        CompleteResult::Done
    } else {
        CompleteResult::AlreadyEnded
    })
}

pub(crate) async fn expire_due(
    write: &SqlitePool,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<String>> {
    let sql = format!(
        "UPDATE invocations SET status = 'failed', last_error = ?, completed_at = ?, updated_at = ?,
                lease_until = NULL
         WHERE id IN (SELECT id FROM invocations
                      WHERE deadline_at IS NOT NULL AND deadline_at <= ? AND status IN {OPEN}
                      LIMIT ?)
         RETURNING id"
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(TIMED_OUT)
        .bind(now.millis())
        .bind(now.millis())
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(write)
        .await?)
}

pub(crate) async fn next_deadline(read: &SqlitePool) -> StoreResult<Option<Timestamp>> {
    let sql = format!(
        "SELECT MIN(deadline_at) FROM invocations WHERE deadline_at IS NOT NULL AND status IN {OPEN}"
    );
    let t: Option<i64> = sqlx::query_scalar(&sql).fetch_one(read).await?;
    Ok(t.map(Timestamp))
}

pub(crate) async fn invocation_outcomes(
    read: &SqlitePool,
    instance: &InstanceId,
    ids: &[String],
) -> StoreResult<Vec<InvocationOutcome>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "SELECT id, route_id, status, output, last_error FROM invocations WHERE instance_id = ",
    );
    q.push_bind(instance.as_str()).push(" AND id IN (");
    let mut sep = q.separated(", ");
    for id in ids {
        sep.push_bind(id);
    }
    q.push(")");
    let mut out: Vec<InvocationOutcome> = q
        .build()
        .fetch_all(read)
        .await?
        .into_iter()
        .map(|r| InvocationOutcome {
            id: r.get(0),
            route_id: r.get(1),
            status: r.get(2),
            output: r.get(3),
            error: r.get(4),
        })
        .collect();
    out.sort_by_key(|o| ids.iter().position(|i| i == &o.id));
    Ok(out)
}
