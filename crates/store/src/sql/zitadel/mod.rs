//! ZITADEL targets and executions. Every write runs in one transaction holding the instance's
//! ZITADEL lock (`Backend::LOCK`; SQLite's single writer serialises them anyway), which the
//! execution graph rules (targets exist, no cycles) need. Listing and resolution use the
//! backend-neutral logic in `codec`, since an instance holds tens to hundreds of targets and
//! executions, not millions.

mod executions;
mod public_keys;
mod targets;

use super::backend::{lock, Backend, SqlStore, Tx};
use super::{finish, keys};
use crate::codec::{executions as exec_logic, targets as target_logic};
use crate::keys::{KeyOwner, SealedKey};
use crate::queue::RouteKind;
use crate::sql::queue::cancel::{cancel_route, RouteScope};
use crate::sql::queue::enable_route;
use crate::sql::Stmt;
use crate::zitadel::{
    ExecutionQuery, ExecutionRejection, KeyRotation, Listing, ResolvedExecution, ResolvedTarget,
    StoredExecution, StoredTarget, TargetQuery,
};
use crate::{StoreResult, ZitadelStore};
use async_trait::async_trait;
use std::collections::HashMap;
use switchyard_core::zitadel::{
    execution, Condition, EventSelector, ExecutionEntry, TargetConfig, TargetPatch,
};
use switchyard_core::{InstanceId, Timestamp};

super::sql_row! {
    struct LiveBinding {
        trigger_id: String,
        route_id: String,
    }
}

/// After an execution changed: the live real-time deliveries to targets that the execution now
/// resolved for their event no longer lists end cancelled (queued ones at once, ones in flight
/// after their attempt). Resolution is by best match, so it is asked per event type; only the
/// instance's live target invocations are read (a partial index holds them).
async fn cancel_unbound<B: Backend>(
    tx: &mut Tx<B>,
    instance: &InstanceId,
    now: Timestamp,
) -> StoreResult<()> {
    let live: Vec<LiveBinding> = Stmt::new(
        "SELECT DISTINCT trigger_id, route_id FROM invocations
          WHERE instance_id = $1 AND route_kind = 'target' AND kind = 'real_time'
            AND status IN ('waiting', 'pending', 'in_flight')",
    )
    .bind(instance)
    .fetch_all(tx)
    .await?;
    if live.is_empty() {
        return Ok(());
    }
    let graph = exec_logic::graph(&executions::fetch_all(tx, instance).await?);
    let mut bound: HashMap<&str, Vec<String>> = HashMap::new();
    for b in &live {
        let targets = bound.entry(b.trigger_id.as_str()).or_insert_with(|| {
            let event = Condition::Event(EventSelector::Event(b.trigger_id.clone()));
            execution::resolve(&graph, &event).map_or_else(Vec::new, |(_, ids)| ids)
        });
        if targets.contains(&b.route_id) {
            continue;
        }
        let scope = RouteScope {
            real_time_only: true,
            trigger_id: Some(&b.trigger_id),
            ..RouteScope::target(instance, &b.route_id)
        };
        let reason = format!(
            "the target is no longer in the execution for '{}'",
            b.trigger_id
        );
        cancel_route::<B>(tx, &scope, &reason, now).await?;
    }
    Ok(())
}

/// Serialises the instance's ZITADEL writes until the transaction ends.
async fn lock_instance<B: Backend>(tx: &mut Tx<B>, instance: &InstanceId) -> StoreResult<()> {
    lock::<B>(tx, &format!("zitadel:{}", instance.as_str())).await
}

#[async_trait]
impl<B: Backend> ZitadelStore for SqlStore<B> {
    async fn create_target(
        &self,
        instance: &InstanceId,
        id: &str,
        config: &TargetConfig,
        key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<StoredTarget> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            targets::insert(&mut tx, instance, id, config, now).await?;
            keys::rotate(&mut tx, instance, KeyOwner::Target, id, key, now, 0).await?;
            targets::fetch(&mut tx, instance, id).await
        }
        .await;
        finish(tx, result).await
    }

    async fn update_target(
        &self,
        instance: &InstanceId,
        id: &str,
        patch: &TargetPatch,
        rotation: Option<&KeyRotation>,
        now: Timestamp,
    ) -> StoreResult<StoredTarget> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            let current = targets::fetch(&mut tx, instance, id).await?;
            let next = current.config.apply(patch);
            targets::update(&mut tx, instance, id, &next, now).await?;
            if let Some(r) = rotation {
                keys::rotate(
                    &mut tx,
                    instance,
                    KeyOwner::Target,
                    id,
                    &r.key,
                    now,
                    r.grace_ms,
                )
                .await?;
            }
            // A target the delivery engine switched off (410 Gone) is back on once its owner
            // changes it.
            enable_route(&mut tx, instance, RouteKind::Target, id).await?;
            targets::fetch(&mut tx, instance, id).await
        }
        .await;
        finish(tx, result).await
    }

    async fn get_target(&self, instance: &InstanceId, id: &str) -> StoreResult<StoredTarget> {
        targets::fetch(&mut self.read().await?, instance, id).await
    }

    async fn delete_target(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let result = async {
            lock_instance::<B>(&mut tx, instance).await?;
            if !targets::delete(&mut tx, instance, id).await? {
                return Ok(false);
            }
            keys::delete_all(&mut tx, instance, KeyOwner::Target, id).await?;
            public_keys::delete_all(&mut tx, instance, id).await?;
            enable_route(&mut tx, instance, RouteKind::Target, id).await?;
            crate::sql::policy::forget(&mut tx, instance, RouteKind::Target, id).await?;
            executions::remove_target(&mut tx, instance, id, now).await?;
            let scope = RouteScope::target(instance, id);
            cancel_route::<B>(&mut tx, &scope, "the target was deleted", now).await?;
            Ok(true)
        }
        .await;
        finish(tx, result).await
    }

    async fn list_targets(
        &self,
        instance: &InstanceId,
        query: &TargetQuery,
    ) -> StoreResult<Listing<StoredTarget>> {
        let all = targets::fetch_all(&mut self.read().await?, instance).await?;
        Ok(target_logic::select(all, query))
    }

    async fn set_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
        entries: &[ExecutionEntry],
        now: Timestamp,
    ) -> StoreResult<Result<(), ExecutionRejection>> {
        let mut tx = self.begin().await?;
        let outcome = async {
            lock_instance::<B>(&mut tx, instance).await?;
            let set = executions::set(&mut tx, instance, condition, entries, now).await?;
            if set.is_ok() {
                cancel_unbound::<B>(&mut tx, instance, now).await?;
            }
            Ok(set)
        }
        .await;
        match outcome {
            Ok(Ok(())) => finish(tx, Ok(Ok(()))).await,
            // A rule violation: nothing may be written, and the lock must go now.
            other => {
                let _ = tx.rollback().await;
                other
            }
        }
    }

    async fn list_executions(
        &self,
        instance: &InstanceId,
        query: &ExecutionQuery,
    ) -> StoreResult<Listing<StoredExecution>> {
        let all = executions::fetch_all(&mut self.read().await?, instance).await?;
        Ok(exec_logic::select(all, query))
    }

    async fn resolve_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
    ) -> StoreResult<Option<ResolvedExecution>> {
        let mut conn = self.read().await?;
        let graph = exec_logic::graph(&executions::fetch_all(&mut conn, instance).await?);
        let Some((matched, ids)) = execution::resolve(&graph, condition) else {
            return Ok(None);
        };
        let mut by_id: std::collections::HashMap<String, StoredTarget> =
            targets::fetch_all(&mut conn, instance)
                .await?
                .into_iter()
                .map(|t| (t.id.clone(), t))
                .collect();
        let targets = ids
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .map(|t| ResolvedTarget {
                id: t.id,
                config: t.config,
            })
            .collect();
        Ok(Some(ResolvedExecution { matched, targets }))
    }

    async fn target_signing_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>> {
        keys::valid(&mut self.read().await?, instance, KeyOwner::Target, id, now).await
    }
}
