//! SQL for signing keys inside a caller's transaction (PostgreSQL twin of `sqlite/keys.rs`).

use crate::keys::{KeyOwner, SealedKey};
use crate::StoreResult;
use sqlx::PgConnection;
use switchyard_core::{InstanceId, Timestamp};

/// Adds `key` as the owner's current key. Previous keys expire at `now + grace_ms` (or are
/// deleted when `grace_ms` is 0); keys whose grace period is over are purged.
pub async fn rotate(
    conn: &mut PgConnection,
    instance: &InstanceId,
    owner: KeyOwner,
    owner_id: &str,
    key: &SealedKey,
    now: Timestamp,
    grace_ms: i64,
) -> StoreResult<()> {
    if grace_ms <= 0 {
        delete_all(conn, instance, owner, owner_id).await?;
    } else {
        sqlx::query(
            "DELETE FROM signing_keys WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3
               AND expires_at IS NOT NULL AND expires_at <= $4",
        )
        .bind(instance.as_str())
        .bind(owner.as_str())
        .bind(owner_id)
        .bind(now.millis())
        .execute(&mut *conn)
        .await?;
        // A key already in a grace period keeps the earlier of its expiry and the new one.
        sqlx::query(
            "UPDATE signing_keys SET expires_at = LEAST(COALESCE(expires_at, $1), $1)
             WHERE instance_id = $2 AND owner_kind = $3 AND owner_id = $4",
        )
        .bind(now.millis() + grace_ms)
        .bind(instance.as_str())
        .bind(owner.as_str())
        .bind(owner_id)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "INSERT INTO signing_keys (instance_id, owner_kind, owner_id, key_id, sealed, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(instance.as_str())
    .bind(owner.as_str())
    .bind(owner_id)
    .bind(&key.key_id)
    .bind(&key.sealed)
    .bind(key.created_at.millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Keys valid at `now`, current key first.
pub async fn valid(
    conn: &mut PgConnection,
    instance: &InstanceId,
    owner: KeyOwner,
    owner_id: &str,
    now: Timestamp,
) -> StoreResult<Vec<SealedKey>> {
    let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT key_id, sealed, created_at, expires_at FROM signing_keys
         WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3
           AND (expires_at IS NULL OR expires_at > $4)
         ORDER BY expires_at IS NOT NULL, created_at DESC",
    )
    .bind(instance.as_str())
    .bind(owner.as_str())
    .bind(owner_id)
    .bind(now.millis())
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(key_id, sealed, created, expires)| SealedKey {
            key_id,
            sealed,
            created_at: Timestamp(created),
            expires_at: expires.map(Timestamp),
        })
        .collect())
}

/// Deletes every key of an owner (the owner is being deleted).
pub async fn delete_all(
    conn: &mut PgConnection,
    instance: &InstanceId,
    owner: KeyOwner,
    owner_id: &str,
) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM signing_keys WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3",
    )
    .bind(instance.as_str())
    .bind(owner.as_str())
    .bind(owner_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
