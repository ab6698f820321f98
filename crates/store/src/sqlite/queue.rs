//! SQLite implementation of [`QueueStore`]. Batches run in one transaction on the single writer
//! connection; multi-row inserts keep the number of statements per batch small.

use super::SqliteStore;
use crate::queue::*;
use crate::{codec, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::collections::{HashMap, HashSet};
use switchyard_core::{InstanceId, Timestamp};

/// SQLite allows 32766 bound parameters; stay well below.
const ROWS_PER_INSERT: usize = 500;

#[async_trait]
impl QueueStore for SqliteStore {
    async fn publish(&self, batch: &[NewEvent]) -> StoreResult<Vec<PublishResult>> {
        let mut tx = self.write.begin().await?;
        // One multi-row insert per chunk; RETURNING names the rows that were new, so a duplicate
        // id costs a lookup only when it happens.
        let mut inserted: HashSet<(String, String)> = HashSet::with_capacity(batch.len());
        for chunk in batch.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
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
                    "SELECT response FROM events WHERE instance_id = ? AND id = ?",
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
        tx.commit().await?;
        Ok(results)
    }

    async fn claim_due(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<Claimed>> {
        let mut writer = self.relaxed_writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *writer.conn).await?;
        // Each side reads at most `limit` rows in index order; an outer ORDER BY over the plain
        // union would read (and sort) every due row of a backlog on every claim.
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM (
                SELECT * FROM (SELECT id, next_attempt_at AS due FROM invocations
                 WHERE status = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at LIMIT ?2)
                UNION ALL
                SELECT * FROM (SELECT id, lease_until AS due FROM invocations
                 WHERE status = 'in_flight' AND lease_until <= ?1
                 ORDER BY lease_until LIMIT ?2)
             ) ORDER BY due LIMIT ?2",
        )
        .bind(now.millis())
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        if ids.is_empty() {
            drop(tx);
            writer.release().await?;
            return Ok(vec![]);
        }
        let mut q = QueryBuilder::<Sqlite>::new(
            "UPDATE invocations SET status = 'in_flight', lease_until = ",
        );
        q.push_bind(lease_until.millis())
            .push(", updated_at = ")
            .push_bind(now.millis())
            .push(" WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in &ids {
            sep.push_bind(id);
        }
        q.push(")");
        q.build().execute(&mut *tx).await?;
        let claimed = load(&mut tx, &ids).await?;
        tx.commit().await?;
        writer.release().await?;
        Ok(claimed)
    }

    async fn next_due_at(&self) -> StoreResult<Option<Timestamp>> {
        let t: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM (
                SELECT MIN(next_attempt_at) AS t FROM invocations WHERE status = 'pending'
                UNION ALL
                SELECT MIN(lease_until) AS t FROM invocations WHERE status = 'in_flight')",
        )
        .fetch_one(&self.read)
        .await?;
        Ok(t.map(Timestamp))
    }

    async fn record_outcomes(&self, outcomes: &[Outcome]) -> StoreResult<usize> {
        let mut writer = self.relaxed_writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *writer.conn).await?;
        for chunk in outcomes.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR REPLACE INTO attempts (invocation_id, n, at, request_headers, status, duration_ms, response_excerpt, error) ",
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
            q.build().execute(&mut *tx).await?;
        }
        // The common case, a delivery that succeeded, is applied with one statement per HTTP
        // status; everything else row by row.
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
        tx.commit().await?;
        writer.release().await?;
        Ok(released)
    }

    async fn invocation(&self, instance: &InstanceId, id: &str) -> StoreResult<InvocationView> {
        let row: codec::queue::ViewRow = sqlx::query_as(
            "SELECT id, event_id, trigger_id, route_kind, route_id, kind, status, attempts, next_attempt_at,
                    created_at, completed_at, last_error, last_status, output, deadline_at
             FROM invocations WHERE instance_id = ? AND id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound)?;
        let attempts: Vec<codec::queue::AttemptRow> = sqlx::query_as(
            "SELECT n, at, request_headers, status, duration_ms, response_excerpt, error
             FROM attempts WHERE invocation_id = ? ORDER BY n",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?;
        codec::queue::view(row, attempts)
    }

    async fn replay(&self, instance: &InstanceId, id: &str, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM invocations WHERE instance_id = ? AND id = ?")
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
            "UPDATE invocations SET status = 'pending', next_attempt_at = ?, round_base = attempts, lease_until = NULL,
                    completed_at = NULL, updated_at = ? WHERE instance_id = ? AND id = ?",
        )
        .bind(now.millis())
        .bind(now.millis())
        .bind(instance.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
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
             WHERE i.instance_id = ? AND i.route_kind = 'subscription' AND i.created_at >= ?
             ORDER BY i.created_at DESC LIMIT ?",
        )
        .bind(instance.as_str())
        .bind(since.millis())
        .bind(i64::from(max))
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(codec::queue::status).collect())
    }

    async fn callback_target(&self, id: &str) -> StoreResult<CallbackTarget> {
        super::callbacks::callback_target(&self.read, id).await
    }

    async fn complete(
        &self,
        id: &str,
        output: Option<&str>,
        error: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<CompleteResult> {
        super::callbacks::complete(&self.write, id, output, error, now).await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<String>> {
        super::callbacks::expire_due(&self.write, now, limit).await
    }

    async fn next_deadline(&self) -> StoreResult<Option<Timestamp>> {
        super::callbacks::next_deadline(&self.read).await
    }

    async fn invocation_outcomes(
        &self,
        instance: &InstanceId,
        ids: &[String],
    ) -> StoreResult<Vec<InvocationOutcome>> {
        super::callbacks::invocation_outcomes(&self.read, instance, ids).await
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
        .fetch_all(&self.read)
        .await?)
    }

    async fn is_route_disabled(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM disabled_routes WHERE instance_id = ? AND route_kind = ? AND route_id = ?",
        )
        .bind(instance.as_str())
        .bind(kind.as_str())
        .bind(id)
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }

    async fn enable_route(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        enable_route(&mut conn, instance, kind, id).await
    }
}

/// Clears the engine's "disabled" mark of a route.
pub(crate) async fn enable_route(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM disabled_routes WHERE instance_id = ? AND route_kind = ? AND route_id = ?",
    )
    .bind(instance.as_str())
    .bind(kind.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A 410 Gone switches the route off: a subscription through its own `enabled` flag (its owner
/// sees it and switches it back on with a PATCH), a target through `disabled_routes` (cleared
/// when the target changes).
async fn disable_route(
    conn: &mut SqliteConnection,
    o: &Outcome,
    reason: &str,
    at: i64,
) -> StoreResult<()> {
    match o.route_kind {
        RouteKind::Subscription => {
            sqlx::query(
                "UPDATE sailpoint_subscriptions SET enabled = 0, doc = json_set(doc, '$.enabled', json('false')),
                        updated_at = ? WHERE instance_id = ? AND id = ?",
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
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
    conn: &mut SqliteConnection,
    rows: &[(&NewEvent, &NewInvocation)],
) -> StoreResult<()> {
    let mut q = QueryBuilder::<Sqlite>::new(
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

async fn load(conn: &mut SqliteConnection, ids: &[String]) -> StoreResult<Vec<Claimed>> {
    let mut rows: Vec<codec::queue::ClaimedRow> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT i.id, i.instance_id, i.event_id, i.trigger_id, e.payload, e.created_at, i.route_kind,
                    i.route_id, i.kind, i.attempts, i.round_base, i.deadline_at
             FROM invocations i JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
             WHERE i.id IN (",
        );
        let mut sep = q.separated(", ");
        for id in chunk {
            sep.push_bind(id);
        }
        q.push(")");
        rows.extend(q.build_query_as().fetch_all(&mut *conn).await?);
    }
    codec::queue::claimed(rows, ids)
}

/// Marks successfully delivered invocations (all answered `status`) and releases the next
/// target of their chains; returns how many invocations became pending.
async fn mark_delivered(
    conn: &mut SqliteConnection,
    status: Option<u16>,
    group: &[&Outcome],
) -> StoreResult<usize> {
    let at = group
        .iter()
        .map(|o| o.at.millis())
        .max()
        .unwrap_or_default();
    let mut q = QueryBuilder::<Sqlite>::new("UPDATE invocations SET status = 'delivered', attempts = attempts + 1, lease_until = NULL, updated_at = ");
    q.push_bind(at)
        .push(", completed_at = ")
        .push_bind(at)
        .push(", last_error = NULL, last_status = ")
        .push_bind(status.map(i64::from))
        .push(" WHERE status = 'in_flight' AND id IN (");
    let mut ids = q.separated(", ");
    for o in group {
        ids.push_bind(&o.invocation_id);
    }
    q.push(") RETURNING chain_next");
    let next: Vec<Option<String>> = q.build_query_scalar().fetch_all(&mut *conn).await?;
    let mut released = 0;
    for id in next.into_iter().flatten() {
        released += release_waiting(conn, &id, at).await?;
    }
    Ok(released)
}

/// Makes a chained invocation that waited for its predecessor due now.
async fn release_waiting(conn: &mut SqliteConnection, id: &str, at: i64) -> StoreResult<usize> {
    Ok(sqlx::query(
        "UPDATE invocations SET status = 'pending', next_attempt_at = ?, updated_at = ?
         WHERE id = ? AND status = 'waiting'",
    )
    .bind(at)
    .bind(at)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected() as usize)
}

/// Applies one outcome; returns how many invocations it made pending.
async fn apply_next_step(conn: &mut SqliteConnection, o: &Outcome) -> StoreResult<usize> {
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
        "UPDATE invocations SET status = ?, attempts = attempts + 1, next_attempt_at = COALESCE(?, next_attempt_at),
                lease_until = NULL, updated_at = ?, completed_at = CASE WHEN ? THEN ? ELSE NULL END,
                last_error = ?, last_status = ?, output = COALESCE(?, output)
         WHERE id = ? AND status = 'in_flight'
         RETURNING chain_next, interrupt_on_error",
    )
    .bind(status)
    .bind(next_at)
    .bind(at)
    .bind(terminal)
    .bind(at)
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
        released += release_waiting(conn, &next, at).await?;
    }
    Ok(released)
}

/// Fails every waiting invocation behind a target that failed with interruptOnError.
async fn cancel_chain(
    conn: &mut SqliteConnection,
    first: String,
    failed_route: &str,
    at: i64,
) -> StoreResult<()> {
    let mut next = Some(first);
    let message = format!("not called: target {failed_route} failed and has interruptOnError set");
    while let Some(id) = next {
        next = sqlx::query_scalar::<_, Option<String>>(
            "UPDATE invocations SET status = 'failed', completed_at = ?, updated_at = ?, last_error = ?
             WHERE id = ? AND status = 'waiting' RETURNING chain_next",
        )
        .bind(at)
        .bind(at)
        .bind(&message)
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await?
        .flatten();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sy-q-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        (
            SqliteStore::open(&dir.join("db.sqlite")).await.unwrap(),
            dir,
        )
    }

    fn event(id: &str, response: &str, inv: &str) -> NewEvent {
        NewEvent {
            instance: InstanceId::default_instance(),
            id: id.into(),
            event_type: "t".into(),
            payload: "{}".into(),
            content_json: None,
            created_at: Timestamp(1),
            kind: InvocationKind::RealTime,
            invocations: vec![NewInvocation {
                id: inv.into(),
                secret_hash: None,
                route_kind: RouteKind::Subscription,
                route_id: "s".into(),
                state: InitialState::Pending,
                deadline_at: None,
                chain_next: None,
                interrupt_on_error: false,
            }],
            response: response.into(),
        }
    }

    #[tokio::test]
    async fn duplicates_within_and_across_batches_get_the_first_answer() {
        let (s, dir) = store().await;
        let batch = [
            event("a", "A1", "i1"),
            event("b", "B1", "i2"),
            event("a", "A2", "i3"),
        ];
        let r = s.publish(&batch).await.unwrap();
        assert_eq!(r[0], PublishResult::Created);
        assert_eq!(r[1], PublishResult::Created);
        assert_eq!(
            r[2],
            PublishResult::Duplicate {
                response: "A1".into()
            }
        );
        let r = s
            .publish(&[event("b", "B2", "i4"), event("b", "B3", "i5")])
            .await
            .unwrap();
        assert_eq!(
            r[0],
            PublishResult::Duplicate {
                response: "B1".into()
            }
        );
        assert_eq!(
            r[1],
            PublishResult::Duplicate {
                response: "B1".into()
            }
        );
        let depth = s.queue_depth().await.unwrap();
        assert_eq!(
            depth,
            vec![("pending".to_string(), 2)],
            "only i1 and i2 were created"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
