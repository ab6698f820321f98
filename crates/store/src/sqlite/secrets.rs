//! SQLite implementation of [`SecretStore`].

use super::SqliteStore;
use crate::secrets::{reseal_subscription_doc, Resealer, SecretStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;

#[async_trait]
impl SecretStore for SqliteStore {
    async fn reseal_secrets(&self, reseal: &Resealer) -> StoreResult<u64> {
        let fail = |what: String| StoreError::Internal(anyhow::anyhow!(what));
        let mut tx = self.write.begin().await?;
        let mut changed = 0;
        let keys: Vec<(i64, String)> = sqlx::query_as("SELECT rowid, sealed FROM signing_keys")
            .fetch_all(&mut *tx)
            .await?;
        for (rowid, sealed) in keys {
            if let Some(new) =
                reseal(&sealed).map_err(|e| fail(format!("signing key {rowid}: {e}")))?
            {
                sqlx::query("UPDATE signing_keys SET sealed = ? WHERE rowid = ?")
                    .bind(new)
                    .bind(rowid)
                    .execute(&mut *tx)
                    .await?;
                changed += 1;
            }
        }
        let docs: Vec<(String, String, String)> =
            sqlx::query_as("SELECT instance_id, id, doc FROM sailpoint_subscriptions")
                .fetch_all(&mut *tx)
                .await?;
        for (instance, id, doc) in docs {
            let mut doc: serde_json::Value = serde_json::from_str(&doc)?;
            if reseal_subscription_doc(&mut doc, reseal)
                .map_err(|e| fail(format!("subscription {id}: {e}")))?
            {
                sqlx::query(
                    "UPDATE sailpoint_subscriptions SET doc = ? WHERE instance_id = ? AND id = ?",
                )
                .bind(doc.to_string())
                .bind(&instance)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                changed += 1;
            }
        }
        tx.commit().await?;
        // Old page images (in the WAL and in free pages) still hold the values sealed with the
        // retired key: rewrite the file and empty the WAL so nothing of them is left.
        sqlx::query("VACUUM").execute(&self.write).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.write)
            .await?;
        Ok(changed)
    }
}
