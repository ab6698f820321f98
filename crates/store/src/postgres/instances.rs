//! PostgreSQL implementation of [`InstanceStore`].

use super::PgStore;
use crate::{InstanceStore, StoreResult};
use async_trait::async_trait;
use switchyard_core::InstanceId;

#[async_trait]
impl InstanceStore for PgStore {
    async fn instance_by_domain(&self, domain: &str) -> StoreResult<Option<InstanceId>> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM instances WHERE domain = $1")
            .bind(domain)
            .fetch_optional(&self.pool)
            .await?;
        Ok(id.and_then(|s| InstanceId::parse(&s).ok()))
    }

    async fn bind_domain(&self, instance: &InstanceId, domain: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let result: StoreResult<_> = async {
            // Nodes applying the same configured bindings at start-up take turns.
            super::lock(&mut tx, &format!("domain:{domain}")).await?;
            sqlx::query("UPDATE instances SET domain = NULL WHERE domain = $1 AND id <> $2")
                .bind(domain)
                .bind(instance.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO instances (id, domain) VALUES ($1, $2)
                 ON CONFLICT (id) DO UPDATE SET domain = excluded.domain",
            )
            .bind(instance.as_str())
            .bind(domain)
            .execute(&mut *tx)
            .await?;
            Ok(())
        }
        .await;
        super::finish(tx, result).await
    }
}
