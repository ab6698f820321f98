//! SQLite implementation of [`InstanceStore`].

use super::SqliteStore;
use crate::{InstanceStore, StoreResult};
use async_trait::async_trait;
use switchyard_core::InstanceId;

#[async_trait]
impl InstanceStore for SqliteStore {
    async fn instance_by_domain(&self, domain: &str) -> StoreResult<Option<InstanceId>> {
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM instances WHERE domain = ?")
            .bind(domain)
            .fetch_optional(&self.read)
            .await?;
        Ok(id.and_then(|s| InstanceId::parse(&s).ok()))
    }

    async fn bind_domain(&self, instance: &InstanceId, domain: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("UPDATE instances SET domain = NULL WHERE domain = ? AND id <> ?")
            .bind(domain)
            .bind(instance.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO instances (id, domain) VALUES (?, ?)
             ON CONFLICT(id) DO UPDATE SET domain = excluded.domain",
        )
        .bind(instance.as_str())
        .bind(domain)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
