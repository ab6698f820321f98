//! Target public keys. Every write holds the instance's ZITADEL lock (as target writes do), so
//! adding a key cannot race the target's deletion and two activations cannot leave two active
//! keys.

use super::lock_instance;
use crate::codec::public_keys::select;
use crate::error::is_unique_violation;
use crate::sql::backend::{Backend, SqlStore};
use crate::sql::{finish, sql_row, Conn, Stmt};
use crate::target_keys::{
    NewPublicKey, PublicKeyQuery, StoredPublicKey, TargetKeyStore, MAX_KEYS_PER_TARGET,
};
use crate::zitadel::Listing;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct KeyRow {
        key_id: String,
        public_key: String,
        fingerprint: String,
        active: bool,
        expires_at: Option<Timestamp>,
        created_at: Timestamp,
        changed_at: Timestamp,
    }
}

impl From<KeyRow> for StoredPublicKey {
    fn from(r: KeyRow) -> Self {
        Self {
            key_id: r.key_id,
            public_key: r.public_key,
            fingerprint: r.fingerprint,
            active: r.active,
            expires_at: r.expires_at,
            created_at: r.created_at,
            changed_at: r.changed_at,
        }
    }
}

const SELECT: &str = "SELECT key_id, public_key, fingerprint, active, expires_at, created_at,
        changed_at
     FROM zitadel_target_public_keys WHERE instance_id = $1 AND target_id = $2";

async fn target_exists<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    target_id: &str,
) -> StoreResult<()> {
    let found: Option<(String,)> =
        Stmt::new("SELECT id FROM zitadel_targets WHERE instance_id = $1 AND id = $2")
            .bind(instance)
            .bind(target_id)
            .fetch_optional(conn)
            .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

async fn all_keys<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    target_id: &str,
) -> StoreResult<Vec<StoredPublicKey>> {
    let rows: Vec<KeyRow> = Stmt::new(SELECT)
        .bind(instance)
        .bind(target_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(StoredPublicKey::from).collect())
}

async fn one_key<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    target_id: &str,
    key_id: &str,
) -> StoreResult<StoredPublicKey> {
    let row: Option<KeyRow> = Stmt::new(SELECT)
        .push(" AND key_id = $3")
        .bind(instance)
        .bind(target_id)
        .bind(key_id)
        .fetch_optional(conn)
        .await?;
    row.map(StoredPublicKey::from).ok_or(StoreError::NotFound)
}

/// Sets the key's `active` flag and change time.
async fn set_active<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    target_id: &str,
    key_id: &str,
    active: bool,
    now: Timestamp,
) -> StoreResult<()> {
    Stmt::new(
        "UPDATE zitadel_target_public_keys SET active = $1, changed_at = $2
         WHERE instance_id = $3 AND target_id = $4 AND key_id = $5",
    )
    .bind(active)
    .bind(now)
    .bind(instance)
    .bind(target_id)
    .bind(key_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes every key of a target (the target is being deleted).
pub(super) async fn delete_all<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    target_id: &str,
) -> StoreResult<()> {
    Stmt::new("DELETE FROM zitadel_target_public_keys WHERE instance_id = $1 AND target_id = $2")
        .bind(instance)
        .bind(target_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> TargetKeyStore for SqlStore<B> {
    async fn add_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key: &NewPublicKey,
        now: Timestamp,
    ) -> StoreResult<StoredPublicKey> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            target_exists(&mut tx, instance, target_id).await?;
            if all_keys(&mut tx, instance, target_id).await?.len() >= MAX_KEYS_PER_TARGET {
                return Err(StoreError::Conflict(format!(
                    "target '{target_id}' already holds {MAX_KEYS_PER_TARGET} public keys; \
                     remove an inactive one first"
                )));
            }
            Stmt::new(
                "INSERT INTO zitadel_target_public_keys (instance_id, target_id, key_id,
                    public_key, fingerprint, active, expires_at, created_at, changed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(instance)
            .bind(target_id)
            .bind(key.key_id.as_str())
            .bind(key.public_key.as_str())
            .bind(key.fingerprint.as_str())
            .bind(false)
            .bind(key.expires_at)
            .bind(now)
            .execute(&mut tx)
            .await
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::AlreadyExists(format!("public key '{}' exists", key.key_id))
                } else {
                    e.into()
                }
            })?;
            one_key(&mut tx, instance, target_id, &key.key_id).await
        }
        .await;
        finish(tx, result).await
    }

    async fn activate_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            let key = one_key(&mut tx, instance, target_id, key_id).await?;
            if key.expired(now) {
                return Err(StoreError::Conflict(format!(
                    "public key '{key_id}' has expired and cannot be activated"
                )));
            }
            for other in all_keys(&mut tx, instance, target_id).await? {
                if other.active && other.key_id != key_id {
                    set_active(&mut tx, instance, target_id, &other.key_id, false, now).await?;
                }
            }
            set_active(&mut tx, instance, target_id, key_id, true, now).await?;
            Ok(now)
        }
        .await;
        finish(tx, result).await
    }

    async fn deactivate_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            one_key(&mut tx, instance, target_id, key_id).await?;
            set_active(&mut tx, instance, target_id, key_id, false, now).await?;
            Ok(now)
        }
        .await;
        finish(tx, result).await
    }

    async fn remove_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            let key = one_key(&mut tx, instance, target_id, key_id).await?;
            if key.active {
                return Err(StoreError::Conflict(format!(
                    "public key '{key_id}' is active; deactivate it (or activate another) before \
                     removing it"
                )));
            }
            Stmt::new(
                "DELETE FROM zitadel_target_public_keys
                 WHERE instance_id = $1 AND target_id = $2 AND key_id = $3",
            )
            .bind(instance)
            .bind(target_id)
            .bind(key_id)
            .execute(&mut tx)
            .await?;
            Ok(now)
        }
        .await;
        finish(tx, result).await
    }

    async fn list_public_keys(
        &self,
        instance: &InstanceId,
        target_id: &str,
        query: &PublicKeyQuery,
    ) -> StoreResult<Listing<StoredPublicKey>> {
        let mut conn = self.read().await?;
        target_exists(&mut conn, instance, target_id).await?;
        Ok(select(
            all_keys(&mut conn, instance, target_id).await?,
            query,
        ))
    }

    async fn active_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredPublicKey>> {
        let keys = all_keys(&mut self.read().await?, instance, target_id).await?;
        Ok(keys.into_iter().find(|k| k.active && !k.expired(now)))
    }
}
