//! SQLite implementation of [`crate::ZitadelStore`]. Writes run in one transaction on the
//! single write connection; filtering, sorting and best-match resolution over an instance's
//! targets and executions use the pure logic of `switchyard_core::zitadel`, since an
//! instance holds tens to hundreds of them, not millions (see `targets.rs`).

mod executions;
mod targets;

use super::SqliteStore;
use crate::keys::{KeyOwner, SealedKey};
use crate::queue::RouteKind;
use crate::zitadel::{
    ExecutionQuery, ExecutionRejection, KeyRotation, Listing, ResolvedExecution, ResolvedTarget,
    StoredExecution, StoredTarget, TargetQuery,
};
use crate::{StoreResult, ZitadelStore};
use async_trait::async_trait;
use switchyard_core::zitadel::{execution, Condition, ExecutionEntry, TargetConfig, TargetPatch};
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
impl ZitadelStore for SqliteStore {
    async fn create_target(
        &self,
        instance: &InstanceId,
        id: &str,
        config: &TargetConfig,
        key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<StoredTarget> {
        let mut tx = self.write.begin().await?;
        targets::insert(&mut tx, instance, id, config, now).await?;
        super::keys::rotate(&mut tx, instance, KeyOwner::Target, id, key, now, 0).await?;
        let stored = targets::fetch(&mut tx, instance, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn update_target(
        &self,
        instance: &InstanceId,
        id: &str,
        patch: &TargetPatch,
        rotation: Option<&KeyRotation>,
        now: Timestamp,
    ) -> StoreResult<StoredTarget> {
        let mut tx = self.write.begin().await?;
        let current = targets::fetch(&mut tx, instance, id).await?;
        let next = current.config.apply(patch);
        targets::update(&mut tx, instance, id, &next, now).await?;
        if let Some(r) = rotation {
            super::keys::rotate(
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
        // A target the delivery engine switched off (410 Gone) is back on once its owner changes it.
        super::queue::enable_route(&mut tx, instance, RouteKind::Target, id).await?;
        let stored = targets::fetch(&mut tx, instance, id).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn get_target(&self, instance: &InstanceId, id: &str) -> StoreResult<StoredTarget> {
        let mut conn = self.read.acquire().await?;
        targets::fetch(&mut conn, instance, id).await
    }

    async fn delete_target(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        if !targets::delete(&mut tx, instance, id).await? {
            return Ok(false);
        }
        super::keys::delete_all(&mut tx, instance, KeyOwner::Target, id).await?;
        super::queue::enable_route(&mut tx, instance, RouteKind::Target, id).await?;
        executions::remove_target(&mut tx, instance, id, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_targets(
        &self,
        instance: &InstanceId,
        query: &TargetQuery,
    ) -> StoreResult<Listing<StoredTarget>> {
        let mut conn = self.read.acquire().await?;
        let all = targets::fetch_all(&mut conn, instance).await?;
        Ok(crate::codec::targets::select(all, query))
    }

    async fn set_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
        entries: &[ExecutionEntry],
        now: Timestamp,
    ) -> StoreResult<Result<(), ExecutionRejection>> {
        let mut tx = self.write.begin().await?;
        let outcome = executions::set(&mut tx, instance, condition, entries, now).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    async fn list_executions(
        &self,
        instance: &InstanceId,
        query: &ExecutionQuery,
    ) -> StoreResult<Listing<StoredExecution>> {
        let mut conn = self.read.acquire().await?;
        let all = executions::fetch_all(&mut conn, instance).await?;
        Ok(crate::codec::executions::select(all, query))
    }

    async fn resolve_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
    ) -> StoreResult<Option<ResolvedExecution>> {
        let mut conn = self.read.acquire().await?;
        let graph =
            crate::codec::executions::graph(&executions::fetch_all(&mut conn, instance).await?);
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
        let mut conn = self.read.acquire().await?;
        super::keys::valid(&mut conn, instance, KeyOwner::Target, id, now).await
    }
}
