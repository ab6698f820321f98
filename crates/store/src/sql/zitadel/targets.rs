//! Target rows. Listing loads an instance's targets and leaves filtering, sorting and paging to
//! `codec::targets` (Unicode-correct case folding; SQLite's `lower()` only folds ASCII).

use crate::codec::targets::{decode, name_taken, nanos, Row};
use crate::sql::{Conn, Stmt};
use crate::zitadel::StoredTarget;
use crate::StoreResult;
use switchyard_core::zitadel::TargetConfig;
use switchyard_core::{InstanceId, Timestamp};

const SELECT: &str =
    "SELECT t.id, t.name, t.endpoint, t.timeout_nanos, t.target_type, t.interrupt_on_error,
        t.payload_type, t.created_at, t.changed_at, k.key_id, k.sealed,
        k.created_at AS key_created_at
     FROM zitadel_targets t
     JOIN signing_keys k ON k.instance_id = t.instance_id AND k.owner_kind = 'target'
        AND k.owner_id = t.id AND k.expires_at IS NULL
     WHERE t.instance_id = $1";

const INSERT: &str = "INSERT INTO zitadel_targets (name, endpoint, timeout_nanos, target_type,
        interrupt_on_error, payload_type, created_at, changed_at, instance_id, id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9)";

const UPDATE: &str = "UPDATE zitadel_targets SET name = $1, endpoint = $2, timeout_nanos = $3,
        target_type = $4, interrupt_on_error = $5, payload_type = $6, changed_at = $7
     WHERE instance_id = $8 AND id = $9";

/// Runs [`INSERT`] or [`UPDATE`]: the configuration's columns are `$1`..`$6`, the change time
/// `$7`, the target `$8`, `$9`. A taken name is `AlreadyExists`.
async fn write<C: Conn>(
    conn: &mut C,
    sql: &'static str,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    Stmt::new(sql)
        .bind(config.name.as_str())
        .bind(config.endpoint.as_str())
        .bind(nanos(config))
        .bind(config.target_type.as_str())
        .bind(config.target_type.interrupt_on_error())
        .bind(config.payload_type.as_str())
        .bind(now)
        .bind(instance)
        .bind(id)
        .execute(conn)
        .await
        .map_err(|e| name_taken(e, config))?;
    Ok(())
}

pub(super) async fn insert<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    write(conn, INSERT, instance, id, config, now).await
}

pub(super) async fn update<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    write(conn, UPDATE, instance, id, config, now).await
}

pub(super) async fn fetch<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<StoredTarget> {
    let row: Row = Stmt::new(SELECT)
        .push(" AND t.id = $2")
        .bind(instance)
        .bind(id)
        .fetch_one(conn)
        .await?;
    decode(row)
}

pub(super) async fn fetch_all<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
) -> StoreResult<Vec<StoredTarget>> {
    let rows: Vec<Row> = Stmt::new(SELECT).bind(instance).fetch_all(conn).await?;
    rows.into_iter().map(decode).collect()
}

pub(super) async fn delete<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<bool> {
    let deleted = Stmt::new("DELETE FROM zitadel_targets WHERE instance_id = $1 AND id = $2")
        .bind(instance)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(deleted > 0)
}
