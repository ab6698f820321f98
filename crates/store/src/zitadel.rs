//! Storage contract for ZITADEL Actions: targets (with their signing keys) and executions, all
//! keyed by instance. Writes that must be atomic (a target and its first key, an update and a
//! key rotation, an execution and its include checks) are single methods so every backend can
//! run them in one transaction. The delivery engine reads through [`ZitadelStore::resolve_execution`]
//! and [`ZitadelStore::target_signing_keys`].

use crate::keys::SealedKey;
use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::zitadel::{
    Condition, ExecutionEntry, ExecutionSort, ExecutionType, IncludeError, Page, TargetConfig,
    TargetPatch, TargetSort, TextMatch,
};
use switchyard_core::{InstanceId, Timestamp};

/// A stored target with its current (sealed) signing key.
#[derive(Debug, Clone)]
pub struct StoredTarget {
    pub id: String,
    pub config: TargetConfig,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
    /// The current key, sealed with the master key.
    pub signing_key: SealedKey,
}

/// A signing-key rotation that goes with an update.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    pub key: SealedKey,
    /// How long the previous keys stay valid (0 = not at all).
    pub grace_ms: i64,
}

/// A target filter; all filters of a query must match.
#[derive(Debug, Clone)]
pub enum TargetFilter {
    Name(TextMatch),
    Ids(Vec<String>),
}

/// A target listing request.
#[derive(Debug, Clone, Default)]
pub struct TargetQuery {
    pub filters: Vec<TargetFilter>,
    pub sort: TargetSort,
    pub page: Page,
}

/// A stored execution.
#[derive(Debug, Clone)]
pub struct StoredExecution {
    pub condition: Condition,
    pub entries: Vec<ExecutionEntry>,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
}

/// An execution filter; all filters of a query must match.
#[derive(Debug, Clone)]
pub enum ExecutionFilter {
    /// The condition is one of these.
    Conditions(Vec<Condition>),
    Type(ExecutionType),
    /// The execution lists this target directly.
    Target(String),
    /// The execution includes this condition.
    Include(Condition),
}

/// An execution listing request.
#[derive(Debug, Clone, Default)]
pub struct ExecutionQuery {
    pub filters: Vec<ExecutionFilter>,
    pub sort: ExecutionSort,
    pub page: Page,
}

/// One page and the number of all matches.
#[derive(Debug, Clone)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub total: u64,
}

/// Why an execution cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionRejection {
    #[error("target '{0}' does not exist")]
    UnknownTarget(String),
    #[error(transparent)]
    Include(#[from] IncludeError),
    #[error("execution '{0}' cannot be removed: it is included by '{1}'")]
    StillIncluded(String, String),
}

/// A target the delivery engine calls, with its configuration.
#[derive(Debug, Clone)]
pub struct ResolvedTarget {
    pub id: String,
    pub config: TargetConfig,
}

/// What to call for a condition: the execution that matched best and its flattened targets.
#[derive(Debug, Clone)]
pub struct ResolvedExecution {
    pub matched: Condition,
    pub targets: Vec<ResolvedTarget>,
}

#[async_trait]
pub trait ZitadelStore {
    /// Creates a target with its first signing key. `AlreadyExists` when the name is taken.
    async fn create_target(
        &self,
        instance: &InstanceId,
        id: &str,
        config: &TargetConfig,
        key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<StoredTarget>;

    /// Applies `patch` (and the rotation, if any) in one transaction. `NotFound`,
    /// `AlreadyExists` (new name taken).
    async fn update_target(
        &self,
        instance: &InstanceId,
        id: &str,
        patch: &TargetPatch,
        rotation: Option<&KeyRotation>,
        now: Timestamp,
    ) -> StoreResult<StoredTarget>;

    /// `NotFound` when absent.
    async fn get_target(&self, instance: &InstanceId, id: &str) -> StoreResult<StoredTarget>;

    /// Deletes the target, its keys, and its entries in executions (as upstream does).
    /// Returns false when there was nothing to delete.
    async fn delete_target(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;

    async fn list_targets(
        &self,
        instance: &InstanceId,
        query: &TargetQuery,
    ) -> StoreResult<Listing<StoredTarget>>;

    /// Sets (an empty list: removes) the execution for `condition`, checking targets and
    /// includes in the same transaction. The outer error is a storage failure; the inner one
    /// a rule violation to report to the client.
    async fn set_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
        entries: &[ExecutionEntry],
        now: Timestamp,
    ) -> StoreResult<Result<(), ExecutionRejection>>;

    async fn list_executions(
        &self,
        instance: &InstanceId,
        query: &ExecutionQuery,
    ) -> StoreResult<Listing<StoredExecution>>;

    /// Delivery hand-off: the best-matching execution for `condition` (exact > service/group
    /// > all), includes flattened in order, each target with its full configuration.
    async fn resolve_execution(
        &self,
        instance: &InstanceId,
        condition: &Condition,
    ) -> StoreResult<Option<ResolvedExecution>>;

    /// Delivery hand-off: the target's signing keys valid at `now`, current first (sealed).
    async fn target_signing_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>>;
}
