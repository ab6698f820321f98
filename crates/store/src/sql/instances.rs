//! Instances and their domains.

use super::backend::{lock, Backend, SqlStore};
use super::{finish, Stmt};
use crate::{InstanceStore, StoreResult};
use async_trait::async_trait;
use switchyard_core::InstanceId;

#[async_trait]
impl<B: Backend> InstanceStore for SqlStore<B> {
    async fn instance_by_domain(&self, domain: &str) -> StoreResult<Option<InstanceId>> {
        let id: Option<(String,)> = Stmt::new("SELECT id FROM instances WHERE domain = $1")
            .bind(domain)
            .fetch_optional(&mut self.read().await?)
            .await?;
        Ok(id.and_then(|(s,)| InstanceId::parse(&s).ok()))
    }

    async fn bind_domain(&self, instance: &InstanceId, domain: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            // Nodes applying the same configured bindings at start-up take turns.
            lock::<B>(&mut tx, &format!("domain:{domain}")).await?;
            Stmt::new("UPDATE instances SET domain = NULL WHERE domain = $1 AND id <> $2")
                .bind(domain)
                .bind(instance)
                .execute(&mut tx)
                .await?;
            Stmt::new(
                "INSERT INTO instances (id, domain) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET domain = excluded.domain",
            )
            .bind(instance)
            .bind(domain)
            .execute(&mut tx)
            .await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
