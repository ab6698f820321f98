//! Retention on the shared SQL layer. Every purge batch is one short relaxed transaction (losing
//! one to a power failure only means it is done again) that walks a table from its oldest rows
//! through an index on their age and deletes at most the batch size, so the single SQLite writer
//! is held for milliseconds and PostgreSQL locks only the rows deleted. Sets of rows are named
//! by row values (`(instance_id, id) IN (VALUES …)`), which both databases accept.

use super::backend::{Backend, SqlStore, Tx};
use super::{finish, sql_row, Conn, Dialect, Stmt};
use crate::retention::{Expunged, Purged, RetentionStore, EXPUNGED_PAYLOAD};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::{InstanceId, Timestamp};

/// The statuses of invocations that are not over yet; their events are never expunged.
const LIVE: &str = "('waiting', 'pending', 'in_flight', 'awaiting_callback')";

/// An invocation the queue still needs: live, or ended while it waited in its key's FIFO line
/// and still holding its place (its predecessor's release passes through it; see
/// `queue::ordering`). Its event is never purged.
const NEEDED: &str = "(status IN ('waiting', 'pending', 'in_flight', 'awaiting_callback')
    OR holds > 0)";

sql_row! {
    struct EventKey {
        instance_id: String,
        id: String,
    }
}

#[async_trait]
impl<B: Backend> RetentionStore for SqlStore<B> {
    async fn purge_attempts(&self, before: Timestamp, limit: u32) -> StoreResult<Purged> {
        let mut tx = self.begin_relaxed().await?;
        let result = async {
            let attempts = Stmt::new(
                "DELETE FROM attempts WHERE (invocation_id, n) IN (
                    SELECT invocation_id, n FROM attempts WHERE at < $1 ORDER BY at LIMIT $2)",
            )
            .bind(before)
            .bind(limit)
            .execute(&mut tx)
            .await?;
            let call_attempts = Stmt::new(
                "DELETE FROM call_attempts WHERE (instance_id, call_id, n) IN (
                    SELECT instance_id, call_id, n FROM call_attempts
                     WHERE at < $1 ORDER BY at LIMIT $2)",
            )
            .bind(before)
            .bind(limit)
            .execute(&mut tx)
            .await?;
            Ok(Purged {
                attempts,
                call_attempts,
                ..Purged::default()
            })
        }
        .await;
        tx.finish(result).await
    }

    async fn purge_events(&self, before: Timestamp, limit: u32) -> StoreResult<Purged> {
        let mut tx = self.begin_relaxed().await?;
        let result = async {
            let mut purged = purge_events::<B>(&mut tx, before, limit).await?;
            purged.add(purge_calls(&mut tx, before, limit).await?);
            Ok(purged)
        }
        .await;
        tx.finish(result).await
    }

    async fn expunge_event(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Expunged> {
        let mut tx = self.begin().await?;
        let result = expunge::<B>(&mut tx, instance, id, now).await;
        finish(tx, result).await
    }

    async fn take_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<bool> {
        let taken = Stmt::new(
            "INSERT INTO maintenance_leases (name, holder, until) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
              WHERE maintenance_leases.holder = excluded.holder
                 OR maintenance_leases.until <= $4",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(&mut self.write().await?)
        .await?;
        Ok(taken == 1)
    }
}

/// Deletes the oldest events accepted before `before` whose invocations have all ended, with
/// those invocations and their attempts.
async fn purge_events<B: Backend>(
    conn: &mut impl Conn<Db = B::Db>,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Purged> {
    let keys: Vec<EventKey> = Stmt::new(format!(
        "SELECT e.instance_id, e.id FROM events e
          WHERE e.created_at < $1
            AND NOT EXISTS (SELECT 1 FROM invocations i
                             WHERE i.instance_id = e.instance_id AND i.event_id = e.id
                               AND {NEEDED})
          ORDER BY e.created_at LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut purged = Purged::default();
    for chunk in keys.chunks(B::ROWS_PER_STATEMENT) {
        // The test repeats the check above inside the delete: an invocation replayed since
        // (PostgreSQL, another node) stays, and so does its event.
        let ids: Vec<(String,)> = Stmt::new(format!(
            "DELETE FROM invocations WHERE NOT {NEEDED} AND (instance_id, event_id) IN ("
        ))
        .values(chunk, |t, k| {
            t.bind(&k.instance_id).bind(&k.id);
        })
        .push(") RETURNING id")
        .fetch_all(conn)
        .await?;
        let ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
        purged.invocations += ids.len() as u64;
        if !ids.is_empty() {
            purged.attempts += Stmt::new(format!(
                "DELETE FROM attempts WHERE invocation_id {}",
                B::Db::in_list(1)
            ))
            .bind_list(&ids)
            .execute(conn)
            .await?;
        }
        purged.events += Stmt::new("DELETE FROM events WHERE (instance_id, id) IN (")
            .values(chunk, |t, k| {
                t.bind(&k.instance_id).bind(&k.id);
            })
            .push(
                ") AND NOT EXISTS (SELECT 1 FROM invocations i
                    WHERE i.instance_id = events.instance_id AND i.event_id = events.id)",
            )
            .execute(conn)
            .await?;
    }
    Ok(purged)
}

/// Deletes the oldest call records made before `before`, with their attempts.
async fn purge_calls(conn: &mut impl Conn, before: Timestamp, limit: u32) -> StoreResult<Purged> {
    const OLDEST: &str =
        "SELECT instance_id, id FROM calls WHERE created_at < $1 ORDER BY created_at LIMIT $2";
    let call_attempts = Stmt::new(format!(
        "DELETE FROM call_attempts WHERE (instance_id, call_id) IN ({OLDEST})"
    ))
    .bind(before)
    .bind(limit)
    .execute(conn)
    .await?;
    let calls = Stmt::new(format!(
        "DELETE FROM calls WHERE (instance_id, id) IN ({OLDEST})"
    ))
    .bind(before)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(Purged {
        calls,
        call_attempts,
        ..Purged::default()
    })
}

async fn expunge<B: Backend>(
    tx: &mut Tx<B>,
    instance: &InstanceId,
    id: &str,
    now: Timestamp,
) -> StoreResult<Expunged> {
    let row: Option<(Option<Timestamp>,)> = Stmt::new(format!(
        "SELECT expunged_at FROM events WHERE instance_id = $1 AND id = $2{}",
        B::FOR_UPDATE
    ))
    .bind(instance)
    .bind(id)
    .fetch_optional(tx)
    .await?;
    let (first,) = row.ok_or(StoreError::NotFound)?;
    // Locking the invocations orders this against a replay of one of them on another node:
    // whichever commits first, the other sees it.
    let live: Vec<(String,)> = Stmt::new(format!(
        "SELECT id FROM invocations
          WHERE instance_id = $1 AND event_id = $2 AND status IN {LIVE}{}",
        B::FOR_UPDATE
    ))
    .bind(instance)
    .bind(id)
    .fetch_all(tx)
    .await?;
    if !live.is_empty() {
        return Err(StoreError::Conflict(format!(
            "{} of the event's invocations are still live; cancel them (or wait for them to end) \
             before expunging it",
            live.len()
        )));
    }
    let at = first.unwrap_or(now);
    Stmt::new(
        "UPDATE events SET payload = $1, content_json = NULL, expunged_at = $2
          WHERE instance_id = $3 AND id = $4",
    )
    .bind(EXPUNGED_PAYLOAD)
    .bind(at)
    .bind(instance)
    .bind(id)
    .execute(tx)
    .await?;
    let invocations =
        Stmt::new("UPDATE invocations SET output = NULL WHERE instance_id = $1 AND event_id = $2")
            .bind(instance)
            .bind(id)
            .execute(tx)
            .await?;
    let attempts = Stmt::new(
        "UPDATE attempts SET response_excerpt = NULL
          WHERE invocation_id IN (SELECT id FROM invocations
                                   WHERE instance_id = $1 AND event_id = $2)",
    )
    .bind(instance)
    .bind(id)
    .execute(tx)
    .await?;
    Ok(Expunged {
        at,
        invocations,
        attempts,
    })
}

/// Whether the event behind invocation `id` was expunged (its payload is gone: no replay).
pub(crate) async fn is_expunged(
    conn: &mut impl Conn,
    instance: &InstanceId,
    invocation_id: &str,
) -> StoreResult<bool> {
    let row: Option<(Option<Timestamp>,)> = Stmt::new(
        "SELECT e.expunged_at FROM invocations i
           JOIN events e ON e.instance_id = i.instance_id AND e.id = i.event_id
          WHERE i.instance_id = $1 AND i.id = $2",
    )
    .bind(instance)
    .bind(invocation_id)
    .fetch_optional(conn)
    .await?;
    Ok(matches!(row, Some((Some(_),))))
}
