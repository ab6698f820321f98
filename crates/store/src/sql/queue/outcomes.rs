//! How attempt outcomes change invocation rows: the attempt log, successful deliveries in one
//! statement per HTTP status, every other next step row by row, chain release and
//! interruptOnError cancellation, and 410 Gone switching a route off. Outcomes only apply to
//! invocations still `in_flight`: a late result for work that was re-claimed elsewhere must not
//! overwrite a newer state.

use super::cancel::{cancel_route, RouteScope};
use super::gates::{self, GateKey};
use crate::queue::{
    AttemptOutcome, DestinationKind, InvocationStatus, NextStep, Outcome, RouteKind,
};
use crate::sql::backend::{notify, Backend};
use crate::sql::{sql_row, Conn, Dialect, Stmt};
use crate::StoreResult;
use std::collections::{HashMap, HashSet};
use switchyard_core::InstanceId;

/// Records attempts and applies their next steps; returns how many invocations became pending.
pub(super) async fn record<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    outcomes: &[Outcome],
) -> StoreResult<usize> {
    // One row per (invocation, attempt number): a batch naming the same attempt twice keeps the
    // last (PostgreSQL refuses to upsert a row twice in one statement).
    let mut seen = HashSet::new();
    let mut attempts: Vec<&Outcome> = outcomes
        .iter()
        .rev()
        .filter(|o| seen.insert((o.invocation_id.as_str(), o.attempt.n)))
        .collect();
    attempts.reverse();
    for chunk in attempts.chunks(B::ROWS_PER_STATEMENT) {
        Stmt::new(
            "INSERT INTO attempts
               (invocation_id, n, at, transport, destination, outcome, request_headers, status,
                duration_ms, response_excerpt, error)",
        )
        .values(chunk, |t, o| {
            t.bind(&o.invocation_id)
                .bind(o.attempt.n)
                .bind(o.attempt.at)
                .bind(o.attempt.transport.map(DestinationKind::as_str))
                .bind(o.attempt.destination.as_deref())
                .bind(o.attempt.outcome.map(AttemptOutcome::as_str))
                .bind(o.attempt.request_headers.to_string())
                .bind(o.attempt.status)
                .bind(o.attempt.duration_ms)
                .bind(o.attempt.response_excerpt.as_deref())
                .bind(o.attempt.error.as_deref());
        })
        .push(
            " ON CONFLICT (invocation_id, n) DO UPDATE SET at = excluded.at,
              request_headers = excluded.request_headers, status = excluded.status,
              duration_ms = excluded.duration_ms, response_excerpt = excluded.response_excerpt,
              error = excluded.error",
        )
        .execute(tx)
        .await?;
    }
    // The common case, a delivery that succeeded, is applied with one statement per HTTP
    // status; everything else row by row.
    let mut delivered: HashMap<Option<u16>, Vec<&Outcome>> = HashMap::new();
    let mut released = 0;
    // Gated invocations whose attempt ended here free a slot of their route's gate.
    let mut gated: HashMap<GateKey, i64> = HashMap::new();
    for o in outcomes {
        if o.next == NextStep::Delivered {
            delivered.entry(o.attempt.status).or_default().push(o);
        } else {
            let (n, was_gated) = apply_next_step::<B>(tx, o).await?;
            released += n;
            if was_gated {
                *gated.entry(gate_key(o)).or_default() += 1;
            }
        }
    }
    for (status, group) in delivered {
        for chunk in group.chunks(B::ROWS_PER_STATEMENT) {
            released += mark_delivered::<B>(tx, status, chunk, &mut gated).await?;
        }
    }
    if !gated.is_empty() {
        released += gates::release(tx, gated).await?;
    }
    if released > 0 {
        notify::<B>(tx).await?;
    }
    Ok(released)
}

/// Marks successfully delivered invocations (all answered `status`) with one statement and
/// releases the next targets of their chains with another; returns how many became pending.
async fn mark_delivered<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    status: Option<u16>,
    group: &[&Outcome],
    gated: &mut HashMap<GateKey, i64>,
) -> StoreResult<usize> {
    let at = group.iter().map(|o| o.at).max().unwrap_or_default();
    let ids: Vec<String> = group.iter().map(|o| o.invocation_id.clone()).collect();
    let rows: Vec<DeliveredRow> = Stmt::new(format!(
        "UPDATE invocations SET status = 'delivered', attempts = attempts + 1, lease_until = NULL,
                updated_at = $1, completed_at = $1, last_error = NULL, last_status = $2
         WHERE status = 'in_flight' AND id {}
         RETURNING chain_next, order_next, gated, instance_id, route_kind, route_id",
        B::Db::in_list(3)
    ))
    .bind(at)
    .bind(status)
    .bind_list(&ids)
    .fetch_all(tx)
    .await?;
    let mut next: Vec<String> = Vec::new();
    for r in rows {
        if r.gated {
            *gated
                .entry((r.instance_id, r.route_kind, r.route_id))
                .or_default() += 1;
        }
        next.extend(r.chain_next);
        next.extend(r.order_next);
    }
    release_waiting::<B>(tx, &next, at).await
}

/// Releases invocations that waited for an invocation that just ended (its chain successor, its
/// key's successor): each holds one thing less, and one that holds nothing more becomes due now.
/// One that ended while it waited (cancelled, or failed by its chain's `interruptOnError`) keeps
/// its place until then, and then passes the release on to its own successors, so nothing behind
/// it overtakes what is ahead of it. Returns how many became pending.
pub(super) async fn release_waiting<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    ids: &[String],
    at: switchyard_core::Timestamp,
) -> StoreResult<usize> {
    let mut ids = ids.to_vec();
    let mut released = 0;
    while !ids.is_empty() {
        // SET expressions read the row as it was; RETURNING gives it as it is now.
        let rows: Vec<ReleasedRow> = Stmt::new(format!(
            "UPDATE invocations SET holds = holds - 1, updated_at = $1,
                    status = CASE WHEN status = 'waiting' AND holds <= 1
                                  THEN 'pending' ELSE status END,
                    next_attempt_at = CASE WHEN status = 'waiting' AND holds <= 1
                                           THEN $1 ELSE next_attempt_at END
             WHERE holds > 0 AND status IN ('waiting', 'cancelled', 'failed') AND id {}
             RETURNING status, holds, chain_next, order_next",
            B::Db::in_list(2)
        ))
        .bind(at)
        .bind_list(&ids)
        .fetch_all(tx)
        .await?;
        ids.clear();
        for r in rows {
            match r.status {
                InvocationStatus::Pending => released += 1,
                InvocationStatus::Cancelled | InvocationStatus::Failed if r.holds == 0 => {
                    ids.extend(r.chain_next);
                    ids.extend(r.order_next);
                }
                _ => {}
            }
        }
    }
    Ok(released)
}

sql_row! {
    struct ReleasedRow {
        status: InvocationStatus,
        holds: i64,
        chain_next: Option<String>,
        order_next: Option<String>,
    }
}

sql_row! {
    struct ChainRow {
        status: InvocationStatus,
        chain_next: Option<String>,
        order_next: Option<String>,
        interrupt_on_error: bool,
        gated: bool,
    }
}

sql_row! {
    struct DeliveredRow {
        chain_next: Option<String>,
        order_next: Option<String>,
        gated: bool,
        instance_id: InstanceId,
        route_kind: RouteKind,
        route_id: String,
    }
}

fn gate_key(o: &Outcome) -> GateKey {
    (o.instance.clone(), o.route_kind, o.route_id.clone())
}

/// Applies one outcome; returns how many invocations it made pending and whether the invocation
/// was gated (and in flight: its gate slot is now free). A retry of an invocation whose route
/// went away while it was in flight (`cancel_reason`) ends it cancelled instead.
async fn apply_next_step<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    o: &Outcome,
) -> StoreResult<(usize, bool)> {
    let (status, next_at, error, output) = match &o.next {
        NextStep::Delivered => (InvocationStatus::Delivered, None, None, None),
        NextStep::RetryAt(t) => (
            InvocationStatus::Pending,
            Some(*t),
            o.attempt.error.as_deref(),
            None,
        ),
        NextStep::Failed(e) | NextStep::FailedDisableRoute(e) => {
            (InvocationStatus::Failed, None, Some(e.as_str()), None)
        }
        NextStep::Cancelled(e) => (InvocationStatus::Cancelled, None, Some(e.as_str()), None),
        NextStep::Completed(out) => (InvocationStatus::Completed, None, None, Some(out.as_str())),
        NextStep::AwaitingCallback => (InvocationStatus::AwaitingCallback, None, None, None),
    };
    let row: Option<ChainRow> = Stmt::new(
        "UPDATE invocations SET
                status = CASE WHEN $1 = 'pending' AND cancel_reason IS NOT NULL
                              THEN 'cancelled' ELSE $1 END,
                attempts = attempts + 1,
                next_attempt_at = COALESCE($2, next_attempt_at), lease_until = NULL, updated_at = $3,
                completed_at = CASE WHEN $4 OR ($1 = 'pending' AND cancel_reason IS NOT NULL)
                                    THEN $3 ELSE NULL END,
                last_error = CASE WHEN $1 = 'pending' AND cancel_reason IS NOT NULL
                                  THEN cancel_reason ELSE $5 END,
                last_status = $6, output = COALESCE($7, output)
         WHERE id = $8 AND status = 'in_flight'
         RETURNING status, chain_next, order_next, interrupt_on_error, gated",
    )
    .bind(status)
    .bind(next_at)
    .bind(o.at)
    .bind(o.next.is_terminal())
    .bind(error)
    .bind(o.attempt.status)
    .bind(output)
    .bind(&o.invocation_id)
    .fetch_optional(tx)
    .await?;
    if let NextStep::FailedDisableRoute(reason) = &o.next {
        disable_route::<B>(tx, o, reason).await?;
    }
    let Some(row) = row else {
        return Ok((0, false));
    };
    let gated = row.gated;
    if matches!(o.next, NextStep::RetryAt(_)) && row.status == InvocationStatus::Cancelled {
        // Its route went away while this attempt was in flight: the attempt's log entry says
        // that no retry follows, and why.
        Stmt::new(
            "UPDATE attempts SET error = COALESCE(error || '; ', '') || 'cancelled: ' ||
                    (SELECT cancel_reason FROM invocations WHERE id = $1)
              WHERE invocation_id = $1 AND n = $2",
        )
        .bind(&o.invocation_id)
        .bind(o.attempt.n)
        .execute(tx)
        .await?;
    }
    let mut released = usize::from(row.status == InvocationStatus::Pending);
    if !row.status.is_final() {
        return Ok((released, gated));
    }
    let mut next: Vec<String> = row.order_next.into_iter().collect();
    match row.chain_next {
        Some(chain) if row.status == InvocationStatus::Failed && row.interrupt_on_error => {
            released += cancel_chain::<B>(tx, chain, &o.route_id, o.at).await?;
        }
        chain => next.extend(chain),
    }
    released += release_waiting::<B>(tx, &next, o.at).await?;
    Ok((released, gated))
}

/// Fails every waiting invocation behind a target that failed with interruptOnError, then
/// releases the first as its predecessor ended: the failed members pass the release down the
/// chain and on to their keys' successors (once nothing else holds them). Returns how many
/// became pending.
async fn cancel_chain<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    first: String,
    failed_route: &str,
    at: switchyard_core::Timestamp,
) -> StoreResult<usize> {
    let mut next = Some(first.clone());
    let message = format!("not called: target {failed_route} failed and has interruptOnError set");
    while let Some(id) = next {
        // A member cancelled while it waited stays cancelled; the ones behind it still fail.
        let row: Option<(Option<String>,)> = Stmt::new(
            "UPDATE invocations SET
                    status = CASE WHEN status = 'waiting' THEN 'failed' ELSE status END,
                    completed_at = CASE WHEN status = 'waiting' THEN $1 ELSE completed_at END,
                    last_error = CASE WHEN status = 'waiting' THEN $2 ELSE last_error END,
                    updated_at = $1
             WHERE id = $3 AND status IN ('waiting', 'cancelled') RETURNING chain_next",
        )
        .bind(at)
        .bind(message.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        next = row.and_then(|(n,)| n);
    }
    release_waiting::<B>(conn, &[first], at).await
}

/// A 410 Gone switches the route off (see [`switch_off`]).
async fn disable_route<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    o: &Outcome,
    reason: &str,
) -> StoreResult<()> {
    switch_off::<B>(
        tx,
        &o.instance,
        o.route_kind,
        &o.route_id,
        o.at,
        reason,
        "the route was disabled: its receiver answered 410 Gone",
    )
    .await
}

/// Switches a route off: a subscription through its own `enabled` flag (in the column and in
/// the stored document; its owner switches it back on with a PATCH), a target through
/// `disabled_routes` (cleared when the target changes). Its live invocations are cancelled with
/// `cancel_reason`.
pub(crate) async fn switch_off<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    instance: &switchyard_core::InstanceId,
    kind: RouteKind,
    route_id: &str,
    at: switchyard_core::Timestamp,
    reason: &str,
    cancel_reason: &str,
) -> StoreResult<()> {
    match kind {
        RouteKind::Subscription => {
            Stmt::new(format!(
                "UPDATE sailpoint_subscriptions SET enabled = FALSE, doc = {}, updated_at = $1
                  WHERE instance_id = $2 AND id = $3",
                B::DOC_DISABLED
            ))
            .bind(at)
            .bind(instance)
            .bind(route_id)
            .execute(tx)
            .await?;
        }
        RouteKind::Target => {
            Stmt::new(
                "INSERT INTO disabled_routes (instance_id, route_kind, route_id, disabled_at, reason)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(instance)
            .bind(kind)
            .bind(route_id)
            .bind(at)
            .bind(reason)
            .execute(tx)
            .await?;
        }
    }
    let scope = RouteScope {
        instance,
        kind,
        route_id,
        real_time_only: false,
        trigger_id: None,
    };
    cancel_route::<B>(tx, &scope, cancel_reason, at).await?;
    Ok(())
}
