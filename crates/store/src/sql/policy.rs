//! Route policies: the validated document, stored as JSON, and forgotten with its route.

use super::backend::{notify, Backend, SqlStore};
use super::{finish, Conn, Stmt};
use crate::policy::PolicyStore;
use crate::queue::RouteKind;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::policy::{PolicyDoc, RoutePolicy};
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
impl<B: Backend> PolicyStore for SqlStore<B> {
    async fn route_policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> StoreResult<Option<RoutePolicy>> {
        let doc: Option<(String,)> = Stmt::new(
            "SELECT doc FROM route_policies
              WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3",
        )
        .bind(instance)
        .bind(kind)
        .bind(id)
        .fetch_optional(&mut self.read().await?)
        .await?;
        doc.map(|(text,)| decode(&text)).transpose()
    }

    async fn set_route_policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
        policy: &RoutePolicy,
        now: Timestamp,
    ) -> StoreResult<()> {
        let doc = serde_json::to_string(&policy.doc()).map_err(anyhow::Error::new)?;
        let mut tx = self.begin().await?;
        let result = async {
            Stmt::new(
                "INSERT INTO route_policies (instance_id, route_kind, route_id, doc, updated_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (instance_id, route_kind, route_id)
                 DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            )
            .bind(instance)
            .bind(kind)
            .bind(id)
            .bind(doc.as_str())
            .bind(now)
            .execute(&mut tx)
            .await?;
            super::queue::gates::configure(&mut tx, instance, kind, id, policy, now).await?;
            // Queued work may have become claimable in another way: every claimer looks again.
            notify::<B>(&mut tx).await
        }
        .await;
        finish(tx, result).await
    }
}

/// A stored document; one that no longer parses is damage, not a default.
fn decode(text: &str) -> StoreResult<RoutePolicy> {
    let doc: PolicyDoc = serde_json::from_str(text)?;
    RoutePolicy::parse(&doc)
        .map_err(|e| StoreError::Internal(anyhow::anyhow!("stored route policy is invalid: {e}")))
}

/// Forgets everything kept for a route's policy (the route is being deleted).
pub(crate) async fn forget<C: Conn>(
    conn: &mut C,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> StoreResult<()> {
    for table in ["route_policies", "route_gates", "ordering_tails"] {
        Stmt::new(format!(
            "DELETE FROM {table} WHERE instance_id = $1 AND route_kind = $2 AND route_id = $3"
        ))
        .bind(instance)
        .bind(kind)
        .bind(id)
        .execute(conn)
        .await?;
    }
    Ok(())
}
