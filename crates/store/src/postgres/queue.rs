//! PostgreSQL implementation of [`QueueStore`]. Claims lock due rows with `FOR UPDATE SKIP
//! LOCKED` inside the claiming transaction, so nodes claiming at the same moment each get
//! different invocations and never wait on each other. Outcomes only apply to invocations still
//! `in_flight` (a late result for re-claimed work must not overwrite newer state). Whenever work
//! becomes due, the transaction sends a `NOTIFY` so idle nodes wake up.

use super::outcomes::{apply_next_step, mark_delivered};
use super::{notify_wakeup, PgStore};
use crate::queue::*;
use crate::{codec, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};
use switchyard_core::{InstanceId, Timestamp};

/// Postgres allows 65535 bound parameters per statement; 16 per invocation row stays well below.
const ROWS_PER_INSERT: usize = 1000;

#[async_trait]
impl QueueStore for PgStore {
    async fn publish(&self, batch: &[NewEvent]) -> StoreResult<Vec<PublishResult>> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            // One multi-row insert per chunk; RETURNING names the rows that were new, so a
            // duplicate id costs a lookup only when it happens. Rows go in key order so two
            // nodes publishing overlapping batches lock keys in the same order (no deadlock);
            // a concurrent publish of the same id waits for the first to commit, then conflicts.
            let mut ordered: Vec<&NewEvent> = batch.iter().collect();
            ordered.sort_by(|a, b| (a.instance.as_str(), &a.id).cmp(&(b.instance.as_str(), &b.id)));
            let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(batch.len());
            for chunk in ordered.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Postgres>::new(
                    "INSERT INTO events (instance_id, id, type, payload, content_json, created_at, response) ",
                );
                q.push_values(chunk, |mut b, ev| {
                    b.push_bind(ev.instance.as_str())
                        .push_bind(&ev.id)
                        .push_bind(&ev.event_type)
                        .push_bind(&*ev.payload)
                        .push_bind(ev.content_json.as_deref())
                        .push_bind(ev.created_at.millis())
                        .push_bind(&ev.response);
                });
                q.push(" ON CONFLICT (instance_id, id) DO NOTHING RETURNING instance_id, id");
                for row in q.build().fetch_all(&mut *tx).await? {
                    inserted.insert((row.get(0), row.get(1)));
                }
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
                    let response: String = sqlx::query_scalar(
                        "SELECT response FROM events WHERE instance_id = $1 AND id = $2",
                    )
                    .bind(key.0)
                    .bind(key.1)
                    .fetch_one(&mut *tx)
                    .await?;
                    results.push(PublishResult::Duplicate { response });
                }
            }
            let rows: Vec<(&NewEvent, &NewInvocation)> = accepted
                .iter()
                .flat_map(|ev| ev.invocations.iter().map(move |inv| (*ev, inv)))
                .collect();
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                insert_invocations(&mut tx, chunk).await?;
            }
            if rows
                .iter()
                .any(|(_, inv)| inv.state == InitialState::Pending)
            {
                notify_wakeup(&mut tx).await?;
            }
            Ok(results)
        }
        .await;
        super::finish(tx, result).await
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            // Two locking reads, one per partial index; rows another node is claiming right now
            // are skipped rather than waited for.
            let mut due: Vec<(String, i64)> = sqlx::query_as(
                "SELECT id, next_attempt_at FROM invocations
                  WHERE status = 'pending' AND next_attempt_at <= $1
                  ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now.millis())
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            let expired: Vec<(String, i64)> = sqlx::query_as(
                "SELECT id, lease_until FROM invocations
                  WHERE status = 'in_flight' AND lease_until <= $1
                  ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED",
            )
            .bind(now.millis())
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
            due.extend(expired);
            due.sort_by_key(|(_, at)| *at);
            due.truncate(limit as usize);
            if due.is_empty() {
                return Ok(vec![]);
            }
            let ids: Vec<String> = due.into_iter().map(|(id, _)| id).collect();
            sqlx::query(
                "UPDATE invocations SET status = 'in_flight', lease_until = $1, updated_at = $2
                 WHERE id = ANY($3)",
            )
            .bind(lease_until.millis())
            .bind(now.millis())
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
            let claimed = load(&mut tx, &ids).await?;
            Ok(claimed)
        }
        .await;
        super::finish(tx, result).await
    }

    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT LEAST(
                (SELECT MIN(next_attempt_at) FROM invocations WHERE status = 'pending'),
                (SELECT MIN(lease_until) FROM invocations WHERE status = 'in_flight'))",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(t.map(Timestamp))
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> StoreResult<usize> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            // One row per (invocation, attempt number): a batch naming the same attempt twice keeps
            // the last, as SQLite's INSERT OR REPLACE does (Postgres refuses to upsert a row twice
            // in one statement).
            let mut seen = HashSet::new();
            let attempts: Vec<&Outcome> = outcomes
                .iter()
                .rev()
                .filter(|o| seen.insert((o.invocation_id.as_str(), o.attempt.n)))
                .collect();
            for chunk in attempts.chunks(ROWS_PER_INSERT) {
                let mut q = QueryBuilder::<Postgres>::new(
                    "INSERT INTO attempts (invocation_id, n, at, request_headers, status, duration_ms, response_excerpt, error) ",
                );
                q.push_values(chunk, |mut b, o| {
                    b.push_bind(&o.invocation_id)
                        .push_bind(i64::from(o.attempt.n))
                        .push_bind(o.attempt.at.millis())
                        .push_bind(o.attempt.request_headers.to_string())
                        .push_bind(o.attempt.status.map(i64::from))
                        .push_bind(o.attempt.duration_ms as i64)
                        .push_bind(o.attempt.response_excerpt.as_deref())
                        .push_bind(o.attempt.error.as_deref());
                });
                q.push(
                    " ON CONFLICT (invocation_id, n) DO UPDATE SET at = excluded.at,
                      request_headers = excluded.request_headers, status = excluded.status,
                      duration_ms = excluded.duration_ms, response_excerpt = excluded.response_excerpt,
                      error = excluded.error",
                );
                q.build().execute(&mut *tx).await?;
            }
            // The common case, a delivery that succeeded, is applied with one statement per
            // HTTP status; everything else row by row.
            let mut delivered: HashMap<Option<u16>, Vec<&Outcome>> = HashMap::new();
            let mut released = 0;
            for o in outcomes {
                if o.next == NextStep::Delivered {
                    delivered.entry(o.attempt.status).or_default().push(o);
                } else {
                    released += apply_next_step(&mut tx, o).await?;
                }
            }
            for (status, group) in delivered {
                for chunk in group.chunks(ROWS_PER_INSERT) {
                    released += mark_delivered(&mut tx, status, chunk).await?;
                }
            }
            if released > 0 {
                notify_wakeup(&mut tx).await?;
            }
            Ok(released)
        }
        .await;
        super::finish(tx, result).await
    }

    async fn invocation(&self, instance: &InstanceId, id: &str) -> StoreResult<InvocationView> {
        let row: codec::queue::ViewRow = sqlx::query_as(
            "SELECT id, event_id, trigger_id, route_kind, route_id, kind, status, attempts, next_attempt_at,
                    created_at, completed_at, last_error, last_status, output, deadline_at
             FROM invocations WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let attempts: Vec<codec::queue::AttemptRow> = sqlx::query_as(
            "SELECT n, at, request_headers, status, duration_ms, response_excerpt, error
             FROM attempts WHERE invocation_id = $1 ORDER BY n",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        codec::queue::view(row, attempts)
    }

    async fn replay(&self, instance: &InstanceId, id: &str, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM invocations WHERE instance_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(instance.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            match status.as_deref() {
                None => return Err(StoreError::NotFound),
                Some("failed") | Some("delivered") => {}
                Some(other) => {
                    return Err(StoreError::Conflict(format!(
                        "invocation is {other}; only failed or delivered invocations can be replayed"
                    )))
                }
            }
            // A replay is a fresh round: the schedule starts over (round_base), while attempt
            // numbers in the log keep increasing.
            sqlx::query(
                "UPDATE invocations SET status = 'pending', next_attempt_at = $1, round_base = attempts,
                        lease_until = NULL, completed_at = NULL, updated_at = $1
                 WHERE instance_id = $2 AND id = $3",
            )
            .bind(now.millis())
            .bind(instance.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            notify_wakeup(&mut tx).await?;
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }

    async fn subscription_invocations(
        &self,
        instance: &InstanceId,
        since: Timestamp,
        max: u32,
    ) -> StoreResult<Vec<InvocationStatusRow>> {
        let rows: Vec<codec::queue::StatusRow> = sqlx::query_as(
            "SELECT i.id, i.trigger_id, i.route_id, COALESCE(s.name, ''), i.kind, i.status, i.created_at,
                    i.completed_at, e.payload, e.content_json, i.output, i.last_error
             FROM invocations i
             JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
             LEFT JOIN sailpoint_subscriptions s ON s.instance_id = i.instance_id AND s.id = i.route_id
             WHERE i.instance_id = $1 AND i.route_kind = 'subscription' AND i.created_at >= $2
             ORDER BY i.created_at DESC LIMIT $3",
        )
        .bind(instance.as_str())
        .bind(since.millis())
        .bind(i64::from(max))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(codec::queue::status).collect())
    }

    async fn callback_target(&self, id: &str) -> StoreResult<CallbackTarget> {
        super::callbacks::callback_target(&self.pool, id).await
    }

    async fn complete(
        &self,
        id: &str,
        output: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<CompleteResult> {
        super::callbacks::complete(&self.pool, id, output, error, now).await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<String>> {
        super::callbacks::expire_due(&self.pool, now, limit).await
    }

    async fn next_deadline(&self) -> StoreResult<Option<Timestamp>> {
        super::callbacks::next_deadline(&self.pool).await
    }

    async fn invocation_outcomes(
        &self,
        instance: &InstanceId,
        ids: &[String],
    ) -> StoreResult<Vec<InvocationOutcome>> {
        super::callbacks::invocation_outcomes(&self.pool, instance, ids).await
    }

    async fn queue_depth(&self) -> StoreResult<Vec<(String, i64)>> {
        // Each count reads a partial index that holds only live rows, so a scrape costs the
        // size of the queue, not of the history.
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM invocations WHERE status = 'pending' GROUP BY status
             UNION ALL
             SELECT status, COUNT(*) FROM invocations WHERE status = 'in_flight' GROUP BY status
             UNION ALL
             SELECT status, COUNT(*) FROM invocations
              WHERE status IN ('waiting', 'awaiting_callback') GROUP BY status
             ORDER BY 1",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn is_route_disabled(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM disabled_routes
              WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3)",
        )
        .bind(instance.as_str())
        .bind(kind.as_str())
        .bind(id)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn enable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        enable_route(&mut conn, instance, kind, id).await
    }
}

/// Clears the engine's "disabled" mark of a route.
pub(crate) async fn enable_route(
    conn: &mut PgConnection,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM disabled_routes WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
    )
    .bind(instance.as_str())
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn insert_invocations(
    conn: &mut PgConnection,
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<()> {
    let mut q = QueryBuilder::<Postgres>::new(
        "INSERT INTO invocations (id, instance_id, event_id, trigger_id, route_kind, route_id, kind, status,
            next_attempt_at, lease_until, chain_next, interrupt_on_error, created_at, updated_at, secret_hash,
            deadline_at) ",
    );
    q.push_values(rows, |mut b, (ev, inv)| {
        let (status, lease) = match inv.state {
            InitialState::Pending => ("pending", None),
            InitialState::Leased(until) => ("in_flight", Some(until.millis())),
            InitialState::Waiting => ("waiting", None),
        };
        b.push_bind(&inv.id)
            .push_bind(ev.instance.as_str())
            .push_bind(&ev.id)
            .push_bind(&ev.event_type)
            .push_bind(inv.route_kind.as_str())
            .push_bind(&inv.route_id)
            .push_bind(ev.kind.as_str())
            .push_bind(status)
            .push_bind(ev.created_at.millis())
            .push_bind(lease)
            .push_bind(inv.chain_next.as_deref())
            .push_bind(inv.interrupt_on_error)
            .push_bind(ev.created_at.millis())
            .push_bind(ev.created_at.millis())
            .push_bind(inv.secret_hash.as_deref())
            .push_bind(inv.deadline_at.map(Timestamp::millis));
    });
    q.build().execute(&mut *conn).await?;
    Ok(())
}

async fn load(conn: &mut PgConnection, ids: &[String]) -> StoreResult<Vec<Claimed>> {
    let rows: Vec<codec::queue::ClaimedRow> = sqlx::query_as(
        "SELECT i.id, i.instance_id, i.event_id, i.trigger_id, e.payload, e.created_at, i.route_kind,
                i.route_id, i.kind, i.attempts, i.round_base, i.deadline_at
         FROM invocations i JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
         WHERE i.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    codec::queue::claimed(rows, ids)
}
