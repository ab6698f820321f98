//! Signing keys, inside a caller's transaction so that creating a target and its first key, or
//! rotating a key with a change, commit together.

use super::{sql_row, Conn, Stmt};
use crate::keys::{KeyOwner, SealedKey};
use crate::StoreResult;
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct KeyRow {
        key_id: String,
        sealed: String,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    }
}

/// A statement about one owner's keys: `$1`, `$2`, `$3` name the owner.
fn of_owner<'a>(
    sql: &'static str,
    instance: &'a InstanceId,
    owner: KeyOwner,
    id: &'a str,
) -> Stmt<'a> {
    Stmt::new(sql).bind(instance).bind(owner.as_str()).bind(id)
}

/// Adds `key` as the owner's current key. Previous keys expire at `now + grace_ms` (or are
/// deleted when `grace_ms` is 0); keys whose grace period is over are purged.
pub async fn rotate<C: Conn>(
    conn: &mut C,
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
        of_owner(
            "DELETE FROM signing_keys WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3 AND expires_at IS NOT NULL AND expires_at <= $4",
            instance,
            owner,
            owner_id,
        )
        .bind(now)
        .execute(conn)
        .await?;
        // A key already in a grace period keeps the earlier of its expiry and the new one.
        of_owner(
            "UPDATE signing_keys SET expires_at = CASE
                 WHEN expires_at IS NOT NULL AND expires_at < $4 THEN expires_at ELSE $4 END
             WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3",
            instance,
            owner,
            owner_id,
        )
        .bind(now.millis() + grace_ms)
        .execute(conn)
        .await?;
    }
    of_owner(
        "INSERT INTO signing_keys (instance_id, owner_kind, owner_id, key_id, sealed, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        instance,
        owner,
        owner_id,
    )
    .bind(&key.key_id)
    .bind(&key.sealed)
    .bind(key.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keys valid at `now`, current key first.
pub async fn valid<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    owner: KeyOwner,
    owner_id: &str,
    now: Timestamp,
) -> StoreResult<Vec<SealedKey>> {
    let rows: Vec<KeyRow> = of_owner(
        "SELECT key_id, sealed, created_at, expires_at FROM signing_keys
         WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3 AND (expires_at IS NULL OR expires_at > $4)
         ORDER BY expires_at IS NOT NULL, created_at DESC",
        instance,
        owner,
        owner_id,
    )
    .bind(now)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| SealedKey {
            key_id: r.key_id,
            sealed: r.sealed,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
        .collect())
}

/// Deletes every key of an owner (the owner is being deleted).
pub async fn delete_all<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    owner: KeyOwner,
    owner_id: &str,
) -> StoreResult<()> {
    of_owner(
        "DELETE FROM signing_keys WHERE instance_id = $1 AND owner_kind = $2 AND owner_id = $3",
        instance,
        owner,
        owner_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}
