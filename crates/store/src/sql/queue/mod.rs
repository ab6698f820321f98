//! The durable queue: publishing events with their invocations, lease-based claims, replays and
//! the reads behind the API. Batches run in one transaction with multi-row statements. Claims
//! lock due rows with the backend's `SKIP_LOCKED` clause inside the claiming transaction, so nodes
//! claiming at the same moment each get different invocations; whenever work becomes due, the
//! transaction wakes the other nodes (`Backend::NOTIFY`).

mod callbacks;
pub(crate) mod cancel;
pub(crate) mod gates;
mod ordering;
pub(crate) mod outcomes;
mod rows;

use super::backend::{notify, Backend, SqlStore, Tx};
use super::{finish, Conn, Dialect, Stmt};
use crate::queue::*;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use rows::{AttemptRow, ClaimedRow, StatusRow, ViewRow, CLAIMED_COLUMNS};
use std::collections::{HashMap, HashSet};
use switchyard_core::{InstanceId, Timestamp};

/// What a replay sets (`$1` = now). A replay is a fresh round: the schedule starts over
/// (`round_base`) while attempt numbers in the log keep increasing, and a cancellation that
/// ended the last round no longer applies.
pub(super) const REPLAY_SET: &str = "status = 'pending', next_attempt_at = $1,
    round_base = attempts, lease_until = NULL, completed_at = NULL, cancel_reason = NULL,
    updated_at = $1, holds = 0, order_next = CASE WHEN holds = 0 THEN NULL ELSE order_next END";

#[async_trait]
impl<B: Backend> QueueStore for SqlStore<B> {
    async fn publish(&self, batch: &[NewEvent]) -> StoreResult<Vec<PublishResult>> {
        let mut tx = self.begin().await?;
        let result = publish::<B>(&mut tx, batch).await;
        finish(tx, result).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        let mut tx = self.begin_relaxed().await?;
        let result = claim_due::<B>(&mut tx, now, lease_until, limit).await;
        tx.finish(result).await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        let mut conn = self.read().await?;
        let (t,): (Option<Timestamp>,) = Stmt::new(
            "SELECT MIN(t) AS t FROM (
                SELECT MIN(next_attempt_at) AS t FROM invocations
                 WHERE status = 'pending' AND gated = FALSE
                UNION ALL
                SELECT MIN(lease_until) AS t FROM invocations WHERE status = 'in_flight') AS due",
        )
        .fetch_one(&mut conn)
        .await?;
        let gated = gates::next_due_at(&mut conn).await?;
        Ok(t.into_iter().chain(gated).min())
    }

    async fn record_outcomes(&self, batch: &[Outcome]) -> StoreResult<usize> {
        let mut tx = self.begin_relaxed().await?;
        let result = outcomes::record::<B>(&mut tx, batch).await;
        tx.finish(result).await
    }

    async fn invocation(&self, instance: &InstanceId, id: &str) -> StoreResult<InvocationView> {
        let mut conn = self.read().await?;
        let row: ViewRow = Stmt::new(
            "SELECT id, event_id, trigger_id, route_kind, route_id, kind, status, attempts,
                    next_attempt_at, created_at, completed_at, last_error, last_status, output,
                    deadline_at
             FROM invocations WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance)
        .bind(id)
        .fetch_one(&mut conn)
        .await?;
        let attempts: Vec<AttemptRow> = Stmt::new(
            "SELECT n, at, transport, destination, outcome, request_headers, status, duration_ms, response_excerpt, error
             FROM attempts WHERE invocation_id = $1 ORDER BY n",
        )
        .bind(id)
        .fetch_all(&mut conn)
        .await?;
        row.decode(attempts)
    }

    async fn cancel(
        &self,
        instance: &InstanceId,
        id: &str,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CancelResult> {
        let mut tx = self.begin().await?;
        let result = cancel::cancel_one::<B>(&mut tx, instance, id, reason, now).await;
        finish(tx, result).await
    }

    async fn replay(&self, instance: &InstanceId, id: &str, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            let status: Option<(InvocationStatus,)> = Stmt::new(format!(
                "SELECT status FROM invocations WHERE instance_id = $1 AND id = $2{}",
                B::FOR_UPDATE
            ))
            .bind(instance)
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
            match status {
                None => return Err(StoreError::NotFound),
                Some((s,)) if s.is_replayable() => {
                    if crate::sql::retention::is_expunged(&mut tx, instance, id).await? {
                        return Err(StoreError::Conflict(
                            "its event was expunged; there is nothing left to deliver".into(),
                        ));
                    }
                }
                Some((other,)) => {
                    return Err(StoreError::Conflict(format!(
                    "invocation is {other}; only failed or delivered invocations can be replayed"
                )))
                }
            }
            Stmt::new(format!(
                "UPDATE invocations SET {REPLAY_SET} WHERE instance_id = $2 AND id = $3"
            ))
            .bind(now)
            .bind(instance)
            .bind(id)
            .execute(&mut tx)
            .await?;
            notify::<B>(&mut tx).await
        }
        .await;
        finish(tx, result).await
    }

    async fn subscription_invocations(
        &self,
        instance: &InstanceId,
        since: Timestamp,
        max: u32,
    ) -> StoreResult<Vec<InvocationStatusRow>> {
        let rows: Vec<StatusRow> = Stmt::new(
            "SELECT i.id, i.trigger_id, i.route_id, COALESCE(s.name, '') AS subscription_name,
                    i.kind, i.status, i.created_at, i.completed_at, e.payload, e.content_json,
                    i.output, i.last_error
             FROM invocations i
             JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
             LEFT JOIN sailpoint_subscriptions s
               ON s.instance_id = i.instance_id AND s.id = i.route_id
             WHERE i.instance_id = $1 AND i.route_kind = 'subscription' AND i.created_at >= $2
             ORDER BY i.created_at DESC LIMIT $3",
        )
        .bind(instance)
        .bind(since)
        .bind(max)
        .fetch_all(&mut self.read().await?)
        .await?;
        Ok(rows.into_iter().map(InvocationStatusRow::from).collect())
    }

    async fn callback_target(&self, id: &str) -> StoreResult<CallbackTarget> {
        callbacks::callback_target(&mut self.read().await?, id).await
    }

    async fn complete(
        &self,
        id: &str,
        output: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<CompleteResult> {
        callbacks::complete(&mut self.write().await?, id, output, error, now).await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<String>> {
        callbacks::expire_due::<B, _>(&mut self.write().await?, now, limit).await
    }

    async fn next_deadline(&self) -> StoreResult<Option<Timestamp>> {
        callbacks::next_deadline(&mut self.read().await?).await
    }

    async fn sweep_ordering_tails(&self, limit: u32) -> StoreResult<usize> {
        let mut tx = self.begin().await?;
        let result = ordering::sweep_tails(&mut tx, limit).await;
        finish(tx, result).await
    }

    async fn invocation_outcomes(
        &self,
        instance: &InstanceId,
        ids: &[String],
    ) -> StoreResult<Vec<InvocationOutcome>> {
        callbacks::invocation_outcomes(&mut self.read().await?, instance, ids).await
    }

    async fn queue_depth(&self) -> StoreResult<Vec<(InvocationStatus, i64)>> {
        // Each count reads a partial index that holds only live rows, so a scrape costs the
        // size of the queue, not of the history.
        let rows: Vec<DepthRow> = Stmt::new(
            "SELECT status, COUNT(*) AS n FROM invocations
              WHERE status = 'pending' AND gated = FALSE GROUP BY status
             UNION ALL
             SELECT status, COUNT(*) AS n FROM invocations
              WHERE status = 'pending' AND gated = TRUE GROUP BY status
             UNION ALL
             SELECT status, COUNT(*) AS n FROM invocations WHERE status = 'in_flight' GROUP BY status
             UNION ALL
             SELECT status, COUNT(*) AS n FROM invocations
              WHERE status IN ('waiting', 'awaiting_callback') GROUP BY status
             ORDER BY 1",
        )
        .fetch_all(&mut self.read().await?)
        .await?;
        // Pending rows are counted in two parts (ungated and gated have an index each).
        let mut depth: Vec<(InvocationStatus, i64)> = Vec::with_capacity(rows.len());
        for r in rows {
            match depth.last_mut() {
                Some((s, n)) if *s == r.status => *n += r.n,
                _ => depth.push((r.status, r.n)),
            }
        }
        Ok(depth)
    }

    async fn route_disabled(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<Option<(Timestamp, String)>> {
        disabled_since(&mut self.read().await?, instance, kind, id).await
    }

    async fn disable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let result = async {
            if disabled_since(&mut tx, instance, kind, id).await?.is_some() {
                return Ok(false);
            }
            outcomes::switch_off::<B>(
                &mut tx,
                instance,
                kind,
                id,
                at,
                "operator",
                "the route was disabled by an operator",
            )
            .await?;
            Ok(true)
        }
        .await;
        finish(tx, result).await
    }

    async fn enable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<()> {
        enable_route(&mut self.write().await?, instance, kind, id).await
    }
}

/// When and why the engine or an operator switched a route off.
async fn disabled_since(
    conn: &mut impl Conn,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> StoreResult<Option<(Timestamp, String)>> {
    Ok(Stmt::new(
        "SELECT disabled_at, reason FROM disabled_routes
          WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
    )
    .bind(instance)
    .bind(kind)
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

super::sql_row! {
    struct DepthRow {
        status: InvocationStatus,
        n: i64,
    }
}

super::sql_row! {
    struct DueRow {
        id: String,
        due: i64,
    }
}

/// Clears the engine's "disabled" mark of a route.
pub(crate) async fn enable_route<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> StoreResult<()> {
    Stmt::new(
        "DELETE FROM disabled_routes WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
    )
    .bind(instance)
    .bind(kind)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    crate::sql::health::forget(conn, instance, kind, id).await
}

async fn publish<B: Backend>(
    tx: &mut Tx<B>,
    batch: &[NewEvent],
) -> StoreResult<Vec<PublishResult>> {
    // One multi-row insert per chunk; RETURNING names the rows that were new, so a duplicate id
    // costs a lookup only when it happens. Rows go in key order so two nodes publishing
    // overlapping batches lock keys in the same order (no deadlock); a concurrent publish of the
    // same id waits for the first to commit, then conflicts.
    let mut ordered: Vec<&NewEvent> = batch.iter().collect();
    ordered.sort_by(|a, b| (a.instance.as_str(), &a.id).cmp(&(b.instance.as_str(), &b.id)));
    let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(batch.len());
    for chunk in ordered.chunks(B::ROWS_PER_STATEMENT) {
        let new: Vec<(String, String)> = Stmt::new(
            "INSERT INTO events (instance_id, id, type, payload, content_json, created_at, response)",
        )
        .values(chunk, |t, ev| {
            t.bind(&ev.instance)
                .bind(&ev.id)
                .bind(&ev.event_type)
                .bind(&*ev.payload)
                .bind(ev.content_json.as_deref())
                .bind(ev.created_at)
                .bind(&ev.response);
        })
        .push(" ON CONFLICT (instance_id, id) DO NOTHING RETURNING instance_id, id")
        .fetch_all(tx)
        .await?;
        inserted.extend(new);
    }
    let mut results: Vec<PublishResult> = Vec::with_capacity(batch.len());
    let mut first_seen: HashMap<(&str, &str), usize> = HashMap::with_capacity(batch.len());
    let mut accepted = Vec::with_capacity(batch.len());
    for (i, ev) in batch.iter().enumerate() {
        let key = (ev.instance.as_str(), ev.id.as_str());
        if let Some(&first) = first_seen.get(&key) {
            // The same id twice in one batch: the later one gets the earlier one's answer.
            let response = match &results[first] {
                PublishResult::Created => batch[first].response.clone(),
                PublishResult::Duplicate { response } => response.clone(),
            };
            results.push(PublishResult::Duplicate { response });
            continue;
        }
        first_seen.insert(key, i);
        if inserted.contains(&(key.0.to_string(), key.1.to_string())) {
            results.push(PublishResult::Created);
            accepted.push(ev);
        } else {
            let (response,): (String,) =
                Stmt::new("SELECT response FROM events WHERE instance_id = $1 AND id = $2")
                    .bind(key.0)
                    .bind(key.1)
                    .fetch_one(tx)
                    .await?;
            results.push(PublishResult::Duplicate { response });
        }
    }
    let rows: Vec<(&NewEvent, &NewInvocation)> = accepted
        .iter()
        .flat_map(|ev| ev.invocations.iter().map(move |inv| (*ev, inv)))
        .collect();
    let places = ordering::link::<B>(tx, &rows).await?;
    let rows: Vec<(&NewEvent, &NewInvocation, ordering::Place)> = rows
        .into_iter()
        .zip(places)
        .map(|((ev, inv), place)| (ev, inv, place))
        .collect();
    for chunk in rows.chunks(B::ROWS_PER_STATEMENT) {
        insert_invocations(tx, chunk).await?;
    }
    if rows
        .iter()
        .any(|(_, inv, place)| inv.state == InitialState::Pending && !place.waits)
    {
        notify::<B>(tx).await?;
    }
    Ok(results)
}

/// Inserts invocations; one that waits for its chain predecessor or its key's predecessor (or
/// both: `holds` counts them) starts `waiting`.
async fn insert_invocations<C: Conn>(
    conn: &mut C,
    rows: &[(&NewEvent, &NewInvocation, ordering::Place)],
) -> StoreResult<()> {
    Stmt::new(
        "INSERT INTO invocations (id, instance_id, event_id, trigger_id, route_kind, route_id, kind,
            status, next_attempt_at, lease_until, chain_next, interrupt_on_error, created_at,
            updated_at, secret_hash, deadline_at, holds, gated, order_key, order_next)",
    )
    .values(rows, |t, (ev, inv, place)| {
        let holds = i64::from(inv.state == InitialState::Waiting) + i64::from(place.waits);
        let (status, lease) = match inv.state {
            _ if holds > 0 => (InvocationStatus::Waiting, None),
            InitialState::Pending | InitialState::Waiting => (InvocationStatus::Pending, None),
            InitialState::Leased(until) => (InvocationStatus::InFlight, Some(until)),
        };
        t.bind(&inv.id)
            .bind(&ev.instance)
            .bind(&ev.id)
            .bind(&ev.event_type)
            .bind(inv.route_kind)
            .bind(&inv.route_id)
            .bind(ev.kind)
            .bind(status)
            .bind(ev.created_at)
            .bind(lease)
            .bind(inv.chain_next.as_deref())
            .bind(inv.interrupt_on_error)
            .bind(ev.created_at)
            .bind(ev.created_at)
            .bind(inv.secret_hash.as_deref())
            .bind(inv.deadline_at)
            .bind(holds)
            .bind(inv.gated && inv.deadline_at.is_none())
            .bind(inv.order_key.as_deref())
            .bind(place.next.as_deref());
    })
    .execute(conn)
    .await?;
    Ok(())
}

async fn claim_due<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> StoreResult<Vec<Claimed>> {
    // Gated routes first (their gates bound what they take), then two locking reads, one per
    // partial index; rows another node is claiming right now are skipped rather than waited for.
    let gated = gates::claim::<B>(tx, now, lease_until, limit).await?;
    let limit = limit - gated.len() as u32;
    let mut due: Vec<DueRow> = if limit == 0 {
        vec![]
    } else {
        Stmt::new(format!(
            "SELECT id, next_attempt_at AS due FROM invocations
          WHERE status = 'pending' AND gated = FALSE AND next_attempt_at <= $1
          ORDER BY next_attempt_at LIMIT $2{}",
            B::SKIP_LOCKED
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(tx)
        .await?
    };
    let expired: Vec<DueRow> = Stmt::new(format!(
        "SELECT id, lease_until AS due FROM invocations
          WHERE status = 'in_flight' AND lease_until <= $1
          ORDER BY lease_until LIMIT $2{}",
        B::SKIP_LOCKED
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(tx)
    .await?;
    due.extend(expired);
    due.sort_by_key(|d| d.due);
    due.truncate(limit as usize);
    if due.is_empty() {
        return load::<B>(tx, &gated).await;
    }
    let mut ids: Vec<String> = due.into_iter().map(|d| d.id).collect();
    Stmt::new(format!(
        "UPDATE invocations SET status = 'in_flight', lease_until = $1, updated_at = $2
         WHERE id {}",
        B::Db::in_list(3)
    ))
    .bind(lease_until)
    .bind(now)
    .bind_list(&ids)
    .execute(tx)
    .await?;
    ids.extend(gated);
    load::<B>(tx, &ids).await
}

/// The claimed invocations `ids` with their events, in the order of `ids`.
async fn load<B: Backend>(
    tx: &mut impl Conn<Db = B::Db>,
    ids: &[String],
) -> StoreResult<Vec<Claimed>> {
    let rows: Vec<ClaimedRow> = Stmt::new(format!(
        "SELECT {CLAIMED_COLUMNS}
         FROM invocations i JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
         WHERE i.id {}",
        B::Db::in_list(1)
    ))
    .bind_list(ids)
    .fetch_all(tx)
    .await?;
    Ok(rows::claimed(rows, ids))
}
