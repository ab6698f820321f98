//! SQLite implementation of [`crate::SailPointStore`]. Subscription documents are stored as JSON
//! (secrets sealed) and re-validated through the core rules when read, so a row can never yield
//! an invalid [`Subscription`]. Limits and trigger existence are checked inside the write
//! transaction: the single writer connection makes check-then-insert race free.

use super::keys;
use super::SqliteStore;
use crate::codec::subscriptions::{decode, encode, Row};
use crate::keys::{KeyOwner, SealedKey};
use crate::{SailPointStore, StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::sailpoint::{Subscription, TriggerCatalog, TriggerDefinition};
use switchyard_core::{InstanceId, Timestamp};

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

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_core::sailpoint::SubscriptionDoc;

    async fn store() -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sy-sp-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        (
            SqliteStore::open(&dir.join("db.sqlite")).await.unwrap(),
            dir,
        )
    }

    fn sub(id: &str, trigger: &str) -> Subscription {
        let doc: SubscriptionDoc = serde_json::from_value(serde_json::json!({
            "name": id, "type": "HTTP",
            "httpConfig": {"url": "https://x.example", "httpAuthenticationType": "BEARER_TOKEN",
                           "bearerTokenAuthConfig": {"bearerToken": "v1:k:sealed"}}
        }))
        .unwrap();
        Subscription::from_doc(id, trigger, &doc).unwrap()
    }

    fn key(id: &str, at: i64) -> SealedKey {
        SealedKey {
            key_id: id.into(),
            sealed: format!("v1:k:{id}"),
            created_at: Timestamp(at),
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn subscriptions_keys_limits_and_cleanup() {
        let (s, dir) = store().await;
        let i = InstanceId::parse("t1").unwrap();
        let t = "idn:identity-created";
        s.create_subscription(&i, &sub("a", t), 2, &key("k1", 1), Timestamp(1))
            .await
            .unwrap();
        s.create_subscription(&i, &sub("b", t), 2, &key("k2", 2), Timestamp(2))
            .await
            .unwrap();
        let e = s
            .create_subscription(&i, &sub("c", t), 2, &key("k3", 3), Timestamp(3))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)));
        let e = s
            .create_subscription(&i, &sub("d", "acme:none"), 2, &key("k4", 3), Timestamp(3))
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(m) if m.contains("acme:none")));

        let by_trigger = s.trigger_subscriptions(&i, t).await.unwrap();
        assert_eq!(
            by_trigger.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(s.subscription(&i, "a").await.unwrap(), sub("a", t));
        let other = InstanceId::parse("t2").unwrap();
        assert!(s.trigger_subscriptions(&other, t).await.unwrap().is_empty());
        assert!(matches!(
            s.subscription(&other, "a").await,
            Err(StoreError::NotFound)
        ));

        let keys = s.subscription_keys(&i, "a", Timestamp(5)).await.unwrap();
        assert_eq!(
            keys.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
            ["k1"]
        );
        s.rotate_subscription_key(&i, "a", &key("k5", 10), 1000, Timestamp(10))
            .await
            .unwrap();
        let keys = s.subscription_keys(&i, "a", Timestamp(11)).await.unwrap();
        assert_eq!(
            keys.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
            ["k5", "k1"]
        );
        let keys = s.subscription_keys(&i, "a", Timestamp(2000)).await.unwrap();
        assert_eq!(
            keys.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
            ["k5"]
        );

        s.delete_subscription(&i, "a").await.unwrap();
        assert!(matches!(
            s.subscription_keys(&i, "a", Timestamp(11)).await,
            Err(StoreError::NotFound)
        ));
        let left: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM signing_keys WHERE owner_id = 'a'")
                .fetch_one(&s.read)
                .await
                .unwrap();
        assert_eq!(left, 0);
        assert!(matches!(
            s.delete_subscription(&i, "a").await,
            Err(StoreError::NotFound)
        ));
        s.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
