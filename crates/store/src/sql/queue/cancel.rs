//! Ending live invocations before they are delivered: when their route is disabled, deleted or no
//! longer bound to their event, and when an operator cancels one. A queued or retrying invocation
//! ends `cancelled` at once, with the reason as an entry in its attempt log; one in flight keeps
//! its attempt (a delivery that succeeds stays delivered) and is only marked, so that instead of
//! a retry it ends cancelled (see `outcomes`). A cancelled member of a ZITADEL chain does not hold
//! the chain up: its successor goes on when its predecessor ends.

use super::outcomes::release_waiting;
use crate::queue::{AttemptOutcome, CancelResult, InvocationStatus, RouteKind};
use crate::sql::backend::Backend;
use crate::sql::{sql_row, Conn, Dialect, Stmt};
use crate::{StoreError, StoreResult};
use switchyard_core::{InstanceId, Timestamp};

/// The live invocations of one route that a change ends.
pub(crate) struct RouteScope<'a> {
    pub instance: &'a InstanceId,
    pub kind: RouteKind,
    pub route_id: &'a str,
    /// Only real-time deliveries: a disabled SailPoint subscription still takes test
    /// invocations, so disabling it leaves those alone.
    pub real_time_only: bool,
    /// Only the invocations of this event type (an execution no longer binds the target to it).
    pub trigger_id: Option<&'a str>,
}

impl<'a> RouteScope<'a> {
    /// Every live invocation of a subscription.
    pub fn subscription(instance: &'a InstanceId, id: &'a str) -> Self {
        Self {
            instance,
            kind: RouteKind::Subscription,
            route_id: id,
            real_time_only: false,
            trigger_id: None,
        }
    }

    /// Every live invocation of a ZITADEL target.
    pub fn target(instance: &'a InstanceId, id: &'a str) -> Self {
        Self {
            kind: RouteKind::Target,
            ..Self::subscription(instance, id)
        }
    }
}

sql_row! {
    struct LiveRow {
        id: String,
        status: InvocationStatus,
        attempts: i64,
        chain_next: Option<String>,
        order_next: Option<String>,
    }
}

const LIVE_COLUMNS: &str = "id, status, attempts, chain_next, order_next";

/// Ends the live invocations in `scope`; returns how many it ended or marked.
pub(crate) async fn cancel_route<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    scope: &RouteScope<'_>,
    reason: &str,
    now: Timestamp,
) -> StoreResult<usize> {
    let mut sql = format!(
        "SELECT {LIVE_COLUMNS} FROM invocations
          WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3
            AND status IN ('waiting', 'pending', 'in_flight')"
    );
    if scope.real_time_only {
        sql.push_str(" AND kind = 'real_time'");
    }
    if scope.trigger_id.is_some() {
        sql.push_str(" AND trigger_id = $4");
    }
    sql.push_str(B::FOR_UPDATE);
    let mut stmt = Stmt::new(sql)
        .bind(scope.instance)
        .bind(scope.kind)
        .bind(scope.route_id);
    if let Some(trigger) = scope.trigger_id {
        stmt = stmt.bind(trigger);
    }
    let rows: Vec<LiveRow> = stmt.fetch_all(conn).await?;
    if scope.trigger_id.is_none() {
        // The whole route is switched off or gone: its run of failures ends here.
        crate::sql::health::forget(conn, scope.instance, scope.kind, scope.route_id).await?;
    }
    let n = rows.len();
    end::<B>(conn, rows, reason, now).await?;
    Ok(n)
}

/// Cancels one invocation of `instance` (an operator's request).
pub(super) async fn cancel_one<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    instance: &InstanceId,
    id: &str,
    reason: &str,
    now: Timestamp,
) -> StoreResult<CancelResult> {
    let row: Option<LiveRow> = Stmt::new(format!(
        "SELECT {LIVE_COLUMNS} FROM invocations WHERE instance_id = $1 AND id = $2{}",
        B::FOR_UPDATE
    ))
    .bind(instance)
    .bind(id)
    .fetch_optional(conn)
    .await?;
    let row = row.ok_or(StoreError::NotFound)?;
    let result = match row.status {
        InvocationStatus::Waiting | InvocationStatus::Pending => CancelResult::Cancelled,
        InvocationStatus::InFlight => CancelResult::AfterAttempt,
        other => return Ok(CancelResult::AlreadyEnded(other)),
    };
    end::<B>(conn, vec![row], reason, now).await?;
    Ok(result)
}

/// Ends `rows`, live invocations read (and locked) in this transaction.
async fn end<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    rows: Vec<LiveRow>,
    reason: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let (flying, queued): (Vec<LiveRow>, Vec<LiveRow>) = rows
        .into_iter()
        .partition(|r| r.status == InvocationStatus::InFlight);
    if !flying.is_empty() {
        let ids: Vec<String> = flying.into_iter().map(|r| r.id).collect();
        Stmt::new(format!(
            "UPDATE invocations SET cancel_reason = $1, updated_at = $2
              WHERE status = 'in_flight' AND id {}",
            B::Db::in_list(3)
        ))
        .bind(reason)
        .bind(now)
        .bind_list(&ids)
        .execute(conn)
        .await?;
    }
    if queued.is_empty() {
        return Ok(());
    }
    let entry = format!("cancelled: {reason}");
    for chunk in queued.chunks(B::ROWS_PER_STATEMENT) {
        Stmt::new(
            "INSERT INTO attempts
               (invocation_id, n, at, transport, destination, outcome, request_headers, status,
                duration_ms, response_excerpt, error)",
        )
        .values(chunk, |t, r| {
            t.bind(&r.id)
                .bind(r.attempts + 1)
                .bind(now)
                .bind(None::<&str>)
                .bind(None::<&str>)
                .bind(AttemptOutcome::Cancelled)
                .bind("{}")
                .bind(None::<i64>)
                .bind(0i64)
                .bind(None::<&str>)
                .bind(entry.as_str());
        })
        .execute(conn)
        .await?;
    }
    let ids: Vec<String> = queued.iter().map(|r| r.id.clone()).collect();
    Stmt::new(format!(
        "UPDATE invocations SET status = 'cancelled', attempts = attempts + 1, lease_until = NULL,
                completed_at = $1, updated_at = $1, last_error = $2
          WHERE status IN ('waiting', 'pending') AND id {}",
        B::Db::in_list(3)
    ))
    .bind(now)
    .bind(reason)
    .bind_list(&ids)
    .execute(conn)
    .await?;
    // A cancelled invocation that was due had its predecessors behind it: its successors (chain
    // and key) are next. One that was still waiting is stepped over when its predecessor ends.
    let next: Vec<String> = queued
        .into_iter()
        .filter(|r| r.status == InvocationStatus::Pending)
        .flat_map(|r| r.chain_next.into_iter().chain(r.order_next))
        .collect();
    release_waiting::<B>(conn, &next, now).await?;
    Ok(())
}
