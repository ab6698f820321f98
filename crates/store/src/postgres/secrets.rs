//! PostgreSQL implementation of [`SecretStore`].

use super::{finish, PgStore};
use crate::secrets::{reseal_subscription_doc, Resealer, SecretStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::PgConnection;

#[async_trait]
impl SecretStore for PgStore {
    async fn reseal_secrets(&self, reseal: &Resealer) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let result = reseal_all(&mut tx, reseal).await;
        finish(tx, result).await
    }
}

async fn reseal_all(conn: &mut PgConnection, reseal: &Resealer) -> StoreResult<u64> {
    let fail = |what: String| StoreError::Internal(anyhow::anyhow!(what));
    let mut changed = 0;
    // Row locks keep nodes that are still running from changing these rows meanwhile.
    let keys: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT instance_id, owner_kind, owner_id, key_id, sealed FROM signing_keys FOR UPDATE",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (instance, kind, owner, key_id, sealed) in keys {
        if let Some(new) =
            reseal(&sealed).map_err(|e| fail(format!("signing key {key_id}: {e}")))?
        {
            sqlx::query(
                "UPDATE signing_keys SET sealed = $1
                 WHERE instance_id = $2 AND owner_kind = $3 AND owner_id = $4 AND key_id = $5",
            )
            .bind(new)
            .bind(&instance)
            .bind(&kind)
            .bind(&owner)
            .bind(&key_id)
            .execute(&mut *conn)
            .await?;
            changed += 1;
        }
    }
    let docs: Vec<(String, String, String)> =
        sqlx::query_as("SELECT instance_id, id, doc FROM sailpoint_subscriptions FOR UPDATE")
            .fetch_all(&mut *conn)
            .await?;
    for (instance, id, doc) in docs {
        let mut doc: serde_json::Value = serde_json::from_str(&doc)?;
        if reseal_subscription_doc(&mut doc, reseal)
            .map_err(|e| fail(format!("subscription {id}: {e}")))?
        {
            sqlx::query(
                "UPDATE sailpoint_subscriptions SET doc = $1 WHERE instance_id = $2 AND id = $3",
            )
            .bind(doc.to_string())
            .bind(&instance)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
