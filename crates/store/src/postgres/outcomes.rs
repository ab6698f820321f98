//! How attempt outcomes change PostgreSQL invocation rows (the twin of the outcome half of
//! `sqlite/queue.rs`): successful deliveries in one statement per HTTP status, every other next
//! step row by row, chain release and interruptOnError cancellation, and 410 Gone switching a
//! route off. Split from `queue.rs` to keep both files readable.

use crate::queue::{NextStep, Outcome, RouteKind};
use crate::StoreResult;
use sqlx::PgConnection;

/// A 410 Gone switches the route off: a subscription through its own `enabled` flag (in the
/// column and in the stored document), a target through `disabled_routes`.
async fn disable_route(
    conn: &mut PgConnection,
    o: &Outcome,
    reason: &str,
    at: i64,
) -> StoreResult<()> {
    match o.route_kind {
        RouteKind::Subscription => {
            sqlx::query(
                "UPDATE sailpoint_subscriptions
                    SET enabled = FALSE, doc = jsonb_set(doc::jsonb, '{enabled}', 'false'::jsonb)::text,
                        updated_at = $1
                  WHERE instance_id = $2 AND id = $3",
            )
            .bind(at)
            .bind(o.instance.as_str())
            .bind(&o.route_id)
            .execute(&mut *conn)
            .await?;
        }
        RouteKind::Target => {
            sqlx::query(
                "INSERT INTO disabled_routes (instance_id, route_kind, route_id, disabled_at, reason)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(o.instance.as_str())
            .bind(o.route_kind.as_str())
            .bind(&o.route_id)
            .bind(at)
            .bind(reason)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Marks successfully delivered invocations (all answered `status`) with one statement and
/// releases the next targets of their chains with another; returns how many became pending.
pub(super) async fn mark_delivered(
    conn: &mut PgConnection,
    status: Option<u16>,
    group: &[&Outcome],
) -> StoreResult<usize> {
    let at = group
        .iter()
        .map(|o| o.at.millis())
        .max()
        .unwrap_or_default();
    let ids: Vec<&str> = group.iter().map(|o| o.invocation_id.as_str()).collect();
    let next: Vec<Option<String>> = sqlx::query_scalar(
        "UPDATE invocations SET status = 'delivered', attempts = attempts + 1, lease_until = NULL,
                updated_at = $1, completed_at = $1, last_error = NULL, last_status = $2
         WHERE status = 'in_flight' AND id = ANY($3)
         RETURNING chain_next",
    )
    .bind(at)
    .bind(status.map(i64::from))
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    let next: Vec<String> = next.into_iter().flatten().collect();
    release_waiting(conn, &next, at).await
}

/// Makes chained invocations that waited for their predecessors due now.
async fn release_waiting(conn: &mut PgConnection, ids: &[String], at: i64) -> StoreResult<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(sqlx::query(
        "UPDATE invocations SET status = 'pending', next_attempt_at = $1, updated_at = $1
         WHERE id = ANY($2) AND status = 'waiting'",
    )
    .bind(at)
    .bind(ids)
    .execute(&mut *conn)
    .await?
    .rows_affected() as usize)
}

/// Applies one outcome; returns how many invocations it made pending.
pub(super) async fn apply_next_step(conn: &mut PgConnection, o: &Outcome) -> StoreResult<usize> {
    let at = o.at.millis();
    let (status, next_at, error, output) = match &o.next {
        NextStep::Delivered => ("delivered", None, None, None),
        NextStep::RetryAt(t) => ("pending", Some(t.millis()), o.attempt.error.clone(), None),
        NextStep::Failed(e) | NextStep::FailedDisableRoute(e) => {
            ("failed", None, Some(e.clone()), None)
        }
        NextStep::Completed(out) => ("completed", None, None, Some(out.as_str())),
        NextStep::AwaitingCallback => ("awaiting_callback", None, None, None),
    };
    let terminal = o.next.is_terminal();
    // Only an invocation that is still in flight takes the outcome: a late result for work that
    // was re-claimed elsewhere must not overwrite a newer state.
    let row: Option<(Option<String>, bool)> = sqlx::query_as(
        "UPDATE invocations SET status = $1, attempts = attempts + 1,
                next_attempt_at = COALESCE($2, next_attempt_at), lease_until = NULL, updated_at = $3,
                completed_at = CASE WHEN $4 THEN $3 ELSE NULL END, last_error = $5, last_status = $6,
                output = COALESCE($7, output)
         WHERE id = $8 AND status = 'in_flight'
         RETURNING chain_next, interrupt_on_error",
    )
    .bind(status)
    .bind(next_at)
    .bind(at)
    .bind(terminal)
    .bind(error.as_deref())
    .bind(o.attempt.status.map(i64::from))
    .bind(output)
    .bind(&o.invocation_id)
    .fetch_optional(&mut *conn)
    .await?;
    let mut released = usize::from(matches!(o.next, NextStep::RetryAt(_)));
    if let NextStep::FailedDisableRoute(reason) = &o.next {
        disable_route(conn, o, reason, at).await?;
    }
    let Some((Some(next), interrupt)) = row else {
        return Ok(released);
    };
    if !terminal {
        return Ok(released);
    }
    if status == "failed" && interrupt {
        cancel_chain(conn, next, &o.route_id, at).await?;
    } else {
        released += release_waiting(conn, std::slice::from_ref(&next), at).await?;
    }
    Ok(released)
}

/// Fails every waiting invocation behind a target that failed with interruptOnError.
async fn cancel_chain(
    conn: &mut PgConnection,
    first: String,
    failed_route: &str,
    at: i64,
) -> StoreResult<()> {
    let mut next = Some(first);
    let message = format!("not called: target {failed_route} failed and has interruptOnError set");
    while let Some(id) = next {
        next = sqlx::query_scalar::<_, Option<String>>(
            "UPDATE invocations SET status = 'failed', completed_at = $1, updated_at = $1, last_error = $2
             WHERE id = $3 AND status = 'waiting' RETURNING chain_next",
        )
        .bind(at)
        .bind(&message)
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    }
    Ok(())
}
