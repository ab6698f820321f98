//! SailPoint triggers and subscriptions. Documents are stored as JSON (secrets sealed) and
//! re-validated when read (`codec::subscriptions`). The per-trigger limit and the
//! trigger-in-use rule are check-then-write: both take the backend's lock on the (instance,
//! trigger) pair so two nodes cannot both pass the check.

use super::backend::{lock, Backend, SqlStore, Tx};
use super::queue::cancel::{cancel_route, RouteScope};
use super::{finish, keys, Conn, Stmt};
use crate::codec::subscriptions::{decode, encode, Row};
use crate::error::is_unique_violation;
use crate::keys::{KeyOwner, SealedKey};
use crate::{SailPointStore, StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::sailpoint::{Subscription, TriggerCatalog, TriggerDefinition};
use switchyard_core::{InstanceId, Timestamp};

fn trigger_lock(instance: &InstanceId, trigger: &str) -> String {
    format!("trigger:{}:{trigger}", instance.as_str())
}

/// How many rows match; `sql` selects `COUNT(*)` with `$1` the instance and `$2` an id.
async fn count<C: Conn>(
    conn: &mut C,
    sql: &'static str,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<i64> {
    let (n,): (i64,) = Stmt::new(sql)
        .bind(instance)
        .bind(id)
        .fetch_one(conn)
        .await?;
    Ok(n)
}

/// Deletes the row `id` of the instance from `table`; `NotFound` when there was none.
async fn delete_one<C: Conn>(
    conn: &mut C,
    table: &'static str,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<()> {
    let deleted = Stmt::new(format!(
        "DELETE FROM {table} WHERE instance_id = $1 AND id = $2"
    ))
    .bind(instance)
    .bind(id)
    .execute(conn)
    .await?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

const SUBSCRIPTION_EXISTS: &str =
    "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2";
const TRIGGER_EXISTS: &str =
    "SELECT COUNT(*) FROM sailpoint_triggers WHERE instance_id = $1 AND id = $2";
const TRIGGER_SUBSCRIPTIONS: &str =
    "SELECT COUNT(*) FROM sailpoint_subscriptions WHERE instance_id = $1 AND trigger_id = $2";

async fn insert_subscription<B: Backend>(
    tx: &mut Tx<B>,
    instance: &InstanceId,
    sub: &Subscription,
    max_per_trigger: u32,
    signing_key: &SealedKey,
    now: Timestamp,
) -> StoreResult<()> {
    let doc = encode(sub)?;
    lock::<B>(tx, &trigger_lock(instance, &sub.trigger_id)).await?;
    if !TriggerCatalog::is_builtin(&sub.trigger_id)
        && count(tx, TRIGGER_EXISTS, instance, &sub.trigger_id).await? == 0
    {
        return Err(StoreError::Conflict(format!(
            "trigger '{}' does not exist",
            sub.trigger_id
        )));
    }
    let used = count(tx, TRIGGER_SUBSCRIPTIONS, instance, &sub.trigger_id).await?;
    if used >= i64::from(max_per_trigger) {
        return Err(StoreError::Conflict(format!(
            "trigger '{}' already has {used} subscription(s); at most {max_per_trigger} allowed per instance",
            sub.trigger_id
        )));
    }
    Stmt::new(
        "INSERT INTO sailpoint_subscriptions
           (instance_id, id, trigger_id, name, kind, enabled, doc, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(instance)
    .bind(&sub.id)
    .bind(&sub.trigger_id)
    .bind(&sub.name)
    .bind(sub.target.type_name())
    .bind(sub.enabled)
    .bind(doc)
    .bind(now)
    .execute(tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::AlreadyExists(format!(
                "a subscription with id '{}' already exists",
                sub.id
            ))
        } else {
            e.into()
        }
    })?;
    keys::rotate(
        tx,
        instance,
        KeyOwner::Subscription,
        &sub.id,
        signing_key,
        now,
        0,
    )
    .await
}

/// Subscriptions of the instance matching `filter` (SQL on `$2`), oldest first.
async fn select<B: Backend>(
    store: &SqlStore<B>,
    filter: &'static str,
    instance: &InstanceId,
    arg: Option<&str>,
) -> StoreResult<Vec<Subscription>> {
    let mut stmt =
        Stmt::new("SELECT id, trigger_id, doc FROM sailpoint_subscriptions WHERE instance_id = $1")
            .push(filter)
            .push(" ORDER BY created_at, id")
            .bind(instance);
    if let Some(arg) = arg {
        stmt = stmt.bind(arg);
    }
    let rows: Vec<Row> = stmt.fetch_all(&mut store.read().await?).await?;
    rows.into_iter().map(decode).collect()
}

#[async_trait]
impl<B: Backend> SailPointStore for SqlStore<B> {
    async fn create_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        max_per_trigger: u32,
        signing_key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result =
            insert_subscription::<B>(&mut tx, instance, sub, max_per_trigger, signing_key, now)
                .await;
        finish(tx, result).await
    }

    async fn subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<Subscription> {
        let row: Row = Stmt::new(
            "SELECT id, trigger_id, doc FROM sailpoint_subscriptions
             WHERE instance_id = $1 AND id = $2",
        )
        .bind(instance)
        .bind(id)
        .fetch_one(&mut self.read().await?)
        .await?;
        decode(row)
    }

    async fn subscriptions(&self, instance: &InstanceId) -> StoreResult<Vec<Subscription>> {
        select(self, "", instance, None).await
    }

    async fn trigger_subscriptions(
        &self,
        instance: &InstanceId,
        trigger_id: &str,
    ) -> StoreResult<Vec<Subscription>> {
        select(self, " AND trigger_id = $2", instance, Some(trigger_id)).await
    }

    async fn update_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            let was: Option<(bool,)> = Stmt::new(format!(
                "SELECT enabled FROM sailpoint_subscriptions
                  WHERE instance_id = $1 AND id = $2 AND trigger_id = $3{}",
                B::FOR_UPDATE
            ))
            .bind(instance)
            .bind(&sub.id)
            .bind(&sub.trigger_id)
            .fetch_optional(&mut tx)
            .await?;
            let Some((was_enabled,)) = was else {
                return Err(StoreError::NotFound);
            };
            Stmt::new(
                "UPDATE sailpoint_subscriptions
                    SET name = $1, kind = $2, enabled = $3, doc = $4, updated_at = $5
                  WHERE instance_id = $6 AND id = $7 AND trigger_id = $8",
            )
            .bind(&sub.name)
            .bind(sub.target.type_name())
            .bind(sub.enabled)
            .bind(encode(sub)?)
            .bind(now)
            .bind(instance)
            .bind(&sub.id)
            .bind(&sub.trigger_id)
            .execute(&mut tx)
            .await?;
            if was_enabled && !sub.enabled {
                // Disabled means stopped: nothing queued for it is sent later, also not once it
                // is enabled again. Test invocations, which SailPoint sends to disabled
                // subscriptions too, go on.
                let scope = RouteScope {
                    real_time_only: true,
                    ..RouteScope::subscription(instance, &sub.id)
                };
                cancel_route::<B>(&mut tx, &scope, "the subscription was disabled", now).await?;
            }
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn delete_subscription(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            delete_one(&mut tx, "sailpoint_subscriptions", instance, id).await?;
            keys::delete_all(&mut tx, instance, KeyOwner::Subscription, id).await?;
            crate::sql::policy::forget(
                &mut tx,
                instance,
                crate::queue::RouteKind::Subscription,
                id,
            )
            .await?;
            let scope = RouteScope::subscription(instance, id);
            cancel_route::<B>(&mut tx, &scope, "the subscription was deleted", now).await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn subscription_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>> {
        let mut conn = self.read().await?;
        if count(&mut conn, SUBSCRIPTION_EXISTS, instance, id).await? == 0 {
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
        let mut tx = self.begin().await?;
        let result = async {
            // Lock the row: a concurrent delete must not leave keys behind.
            let found: Option<(String,)> = Stmt::new(format!(
                "SELECT id FROM sailpoint_subscriptions WHERE instance_id = $1 AND id = $2{}",
                B::FOR_UPDATE
            ))
            .bind(instance)
            .bind(id)
            .fetch_optional(&mut tx)
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
            .await
        }
        .await;
        finish(tx, result).await
    }

    async fn create_trigger(
        &self,
        instance: &InstanceId,
        def: &TriggerDefinition,
        now: Timestamp,
    ) -> StoreResult<()> {
        Stmt::new(
            "INSERT INTO sailpoint_triggers (instance_id, id, definition, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(instance)
        .bind(&def.id)
        .bind(serde_json::to_string(def)?)
        .bind(now)
        .execute(&mut self.write().await?)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists(format!("a trigger with id '{}' already exists", def.id))
            } else {
                e.into()
            }
        })?;
        Ok(())
    }

    async fn custom_triggers(&self, instance: &InstanceId) -> StoreResult<Vec<TriggerDefinition>> {
        let rows: Vec<(String,)> = Stmt::new(
            "SELECT definition FROM sailpoint_triggers WHERE instance_id = $1 ORDER BY created_at, id",
        )
        .bind(instance)
        .fetch_all(&mut self.read().await?)
        .await?;
        rows.iter()
            .map(|(r,)| serde_json::from_str(r).map_err(StoreError::from))
            .collect()
    }

    async fn delete_trigger(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            lock::<B>(&mut tx, &trigger_lock(instance, id)).await?;
            let used = count(&mut tx, TRIGGER_SUBSCRIPTIONS, instance, id).await?;
            if used > 0 {
                return Err(StoreError::Conflict(format!(
                    "trigger '{id}' still has {used} subscription(s); delete them first"
                )));
            }
            delete_one(&mut tx, "sailpoint_triggers", instance, id).await
        }
        .await;
        finish(tx, result).await
    }
}
