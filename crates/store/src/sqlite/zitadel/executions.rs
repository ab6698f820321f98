//! Execution rows. Setting one loads the instance's execution graph, applies the change and
//! checks it with the core rules (targets exist, includes exist, no cycles, depth <= 3) before
//! writing, all inside the caller's transaction.

use crate::codec::executions::{decode, encode, graph};
use crate::zitadel::{ExecutionRejection, StoredExecution};
use crate::StoreResult;
use sqlx::SqliteConnection;
use switchyard_core::zitadel::execution::check_graph;
use switchyard_core::zitadel::{Condition, ExecutionEntry};
use switchyard_core::{InstanceId, Timestamp};

pub(super) async fn fetch_all(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
) -> StoreResult<Vec<StoredExecution>> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT condition_key, entries, created_at, changed_at FROM zitadel_executions WHERE instance_id = ?",
    )
    .bind(instance.as_str())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|(k, e, c, ch)| decode(k, e, *c, *ch))
        .collect()
}

async fn write(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    condition: &Condition,
    entries: &[ExecutionEntry],
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO zitadel_executions (instance_id, condition_key, entries, created_at, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT (instance_id, condition_key) DO UPDATE SET entries = excluded.entries, changed_at = excluded.changed_at",
    )
    .bind(instance.as_str())
    .bind(condition.key())
    .bind(encode(entries)?)
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn set(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    condition: &Condition,
    entries: &[ExecutionEntry],
    now: Timestamp,
) -> StoreResult<Result<(), ExecutionRejection>> {
    let key = condition.key();
    let mut graph = graph(&fetch_all(conn, instance).await?);
    if entries.is_empty() {
        let includer = graph.iter().find(|(k, es)| {
            **k != key
                && es
                    .iter()
                    .any(|e| matches!(e, ExecutionEntry::Include(c) if c.key() == key))
        });
        if let Some((by, _)) = includer {
            return Ok(Err(ExecutionRejection::StillIncluded(key, by.clone())));
        }
        sqlx::query("DELETE FROM zitadel_executions WHERE instance_id = ? AND condition_key = ?")
            .bind(instance.as_str())
            .bind(&key)
            .execute(&mut *conn)
            .await?;
        return Ok(Ok(()));
    }
    for e in entries {
        if let ExecutionEntry::Target(id) = e {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM zitadel_targets WHERE instance_id = ? AND id = ?",
            )
            .bind(instance.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            if exists.is_none() {
                return Ok(Err(ExecutionRejection::UnknownTarget(id.clone())));
            }
        }
    }
    graph.insert(key, entries.to_vec());
    if let Err(e) = check_graph(&graph) {
        return Ok(Err(e.into()));
    }
    write(conn, instance, condition, entries, now).await?;
    Ok(Ok(()))
}

/// Drops a deleted target from every execution that lists it. An execution left without
/// entries stays (and matches nothing) so includes of it keep working once refilled.
pub(super) async fn remove_target(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    target_id: &str,
    now: Timestamp,
) -> StoreResult<()> {
    for exec in fetch_all(conn, instance).await? {
        let kept: Vec<ExecutionEntry> = exec
            .entries
            .iter()
            .filter(|e| !matches!(e, ExecutionEntry::Target(id) if id == target_id))
            .cloned()
            .collect();
        if kept.len() != exec.entries.len() {
            write(conn, instance, &exec.condition, &kept, now).await?;
        }
    }
    Ok(())
}
