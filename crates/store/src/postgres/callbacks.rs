//! PostgreSQL side of request-response invocations, the twin of `sqlite/callbacks.rs`: the
//! callback lookup, the completion compare-and-set, the deadline sweep and the outcome read used
//! by `wait`. Every state change is one `UPDATE ... WHERE status IN (open states) RETURNING`, so a
//! callback, a delivery outcome and the deadline sweep on any node can race without ever ending
//! an invocation twice (the row lock serialises them; the loser's re-checked `WHERE` fails).

use crate::queue::{CallbackTarget, CompleteResult, InvocationOutcome, TIMED_OUT};
use crate::{StoreError, StoreResult};
use sqlx::{PgPool, Row};
use switchyard_core::{InstanceId, Timestamp};

/// States in which a request-response invocation can still complete.
const OPEN: &str = "('pending', 'in_flight', 'awaiting_callback')";

pub(crate) async fn callback_target(pool: &PgPool, id: &str) -> StoreResult<CallbackTarget> {
    let row = sqlx::query(
        "SELECT instance_id, trigger_id, status, secret_hash, deadline_at, last_error
         FROM invocations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
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
    pool: &PgPool,
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
        "UPDATE invocations SET status = $1, output = $2, last_error = $3, completed_at = $4,
                updated_at = $4, lease_until = NULL
         WHERE id = $5 AND deadline_at IS NOT NULL AND deadline_at > $4 AND status IN {OPEN}
         RETURNING id"
    );
    let done: Option<String> = sqlx::query_scalar(&sql)
        .bind(status)
        .bind(output)
        .bind(error)
        .bind(now.millis())
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(if done.is_some() {
        CompleteResult::Done
    } else {
        CompleteResult::AlreadyEnded
    })
}

pub(crate) async fn expire_due(
    pool: &PgPool,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<String>> {
    // SKIP LOCKED: two nodes sweeping at once split the due rows instead of queueing on them; a
    // row locked by a completing callback is left to that callback (or the next sweep).
    let sql = format!(
        "UPDATE invocations SET status = 'failed', last_error = $1, completed_at = $2,
                updated_at = $2, lease_until = NULL
         WHERE id IN (SELECT id FROM invocations
                      WHERE deadline_at IS NOT NULL AND deadline_at <= $2 AND status IN {OPEN}
                      ORDER BY deadline_at LIMIT $3 FOR UPDATE SKIP LOCKED)
           AND status IN {OPEN}
         RETURNING id"
    );
    Ok(sqlx::query_scalar(&sql)
        .bind(TIMED_OUT)
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn next_deadline(pool: &PgPool) -> StoreResult<Option<Timestamp>> {
    let sql = format!(
        "SELECT MIN(deadline_at) FROM invocations WHERE deadline_at IS NOT NULL AND status IN {OPEN}"
    );
    let t: Option<i64> = sqlx::query_scalar(&sql).fetch_one(pool).await?;
    Ok(t.map(Timestamp))
}

pub(crate) async fn invocation_outcomes(
    pool: &PgPool,
    instance: &InstanceId,
    ids: &[String],
) -> StoreResult<Vec<InvocationOutcome>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<InvocationOutcome> = sqlx::query(
        "SELECT id, route_id, status, output, last_error FROM invocations
         WHERE instance_id = $1 AND id = ANY($2)",
    )
    .bind(instance.as_str())
    .bind(ids)
    .fetch_all(pool)
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
