//! SQLite implementation of [`crate::SailPointStore`]. Subscription documents are stored as JSON
//! (secrets sealed) and re-validated through the core rules when read, so a row can never yield
//! an invalid [`Subscription`]. Limits and trigger existence are checked inside the write
//! transaction: the single writer connection makes check-then-insert race free.

use super::keys;
use super::SqliteStore;
use crate::keys::{KeyOwner, SealedKey};
use crate::{SailPointStore, StoreError, StoreResult};
use anyhow::Context;
use async_trait::async_trait;
use switchyard_core::sailpoint::{
    Subscription, SubscriptionDoc, TriggerCatalog, TriggerDefinition,
};
use switchyard_core::{InstanceId, Timestamp};

type Row = (String, String, String);

fn decode(row: Row) -> StoreResult<Subscription> {
    let (id, trigger_id, doc) = row;
    let doc: SubscriptionDoc = serde_json::from_str(&doc)?;
    Subscription::from_doc(&id, &trigger_id, &doc).map_err(|e| {
        StoreError::Internal(anyhow::anyhow!("stored subscription {id} is invalid: {e}"))
    })
}

fn encode(sub: &Subscription) -> StoreResult<String> {
    serde_json::to_string(&sub.to_doc())
        .context("encoding subscription")
        .map_err(StoreError::Internal)
}

#[async_trait]
impl SailPointStore for SqliteStore {
    async fn create_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        max_per_trigger: u32,
        signing_key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<()> {
        let doc = encode(sub)?;
        let mut tx = self.write.begin().await?;
        if !TriggerCatalog::is_builtin(&sub.trigger_id) {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT 1 FROM sailpoint_triggers WHERE instance_id = ? AND id = ?",
            )
            .bind(instance.as_str())
            .bind(&sub.trigger_id)
            .fetch_optional(&mut *tx)
            .await?;
            if exists.is_none() {
                return Err(StoreError::Conflict(format!(
                    "trigger '{}' does not exist",
                    sub.trigger_id
                )));
            }
        }
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = ? AND trigger_id = ?",
        )
        .bind(instance.as_str())
        .bind(&sub.trigger_id)
        .fetch_one(&mut *tx)
        .await?;
        if count >= i64::from(max_per_trigger) {
            return Err(StoreError::Conflict(format!(
                "trigger '{}' already has {count} subscription(s); at most {max_per_trigger} allowed per instance",
                sub.trigger_id
            )));
        }
        sqlx::query(
            "INSERT INTO sailpoint_subscriptions (instance_id, id, trigger_id, name, kind, enabled, doc, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(instance.as_str())
        .bind(&sub.id)
        .bind(&sub.trigger_id)
        .bind(&sub.name)
        .bind(sub.target.type_name())
        .bind(sub.enabled)
        .bind(&doc)
        .bind(now.millis())
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if crate::error::is_unique_violation(&e) {
                StoreError::AlreadyExists(format!("a subscription with id '{}' already exists", sub.id))
            } else {
                e.into()
            }
        })?;
        keys::rotate(
            &mut tx,
            instance,
            KeyOwner::Subscription,
            &sub.id,
            signing_key,
            now,
            0,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<Subscription> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = ? AND id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        decode(row.ok_or(StoreError::NotFound)?)
    }

    async fn subscriptions(&self, instance: &InstanceId) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = ? ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(decode).collect()
    }

    async fn trigger_subscriptions(
        &self,
        instance: &InstanceId,
        trigger_id: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = ? AND trigger_id = ?
             ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .bind(trigger_id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter().map(decode).collect()
    }

    async fn update_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        now: Timestamp,
    ) -> StoreResult<()> {
        let doc = encode(sub)?;
        let done = sqlx::query(
            "UPDATE sailpoint_subscriptions SET name = ?, kind = ?, enabled = ?, doc = ?, updated_at = ?
             WHERE instance_id = ? AND id = ? AND trigger_id = ?",
        )
        .bind(&sub.name)
        .bind(sub.target.type_name())
        .bind(sub.enabled)
        .bind(&doc)
        .bind(now.millis())
        .bind(instance.as_str())
        .bind(&sub.id)
        .bind(&sub.trigger_id)
        .execute(&self.write)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let done =
            sqlx::query("DELETE FROM sailpoint_subscriptions WHERE instance_id = ? AND id = ?")
                .bind(instance.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        keys::delete_all(&mut tx, instance, KeyOwner::Subscription, id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn subscription_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>> {
        let mut conn = self.read.acquire().await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sailpoint_subscriptions WHERE instance_id = ? AND id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        keys::valid(&mut conn, instance, KeyOwner::Subscription, id, now).await
    }

    async fn rotate_subscription_key(
        &self,
        instance: &InstanceId,
        id: &str,
        key: &SealedKey,
        grace_ms: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM sailpoint_subscriptions WHERE instance_id = ? AND id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        keys::rotate(
            &mut tx,
            instance,
            KeyOwner::Subscription,
            id,
            key,
            now,
            grace_ms,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_trigger(
        &self,
        instance: &InstanceId,
        def: &TriggerDefinition,
        now: Timestamp,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(def)?;
        sqlx::query("INSERT INTO sailpoint_triggers (instance_id, id, definition, created_at) VALUES (?, ?, ?, ?)")
            .bind(instance.as_str())
            .bind(&def.id)
            .bind(&text)
            .bind(now.millis())
            .execute(&self.write)
            .await
            .map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    StoreError::AlreadyExists(format!("a trigger with id '{}' already exists", def.id))
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    async fn custom_triggers(&self, instance: &InstanceId) -> StoreResult<Vec<TriggerDefinition>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT definition FROM sailpoint_triggers WHERE instance_id = ? ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| serde_json::from_str(r).map_err(StoreError::from))
            .collect()
    }

    async fn delete_trigger(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = ? AND trigger_id = ?",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "trigger '{id}' still has {used} subscription(s); delete them first"
            )));
        }
        let done = sqlx::query("DELETE FROM sailpoint_triggers WHERE instance_id = ? AND id = ?")
            .bind(instance.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }
}
