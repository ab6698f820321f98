//! Request-response invocations: the callback lookup, the completion compare-and-set, the
//! deadline sweep and the outcome read used by `wait`. Every state change is one
//! `UPDATE ... WHERE status IN (open states) RETURNING`, so a callback, a delivery outcome and the
//! deadline sweep on any node can race without ever ending an invocation twice (the row lock
//! serialises them; the loser's re-checked `WHERE` fails).

use crate::queue::{
    CallbackTarget, CompleteResult, InvocationOutcome, InvocationStatus, TIMED_OUT,
};
use crate::sql::backend::Backend;
use crate::sql::{sql_row, Conn, Dialect, Stmt};
use crate::StoreResult;
use switchyard_core::{InstanceId, Timestamp};

/// States in which a request-response invocation can still complete.
const OPEN: &str = "('pending', 'in_flight', 'awaiting_callback')";

sql_row! {
    struct CallbackRow {
        instance_id: InstanceId,
        trigger_id: String,
        status: InvocationStatus,
        secret_hash: Option<String>,
        deadline_at: Option<Timestamp>,
        last_error: Option<String>,
    }
}

pub(super) async fn callback_target<C: Conn>(
    conn: &mut C,
    id: &str,
) -> StoreResult<CallbackTarget> {
    let r: CallbackRow = Stmt::new(
        "SELECT instance_id, trigger_id, status, secret_hash, deadline_at, last_error
         FROM invocations WHERE id = $1",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(CallbackTarget {
        instance: r.instance_id,
        trigger_id: r.trigger_id,
        status: r.status,
        secret_hash: r.secret_hash,
        deadline_at: r.deadline_at,
        last_error: r.last_error,
    })
}

pub(super) async fn complete<C: Conn>(
    conn: &mut C,
    id: &str,
    output: Option<&str>,
    error: Option<&str>,
    now: Timestamp,
) -> StoreResult<CompleteResult> {
    let status = if error.is_some() {
        InvocationStatus::Failed
    } else {
        InvocationStatus::Completed
    };
    // A callback may overtake the delivery's own result (status still in flight): it wins, and
    // the later outcome finds the row no longer in flight and leaves it alone.
    let done: Option<(String,)> = Stmt::new(format!(
        "UPDATE invocations SET status = $1, output = $2, last_error = $3, completed_at = $4,
                updated_at = $4, lease_until = NULL
         WHERE id = $5 AND deadline_at IS NOT NULL AND deadline_at > $4 AND status IN {OPEN}
         RETURNING id"
    ))
    .bind(status)
    .bind(output)
    .bind(error)
    .bind(now)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(if done.is_some() {
        CompleteResult::Done
    } else {
        CompleteResult::AlreadyEnded
    })
}

pub(super) async fn expire_due<B: Backend, C: Conn>(
    conn: &mut C,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Vec<String>> {
    // SKIP LOCKED: two nodes sweeping at once split the due rows instead of queueing on them; a
    // row locked by a completing callback is left to that callback (or the next sweep).
    let ids: Vec<(String,)> = Stmt::new(format!(
        "UPDATE invocations SET status = 'failed', last_error = $1, completed_at = $2,
                updated_at = $2, lease_until = NULL
         WHERE id IN (SELECT id FROM invocations
                      WHERE deadline_at IS NOT NULL AND deadline_at <= $2 AND status IN {OPEN}
                      ORDER BY deadline_at LIMIT $3{})
           AND status IN {OPEN}
         RETURNING id",
        B::SKIP_LOCKED
    ))
    .bind(TIMED_OUT)
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

pub(super) async fn next_deadline<C: Conn>(conn: &mut C) -> StoreResult<Option<Timestamp>> {
    let (t,): (Option<Timestamp>,) = Stmt::new(format!(
        "SELECT MIN(deadline_at) FROM invocations WHERE deadline_at IS NOT NULL AND status IN {OPEN}"
    ))
    .fetch_one(conn)
    .await?;
    Ok(t)
}

sql_row! {
    struct OutcomeRow {
        id: String,
        route_id: String,
        status: InvocationStatus,
        output: Option<String>,
        last_error: Option<String>,
    }
}

pub(super) async fn invocation_outcomes<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    ids: &[String],
) -> StoreResult<Vec<InvocationOutcome>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<OutcomeRow> = Stmt::new(format!(
        "SELECT id, route_id, status, output, last_error FROM invocations
         WHERE instance_id = $1 AND id {}",
        C::Db::in_list(2)
    ))
    .bind(instance)
    .bind_list(ids)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<InvocationOutcome> = rows
        .into_iter()
        .map(|r| InvocationOutcome {
            id: r.id,
            route_id: r.route_id,
            status: r.status,
            output: r.output,
            error: r.last_error,
        })
        .collect();
    out.sort_by_key(|o| ids.iter().position(|i| i == &o.id));
    Ok(out)
}
