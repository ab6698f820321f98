//! Target rows (PostgreSQL twin of `sqlite/zitadel/targets.rs`); decoding, filtering, sorting
//! and paging are the backend-neutral ones in `codec::targets`.

use crate::codec::targets::{decode, name_taken, nanos, Row};
use crate::zitadel::StoredTarget;
use crate::{StoreError, StoreResult};
use sqlx::PgConnection;
use switchyard_core::zitadel::TargetConfig;
use switchyard_core::{InstanceId, Timestamp};

const SELECT: &str =
    "SELECT t.id, t.name, t.endpoint, t.timeout_nanos, t.target_type, t.interrupt_on_error,
        t.payload_type, t.created_at, t.changed_at, k.key_id, k.sealed, k.created_at
     FROM zitadel_targets t
     JOIN signing_keys k ON k.instance_id = t.instance_id AND k.owner_kind = 'target'
        AND k.owner_id = t.id AND k.expires_at IS NULL
     WHERE t.instance_id = $1";

pub(super) async fn insert(
    conn: &mut PgConnection,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO zitadel_targets (instance_id, id, name, endpoint, timeout_nanos, target_type,
            interrupt_on_error, payload_type, created_at, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(instance.as_str())
    .bind(id)
    .bind(config.name.as_str())
    .bind(config.endpoint.as_str())
    .bind(nanos(config))
    .bind(config.target_type.as_str())
    .bind(config.target_type.interrupt_on_error())
    .bind(config.payload_type.as_str())
    .bind(now.millis())
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, config))?;
    Ok(())
}

pub(super) async fn update(
    conn: &mut PgConnection,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE zitadel_targets SET name = $1, endpoint = $2, timeout_nanos = $3, target_type = $4,
            interrupt_on_error = $5, payload_type = $6, changed_at = $7
         WHERE instance_id = $8 AND id = $9",
    )
    .bind(config.name.as_str())
    .bind(config.endpoint.as_str())
    .bind(nanos(config))
    .bind(config.target_type.as_str())
    .bind(config.target_type.interrupt_on_error())
    .bind(config.payload_type.as_str())
    .bind(now.millis())
    .bind(instance.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, config))?;
    Ok(())
}

pub(super) async fn fetch(
    conn: &mut PgConnection,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<StoredTarget> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} AND t.id = $2"))
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    decode(row.ok_or(StoreError::NotFound)?)
}

pub(super) async fn fetch_all(
    conn: &mut PgConnection,
    instance: &InstanceId,
) -> StoreResult<Vec<StoredTarget>> {
    let rows: Vec<Row> = sqlx::query_as(SELECT)
        .bind(instance.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(decode).collect()
}

pub(super) async fn delete(
    conn: &mut PgConnection,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM zitadel_targets WHERE instance_id = $1 AND id = $2")
        .bind(instance.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
