//! Re-sealing every stored secret with the current master key, in one transaction.

use super::backend::{Backend, SqlStore, Tx};
use super::{finish, sql_row, Stmt};
use crate::secrets::{reseal_subscription_doc, reseal_url, Resealer, SecretStore};
use crate::{StoreError, StoreResult};
use async_trait::async_trait;

sql_row! {
    struct SealedKeyRow {
        instance_id: String,
        owner_kind: String,
        owner_id: String,
        key_id: String,
        sealed: String,
    }
}

sql_row! {
    struct WebKeyRow {
        instance_id: String,
        key_id: String,
        sealed: String,
    }
}

sql_row! {
    struct EndpointRow {
        instance_id: String,
        id: String,
        endpoint: String,
    }
}

sql_row! {
    struct DocRow {
        instance_id: String,
        id: String,
        doc: String,
    }
}

#[async_trait]
impl<B: Backend> SecretStore for SqlStore<B> {
    async fn reseal_secrets(&self, reseal: &Resealer) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let result = reseal_all::<B>(&mut tx, reseal).await;
        let changed = finish(tx, result).await?;
        self.db.scrub().await?;
        Ok(changed)
    }
}

async fn reseal_all<B: Backend>(tx: &mut Tx<B>, reseal: &Resealer) -> StoreResult<u64> {
    let fail = |what: String| StoreError::Internal(anyhow::anyhow!(what));
    let mut changed = 0;
    // Row locks keep nodes that are still running from changing these rows meanwhile.
    let keys: Vec<SealedKeyRow> = Stmt::new(format!(
        "SELECT instance_id, owner_kind, owner_id, key_id, sealed FROM signing_keys{}",
        B::FOR_UPDATE
    ))
    .fetch_all(tx)
    .await?;
    for k in keys {
        if let Some(new) =
            reseal(&k.sealed).map_err(|e| fail(format!("signing key {}: {e}", k.key_id)))?
        {
            Stmt::new(
                "UPDATE signing_keys SET sealed = $1
                 WHERE instance_id = $2 AND owner_kind = $3 AND owner_id = $4 AND key_id = $5",
            )
            .bind(new)
            .bind(&k.instance_id)
            .bind(&k.owner_kind)
            .bind(&k.owner_id)
            .bind(&k.key_id)
            .execute(tx)
            .await?;
            changed += 1;
        }
    }
    let web_keys: Vec<WebKeyRow> = Stmt::new(format!(
        "SELECT instance_id, key_id, sealed FROM instance_web_keys{}",
        B::FOR_UPDATE
    ))
    .fetch_all(tx)
    .await?;
    for k in web_keys {
        if let Some(new) =
            reseal(&k.sealed).map_err(|e| fail(format!("web key {}: {e}", k.key_id)))?
        {
            Stmt::new(
                "UPDATE instance_web_keys SET sealed = $1 WHERE instance_id = $2 AND key_id = $3",
            )
            .bind(new)
            .bind(&k.instance_id)
            .bind(&k.key_id)
            .execute(tx)
            .await?;
            changed += 1;
        }
    }
    let docs: Vec<DocRow> = Stmt::new(format!(
        "SELECT instance_id, id, doc FROM sailpoint_subscriptions{}",
        B::FOR_UPDATE
    ))
    .fetch_all(tx)
    .await?;
    for d in docs {
        let mut doc: serde_json::Value = serde_json::from_str(&d.doc)?;
        if reseal_subscription_doc(&mut doc, reseal)
            .map_err(|e| fail(format!("subscription {}: {e}", d.id)))?
        {
            Stmt::new(
                "UPDATE sailpoint_subscriptions SET doc = $1 WHERE instance_id = $2 AND id = $3",
            )
            .bind(doc.to_string())
            .bind(&d.instance_id)
            .bind(&d.id)
            .execute(tx)
            .await?;
            changed += 1;
        }
    }
    let endpoints: Vec<EndpointRow> = Stmt::new(format!(
        "SELECT instance_id, id, endpoint FROM zitadel_targets{}",
        B::FOR_UPDATE
    ))
    .fetch_all(tx)
    .await?;
    for t in endpoints {
        if let Some(new) =
            reseal_url(&t.endpoint, reseal).map_err(|e| fail(format!("target {}: {e}", t.id)))?
        {
            Stmt::new(
                "UPDATE zitadel_targets SET endpoint = $1 WHERE instance_id = $2 AND id = $3",
            )
            .bind(new)
            .bind(&t.instance_id)
            .bind(&t.id)
            .execute(tx)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}
