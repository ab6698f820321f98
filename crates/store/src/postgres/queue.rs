//! PostgreSQL implementation of [`QueueStore`]. Claims lock due rows with `FOR UPDATE SKIP
//! LOCKED` inside the claiming transaction, so nodes claiming at the same moment each get
//! different invocations and never wait on each other. Outcomes only apply to invocations still
//! `in_flight` (a late result for re-claimed work must not overwrite newer state). Whenever work
//! becomes due, the transaction sends a `NOTIFY` so idle nodes wake up.

use super::{notify_wakeup, PgStore};
use crate::queue::*;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};
use switchyard_core::{InstanceId, Timestamp};

/// Postgres allows 65535 bound parameters per statement; 14 per invocation row stays well below.
const ROWS_PER_INSERT: usize = 1000;

#[async_trait]
impl QueueStore for PgStore {
    async fn publish(&self, batch: &[NewEvent]) -> StoreResult<Vec<PublishResult>> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            let mut results = Vec::with_capacity(batch.len());
            let mut accepted = Vec::with_capacity(batch.len());
            for ev in batch {
                // A concurrent publish of the same id on another node waits here for the first to
                // commit, then sees the conflict and answers with the stored response.
                let inserted = sqlx::query(
                    "INSERT INTO events (instance_id, id, type, payload, created_at, response)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (instance_id, id) DO NOTHING",
                )
                .bind(ev.instance.as_str())
                .bind(&ev.id)
                .bind(&ev.event_type)
                .bind(&ev.payload)
                .bind(ev.created_at.millis())
                .bind(&ev.response)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    let response: String = sqlx::query_scalar(
                        "SELECT response FROM events WHERE instance_id = $1 AND id = $2",
                    )
                    .bind(ev.instance.as_str())
                    .bind(&ev.id)
                    .fetch_one(&mut *tx)
                    .await?;
                    results.push(PublishResult::Duplicate { response });
                } else {
                    results.push(PublishResult::Created);
                    accepted.push(ev);
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

    async fn load_claimed(&self, ids: &[String]) -> StoreResult<Vec<Claimed>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, ids).await
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
            let mut seen = std::collections::HashSet::new();
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
            let mut released = 0;
            for o in outcomes {
                released += apply_next_step(&mut tx, o).await?;
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
        let row = sqlx::query(
            "SELECT id, event_id, trigger_id, route_kind, route_id, kind, status, attempts, next_attempt_at,
                    created_at, completed_at, last_error, last_status
             FROM invocations WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let attempts = sqlx::query(
            "SELECT n, at, request_headers, status, duration_ms, response_excerpt, error
             FROM attempts WHERE invocation_id = $1 ORDER BY n",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .map(|r| {
            Ok(AttemptRecord {
                n: r.get::<i64, _>(0) as u32,
                at: Timestamp(r.get(1)),
                request_headers: serde_json::from_str(r.get::<&str, _>(2))?,
                status: r.get::<Option<i64>, _>(3).map(|s| s as u16),
                duration_ms: r.get::<i64, _>(4) as u64,
                response_excerpt: r.get(5),
                error: r.get(6),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let status: String = row.get(6);
        let pending = status == "pending";
        Ok(InvocationView {
            id: row.get(0),
            event_id: row.get(1),
            trigger_id: row.get(2),
            route_kind: RouteKind::parse(row.get(3)).unwrap_or(RouteKind::Subscription),
            route_id: row.get(4),
            kind: kind(row.get(5)),
            status,
            attempts: row.get::<i64, _>(7) as u32,
            next_attempt_at: pending.then(|| Timestamp(row.get(8))),
            created_at: Timestamp(row.get(9)),
            completed_at: row.get::<Option<i64>, _>(10).map(Timestamp),
            last_error: row.get(11),
            last_status: row.get::<Option<i64>, _>(12).map(|s| s as u16),
            attempt_log: attempts,
        })
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

    async fn queue_depth(&self) -> StoreResult<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, COUNT(*) FROM invocations GROUP BY status ORDER BY status",
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

fn kind(s: &str) -> InvocationKind {
    if s == "test" {
        InvocationKind::Test
    } else {
        InvocationKind::RealTime
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

async fn insert_invocations(
    conn: &mut PgConnection,
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<()> {
    let mut q = QueryBuilder::<Postgres>::new(
        "INSERT INTO invocations (id, instance_id, event_id, trigger_id, route_kind, route_id, kind, status,
            next_attempt_at, lease_until, chain_next, interrupt_on_error, created_at, updated_at) ",
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
            .push_bind(ev.created_at.millis());
    });
    q.build().execute(&mut *conn).await?;
    Ok(())
}

async fn load(conn: &mut PgConnection, ids: &[String]) -> StoreResult<Vec<Claimed>> {
    let rows = sqlx::query(
        "SELECT i.id, i.instance_id, i.event_id, i.trigger_id, e.payload, e.created_at, i.route_kind,
                i.route_id, i.kind, i.attempts, i.round_base
         FROM invocations i JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
         WHERE i.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let instance = InstanceId::parse(r.get::<&str, _>(1))
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("stored instance id: {e}")))?;
        out.push(Claimed {
            id: r.get(0),
            instance,
            event_id: r.get(2),
            event_type: r.get(3),
            payload: r.get(4),
            event_created_at: Timestamp(r.get(5)),
            route_kind: RouteKind::parse(r.get(6)).unwrap_or(RouteKind::Subscription),
            route_id: r.get(7),
            kind: kind(r.get(8)),
            attempts_done: r.get::<i64, _>(9) as u32,
            round_attempts: (r.get::<i64, _>(9) - r.get::<i64, _>(10)) as u32,
        });
    }
    // Keep the caller's order (the fast path hands over invocations in publish order).
    let pos: std::collections::HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    out.sort_by_key(|c| pos.get(c.id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(out)
}

/// Applies one outcome; returns how many invocations it made pending.
async fn apply_next_step(conn: &mut PgConnection, o: &Outcome) -> StoreResult<usize> {
    let at = o.at.millis();
    let (status, next_at, error) = match &o.next {
        NextStep::Delivered => ("delivered", None, None),
        NextStep::RetryAt(t) => ("pending", Some(t.millis()), o.attempt.error.clone()),
        NextStep::Failed(e) | NextStep::FailedDisableRoute(e) => ("failed", None, Some(e.clone())),
    };
    let terminal = next_at.is_none();
    // Only an invocation that is still in flight takes the outcome: a late result for work that
    // was re-claimed elsewhere must not overwrite a newer state.
    let row: Option<(Option<String>, bool)> = sqlx::query_as(
        "UPDATE invocations SET status = $1, attempts = attempts + 1,
                next_attempt_at = COALESCE($2, next_attempt_at), lease_until = NULL, updated_at = $3,
                completed_at = CASE WHEN $4 THEN $3 ELSE NULL END, last_error = $5, last_status = $6
         WHERE id = $7 AND status = 'in_flight'
         RETURNING chain_next, interrupt_on_error",
    )
    .bind(status)
    .bind(next_at)
    .bind(at)
    .bind(terminal)
    .bind(error.as_deref())
    .bind(o.attempt.status.map(i64::from))
    .bind(&o.invocation_id)
    .fetch_optional(&mut *conn)
    .await?;
    let mut released = usize::from(!terminal);
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
        released += sqlx::query(
            "UPDATE invocations SET status = 'pending', next_attempt_at = $1, updated_at = $1
             WHERE id = $2 AND status = 'waiting'",
        )
        .bind(at)
        .bind(&next)
        .execute(&mut *conn)
        .await?
        .rows_affected() as usize;
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
