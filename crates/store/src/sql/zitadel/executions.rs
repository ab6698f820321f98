//! Execution rows. Setting one loads the instance's execution graph, applies the change and
//! checks it with the core rules (targets exist, includes exist, no cycles, depth <= 3) before
//! writing, all inside the caller's transaction, which holds the instance's lock so two nodes
//! cannot create a cycle together.

use crate::codec::executions::{decode, encode, graph};
use crate::sql::{sql_row, Conn, Stmt};
use crate::zitadel::{ExecutionRejection, StoredExecution};
use crate::StoreResult;
use switchyard_core::zitadel::execution::check_graph;
use switchyard_core::zitadel::{Condition, ExecutionEntry};
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct ExecutionRow {
        condition_key: String,
        entries: String,
        created_at: i64,
        changed_at: i64,
    }
}

pub(super) async fn fetch_all<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
) -> StoreResult<Vec<StoredExecution>> {
    let rows: Vec<ExecutionRow> = Stmt::new(
        "SELECT condition_key, entries, created_at, changed_at FROM zitadel_executions
         WHERE instance_id = $1",
    )
    .bind(instance)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| decode(&r.condition_key, &r.entries, r.created_at, r.changed_at))
        .collect()
}

async fn write<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    condition: &Condition,
    entries: &[ExecutionEntry],
    now: Timestamp,
) -> StoreResult<()> {
    Stmt::new(
        "INSERT INTO zitadel_executions (instance_id, condition_key, entries, created_at, changed_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (instance_id, condition_key)
         DO UPDATE SET entries = excluded.entries, changed_at = excluded.changed_at",
    )
    .bind(instance)
    .bind(condition.key())
    .bind(encode(entries)?)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn set<C: Conn>(
    conn: &mut C,
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
        Stmt::new("DELETE FROM zitadel_executions WHERE instance_id = $1 AND condition_key = $2")
            .bind(instance)
            .bind(key.as_str())
            .execute(conn)
            .await?;
        return Ok(Ok(()));
    }
    for e in entries {
        if let ExecutionEntry::Target(id) = e {
            let (n,): (i64,) = Stmt::new(
                "SELECT COUNT(*) FROM zitadel_targets WHERE instance_id = $1 AND id = $2",
            )
            .bind(instance)
            .bind(id)
            .fetch_one(conn)
            .await?;
            if n == 0 {
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
pub(super) async fn remove_target<C: Conn>(
    conn: &mut C,
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
