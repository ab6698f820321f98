//! The operator's lists and bulk recovery ([`SearchStore`]). Each list is one statement built
//! from the filters given: equality on the filtered columns, then a keyset condition on
//! `(created_at, id)` and `ORDER BY created_at DESC, id DESC`, which the `*_list*` indexes of
//! migration 0010 answer on both backends (see docs/search-plans.md).

use super::backend::{notify, Backend, SqlStore};
use super::queue::REPLAY_SET;
use super::{finish, sql_row, Arg, Dialect, Stmt};
use crate::queue::{InvocationKind, InvocationStatus, RouteKind};
use crate::search::*;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::{InstanceId, Timestamp};

/// Invocations replayed per transaction: short transactions, so publishing never waits long.
const REPLAY_BATCH: u32 = 500;

const SUMMARY_COLUMNS: &str = "id, event_id, trigger_id, route_kind, route_id, kind, status,
    attempts, next_attempt_at, created_at, completed_at, last_error, last_status";

sql_row! {
    struct SummaryRow {
        id: String,
        event_id: String,
        trigger_id: String,
        route_kind: RouteKind,
        route_id: String,
        kind: InvocationKind,
        status: InvocationStatus,
        attempts: i64,
        next_attempt_at: Timestamp,
        created_at: Timestamp,
        completed_at: Option<Timestamp>,
        last_error: Option<String>,
        last_status: Option<i64>,
    }
}

impl From<SummaryRow> for InvocationSummary {
    fn from(r: SummaryRow) -> Self {
        InvocationSummary {
            next_attempt_at: (r.status == InvocationStatus::Pending).then_some(r.next_attempt_at),
            id: r.id,
            event_id: r.event_id,
            trigger_id: r.trigger_id,
            route_kind: r.route_kind,
            route_id: r.route_id,
            kind: r.kind,
            status: r.status,
            attempts: r.attempts as u32,
            created_at: r.created_at,
            completed_at: r.completed_at,
            last_error: r.last_error,
            last_status: r.last_status.map(|s| s as u16),
        }
    }
}

sql_row! {
    struct EventSummaryRow {
        id: String,
        event_type: String,
        created_at: Timestamp,
    }
}

sql_row! {
    struct EventRow {
        id: String,
        event_type: String,
        payload: String,
        content_json: Option<String>,
        created_at: Timestamp,
        response: String,
        expunged_at: Option<Timestamp>,
    }
}

/// Appends ` AND <cond>` where each `?` in `cond` is the next parameter, bound to `value`.
fn and<'a>(stmt: Stmt<'a>, cond: &str, value: impl Into<Arg<'a>>) -> Stmt<'a> {
    let n = stmt.args.len() + 1;
    stmt.push(" AND ")
        .push(&cond.replace('?', &format!("${n}")))
        .bind(value)
}

fn and_opt<'a, T: Into<Arg<'a>>>(stmt: Stmt<'a>, cond: &str, value: Option<T>) -> Stmt<'a> {
    match value {
        Some(v) => and(stmt, cond, v),
        None => stmt,
    }
}

/// The keyset condition: strictly after `after` in newest-first order.
fn after_cursor<'a>(stmt: Stmt<'a>, after: Option<&'a Cursor>) -> Stmt<'a> {
    let Some(c) = after else { return stmt };
    let n = stmt.args.len() + 1;
    stmt.push(&format!(" AND (created_at, id) < (${n}, ${})", n + 1))
        .bind(c.created_at)
        .bind(&c.id)
}

fn newest_first<'a>(stmt: Stmt<'a>, limit: u32) -> Stmt<'a> {
    let n = stmt.args.len() + 1;
    stmt.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT ${n}"))
        .bind(limit)
}

/// `SELECT <columns> FROM invocations WHERE instance_id = $1 AND <filter>`.
fn invocations_where<'a>(
    columns: &str,
    instance: &'a InstanceId,
    f: &'a InvocationFilter,
) -> Stmt<'a> {
    let stmt = Stmt::new(format!(
        "SELECT {columns} FROM invocations WHERE instance_id = $1"
    ))
    .bind(instance);
    let stmt = and_opt(stmt, "status = ?", f.status);
    let stmt = and_opt(stmt, "route_kind = ?", f.route_kind);
    let stmt = and_opt(stmt, "route_id = ?", f.route_id.as_deref());
    let stmt = and_opt(stmt, "trigger_id = ?", f.trigger_id.as_deref());
    let stmt = and_opt(stmt, "event_id = ?", f.event_id.as_deref());
    let stmt = and_opt(stmt, "created_at >= ?", f.since);
    and_opt(stmt, "created_at < ?", f.until)
}

#[async_trait]
impl<B: Backend> SearchStore for SqlStore<B> {
    async fn list_invocations(
        &self,
        instance: &InstanceId,
        filter: &InvocationFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<InvocationSummary>> {
        let stmt = invocations_where(SUMMARY_COLUMNS, instance, filter);
        let rows: Vec<SummaryRow> = newest_first(after_cursor(stmt, after), limit)
            .fetch_all(&mut self.read().await?)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn list_events(
        &self,
        instance: &InstanceId,
        filter: &EventFilter,
        after: Option<&Cursor>,
        limit: u32,
    ) -> StoreResult<Vec<EventSummary>> {
        let stmt = Stmt::new(
            "SELECT id, type AS event_type, created_at FROM events WHERE instance_id = $1",
        )
        .bind(instance);
        let stmt = and_opt(stmt, "type = ?", filter.event_type.as_deref());
        let stmt = and_opt(stmt, "created_at >= ?", filter.since);
        let stmt = and_opt(stmt, "created_at < ?", filter.until);
        let rows: Vec<EventSummaryRow> = newest_first(after_cursor(stmt, after), limit)
            .fetch_all(&mut self.read().await?)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| EventSummary {
                id: r.id,
                event_type: r.event_type,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn event(&self, instance: &InstanceId, id: &str) -> StoreResult<EventRecord> {
        let mut conn = self.read().await?;
        let e: EventRow = Stmt::new(
            "SELECT id, type AS event_type, payload, content_json, created_at, response,
                    expunged_at
             FROM events WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance)
        .bind(id)
        .fetch_one(&mut conn)
        .await?;
        let rows: Vec<SummaryRow> = Stmt::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM invocations WHERE instance_id = $1 AND event_id = $2
             ORDER BY created_at, id"
        ))
        .bind(instance)
        .bind(id)
        .fetch_all(&mut conn)
        .await?;
        Ok(EventRecord {
            id: e.id,
            event_type: e.event_type,
            payload: e.payload,
            content_json: e.content_json,
            created_at: e.created_at,
            response: e.response,
            expunged_at: e.expunged_at,
            invocations: rows.into_iter().map(Into::into).collect(),
        })
    }

    async fn invocation_payload(&self, instance: &InstanceId, id: &str) -> StoreResult<String> {
        let (payload,): (String,) = Stmt::new(
            "SELECT e.payload FROM invocations i
             JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
             WHERE i.instance_id = $1 AND i.id = $2",
        )
        .bind(instance)
        .bind(id)
        .fetch_one(&mut self.read().await?)
        .await?;
        Ok(payload)
    }

    async fn replay_matching(
        &self,
        instance: &InstanceId,
        filter: &InvocationFilter,
        max: u32,
        now: Timestamp,
    ) -> StoreResult<BulkReplay> {
        if filter.status.is_some_and(|s| !s.is_replayable()) {
            return Err(StoreError::Conflict(
                "only failed, delivered or cancelled invocations can be replayed".into(),
            ));
        }
        let mut done = BulkReplay {
            replayed: 0,
            more: false,
        };
        let mut after: Option<Cursor> = None;
        loop {
            let room = max.saturating_sub(done.replayed as u32);
            if room == 0 {
                // One more row matching tells whether the caller should run it again.
                let stmt = invocations_where("id, created_at", instance, filter);
                let stmt = replayable(after_cursor(stmt, after.as_ref()));
                let rest: Vec<(String, Timestamp)> = newest_first(stmt, 1)
                    .fetch_all(&mut self.read().await?)
                    .await?;
                done.more = !rest.is_empty();
                return Ok(done);
            }
            let take = room.min(REPLAY_BATCH);
            let mut tx = self.begin().await?;
            let result =
                replay_batch::<B>(&mut tx, instance, filter, after.as_ref(), take, now).await;
            let (n, last, full) = finish(tx, result).await?;
            done.replayed += n;
            if !full {
                return Ok(done);
            }
            after = last;
        }
    }
}

/// Only rows a replay may touch.
fn replayable(stmt: Stmt<'_>) -> Stmt<'_> {
    stmt.push(" AND status IN ('failed', 'delivered', 'cancelled')")
}

/// Replays up to `take` matches after `after`; returns how many changed, the cursor after the
/// batch, and whether the batch was full (more may follow).
async fn replay_batch<B: Backend>(
    tx: &mut super::backend::Tx<B>,
    instance: &InstanceId,
    filter: &InvocationFilter,
    after: Option<&Cursor>,
    take: u32,
    now: Timestamp,
) -> StoreResult<(u64, Option<Cursor>, bool)> {
    let stmt = invocations_where("id, created_at", instance, filter);
    let stmt = newest_first(replayable(after_cursor(stmt, after)), take);
    let stmt = stmt.push(B::FOR_UPDATE);
    let rows: Vec<(String, Timestamp)> = stmt.fetch_all(tx).await?;
    let full = rows.len() as u32 == take;
    let last = rows.last().map(|(id, at)| Cursor {
        created_at: *at,
        id: id.clone(),
    });
    if rows.is_empty() {
        return Ok((0, last, false));
    }
    let ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
    let n = Stmt::new(format!(
        "UPDATE invocations SET {REPLAY_SET}
         WHERE instance_id = $2 AND status IN ('failed', 'delivered', 'cancelled')
           AND NOT EXISTS (SELECT 1 FROM events e
                            WHERE e.instance_id = invocations.instance_id
                              AND e.id = invocations.event_id AND e.expunged_at IS NOT NULL)
           AND id {}",
        B::Db::in_list(3)
    ))
    .bind(now)
    .bind(instance)
    .bind_list(&ids)
    .execute(tx)
    .await?;
    if n > 0 {
        notify::<B>(tx).await?;
    }
    Ok((n, last, full))
}
