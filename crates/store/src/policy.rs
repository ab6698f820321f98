//! Storage contract for route delivery policies (native API). A policy belongs to one route (a
//! SailPoint subscription or a ZITADEL target) and goes when the route goes. Setting one also
//! updates what the queue keeps in SQL for it, so that the change applies to work already queued.

use crate::queue::RouteKind;
use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::policy::RoutePolicy;
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
pub trait PolicyStore {
    /// The route's policy, `None` when it has none (server defaults apply).
    async fn route_policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<Option<RoutePolicy>>;

    /// Replaces the route's policy (the caller checked that the route exists).
    async fn set_route_policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
        policy: &RoutePolicy,
        now: Timestamp,
    ) -> StoreResult<()>;
}
