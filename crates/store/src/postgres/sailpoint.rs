//! PostgreSQL implementation of [`crate::SailPointStore`]. Documents are encoded and validated
//! exactly as in SQLite (shared `codec::subscriptions`). The per-trigger limit and the
//! trigger-in-use rule are check-then-write: both take an advisory lock on the (instance,
//! trigger) pair so two nodes cannot both pass the check.

use super::{keys, lock, PgStore};
use crate::codec::subscriptions::{decode, encode, Row};
use crate::keys::{KeyOwner, SealedKey};
use crate::{SailPointStore, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::PgConnection;
use switchyard_core::sailpoint::{Subscription, TriggerCatalog, TriggerDefinition};
use switchyard_core::{InstanceId, Timestamp};

fn trigger_lock(instance: &InstanceId, trigger: &str) -> String {
    format!("trigger:{}:{trigger}", instance.as_str())
}

async fn exists(conn: &mut PgConnection, instance: &InstanceId, id: &str) -> StoreResult<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2)",
    )
    .bind(instance.as_str())
    .bind(id)
    .fetch_one(&mut *conn)
    .await?)
}

#[async_trait]
impl SailPointStore for PgStore {
    async fn create_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        max_per_trigger: u32,
        signing_key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<()> {
        let doc = encode(sub)?;
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            lock(&mut tx, &trigger_lock(instance, &sub.trigger_id)).await?;
            if !TriggerCatalog::is_builtin(&sub.trigger_id) {
                let known: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sailpoint_triggers WHERE instance_id = $1 AND id = $2)",
                )
                .bind(instance.as_str())
                .bind(&sub.trigger_id)
                .fetch_one(&mut *tx)
                .await?;
                if !known {
                    return Err(StoreError::Conflict(format!(
                        "trigger '{}' does not exist",
                        sub.trigger_id
                    )));
                }
            }
            let count: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = $1 AND trigger_id = $2",
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
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
            )
            .bind(instance.as_str())
            .bind(&sub.id)
            .bind(&sub.trigger_id)
            .bind(&sub.name)
            .bind(sub.target.type_name())
            .bind(sub.enabled)
            .bind(&doc)
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
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }

    async fn subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<Subscription> {
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        decode(row.ok_or(StoreError::NotFound)?)
    }

    async fn subscriptions(&self, instance: &InstanceId) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = $1
             ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(decode).collect()
    }

    async fn trigger_subscriptions(
        &self,
        instance: &InstanceId,
        trigger_id: &str,
    ) -> StoreResult<Vec<Subscription>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = $1 AND trigger_id = $2
             ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .bind(trigger_id)
        .fetch_all(&self.pool)
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
            "UPDATE sailpoint_subscriptions SET name = $1, kind = $2, enabled = $3, doc = $4, updated_at = $5
             WHERE instance_id = $6 AND id = $7 AND trigger_id = $8",
        )
        .bind(&sub.name)
        .bind(sub.target.type_name())
        .bind(sub.enabled)
        .bind(&doc)
        .bind(now.millis())
        .bind(instance.as_str())
        .bind(&sub.id)
        .bind(&sub.trigger_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn delete_subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            let done = sqlx::query(
                "DELETE FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2",
            )
            .bind(instance.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            keys::delete_all(&mut tx, instance, KeyOwner::Subscription, id).await?;
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }

    async fn subscription_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>> {
        let mut conn = self.pool.acquire().await?;
        if !exists(&mut conn, instance, id).await? {
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
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            // Lock the row: a concurrent delete must not leave keys behind.
            let found: Option<String> = sqlx::query_scalar(
                "SELECT id FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2 FOR UPDATE",
            )
            .bind(instance.as_str())
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
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
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }

    async fn create_trigger(
        &self,
        instance: &InstanceId,
        def: &TriggerDefinition,
        now: Timestamp,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(def)?;
        sqlx::query(
            "INSERT INTO sailpoint_triggers (instance_id, id, definition, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(instance.as_str())
        .bind(&def.id)
        .bind(&text)
        .bind(now.millis())
        .execute(&self.pool)
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
            "SELECT definition FROM sailpoint_triggers WHERE instance_id = $1 ORDER BY created_at, id",
        )
        .bind(instance.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| serde_json::from_str(r).map_err(StoreError::from))
            .collect()
    }

    async fn delete_trigger(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            lock(&mut tx, &trigger_lock(instance, id)).await?;
            let used: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = $1 AND trigger_id = $2",
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
            let done = sqlx::query("DELETE FROM sailpoint_triggers WHERE instance_id = $1 AND id = $2")
                .bind(instance.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }
}
