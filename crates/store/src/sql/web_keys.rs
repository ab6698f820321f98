//! Web keys of instances. Writes hold a per-instance lock so two nodes generating the first key
//! at once end with one current key.

use super::backend::{lock, Backend, SqlStore, Tx};
use super::{finish, sql_row, Stmt};
use crate::web_keys::{StoredWebKey, WebKeyStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::jose::web_key::WebKeyAlgorithm;
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct WebKeyRow {
        key_id: String,
        algorithm: String,
        sealed: String,
        public_jwk: String,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    }
}

impl TryFrom<WebKeyRow> for StoredWebKey {
    type Error = StoreError;

    fn try_from(r: WebKeyRow) -> StoreResult<Self> {
        let algorithm = WebKeyAlgorithm::parse(&r.algorithm).ok_or_else(|| {
            StoreError::Internal(anyhow::anyhow!(
                "web key {} has an unknown algorithm '{}'",
                r.key_id,
                r.algorithm
            ))
        })?;
        Ok(Self {
            key_id: r.key_id,
            algorithm,
            sealed: r.sealed,
            public_jwk: serde_json::from_str(&r.public_jwk)?,
            created_at: r.created_at,
            expires_at: r.expires_at,
        })
    }
}

/// Most keys an instance publishes at once: the current one and the newest previous ones.
pub const MAX_PUBLISHED: usize = 5;

async fn lock_instance<B: Backend>(tx: &mut Tx<B>, instance: &InstanceId) -> StoreResult<()> {
    lock::<B>(tx, &format!("web-keys:{}", instance.as_str())).await
}

async fn current<B: Backend>(
    tx: &mut Tx<B>,
    instance: &InstanceId,
) -> StoreResult<Option<StoredWebKey>> {
    let row: Option<WebKeyRow> = Stmt::new(
        "SELECT key_id, algorithm, sealed, public_jwk, created_at, expires_at
         FROM instance_web_keys WHERE instance_id = $1 AND expires_at IS NULL",
    )
    .bind(instance)
    .fetch_optional(tx)
    .await?;
    row.map(StoredWebKey::try_from).transpose()
}

async fn insert<B: Backend>(
    tx: &mut Tx<B>,
    instance: &InstanceId,
    key: &StoredWebKey,
) -> StoreResult<()> {
    Stmt::new(
        "INSERT INTO instance_web_keys (instance_id, key_id, algorithm, sealed, public_jwk,
            created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(instance)
    .bind(key.key_id.as_str())
    .bind(key.algorithm.as_str())
    .bind(key.sealed.as_str())
    .bind(key.public_jwk.to_string())
    .bind(key.created_at)
    .execute(tx)
    .await?;
    Ok(())
}

#[async_trait]
impl<B: Backend> WebKeyStore for SqlStore<B> {
    async fn web_keys(
        &self,
        instance: &InstanceId,
        now: Timestamp,
    ) -> StoreResult<Vec<StoredWebKey>> {
        let rows: Vec<WebKeyRow> = Stmt::new(
            "SELECT key_id, algorithm, sealed, public_jwk, created_at, expires_at
             FROM instance_web_keys
             WHERE instance_id = $1 AND (expires_at IS NULL OR expires_at > $2)
             ORDER BY expires_at IS NOT NULL, created_at DESC",
        )
        .bind(instance)
        .bind(now)
        .fetch_all(&mut self.read().await?)
        .await?;
        rows.into_iter().map(StoredWebKey::try_from).collect()
    }

    async fn ensure_web_key(
        &self,
        instance: &InstanceId,
        key: &StoredWebKey,
    ) -> StoreResult<StoredWebKey> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            if let Some(existing) = current::<B>(&mut tx, instance).await? {
                return Ok(existing);
            }
            insert::<B>(&mut tx, instance, key).await?;
            Ok(key.clone())
        }
        .await;
        finish(tx, result).await
    }

    async fn rotate_web_key(
        &self,
        instance: &InstanceId,
        key: &StoredWebKey,
        grace_ms: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            Stmt::new(
                "DELETE FROM instance_web_keys
                 WHERE instance_id = $1 AND expires_at IS NOT NULL AND expires_at <= $2",
            )
            .bind(instance)
            .bind(now)
            .execute(&mut tx)
            .await?;
            let until = now.plus_millis(grace_ms.max(0));
            if grace_ms <= 0 {
                Stmt::new("DELETE FROM instance_web_keys WHERE instance_id = $1")
                    .bind(instance)
                    .execute(&mut tx)
                    .await?;
            } else {
                // A key already in a grace period keeps the earlier of its expiry and the new one.
                Stmt::new(
                    "UPDATE instance_web_keys SET expires_at = CASE
                         WHEN expires_at IS NOT NULL AND expires_at < $2 THEN expires_at ELSE $2 END
                     WHERE instance_id = $1",
                )
                .bind(instance)
                .bind(until)
                .execute(&mut tx)
                .await?;
            }
            insert::<B>(&mut tx, instance, key).await?;
            // Rotations in quick succession keep only the newest previous keys published.
            let ids: Vec<(String,)> = Stmt::new(
                "SELECT key_id FROM instance_web_keys WHERE instance_id = $1
                 ORDER BY expires_at IS NOT NULL, created_at DESC, key_id",
            )
            .bind(instance)
            .fetch_all(&mut tx)
            .await?;
            for (id,) in ids.iter().skip(MAX_PUBLISHED) {
                Stmt::new("DELETE FROM instance_web_keys WHERE instance_id = $1 AND key_id = $2")
                    .bind(instance)
                    .bind(id.as_str())
                    .execute(&mut tx)
                    .await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
