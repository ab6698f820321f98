//! PostgreSQL implementation of [`ClientStore`]; rows are read back through the same parsers as
//! SQLite's, so a damaged row is an internal error rather than a silent default.

use super::PgStore;
use crate::clients::{ApiClient, ClientStore};
use crate::error::is_unique_violation;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::Row;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
impl ClientStore for PgStore {
    async fn create_client(&self, c: &ApiClient) -> StoreResult<()> {
        let result = sqlx::query(
            "INSERT INTO api_clients
               (id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&c.id)
        .bind(c.instance.as_str())
        .bind(&c.secret_hash)
        .bind(c.scopes.to_string())
        .bind(c.management_limit.map(|l| l.to_string()))
        .bind(c.producer_limit.map(|l| l.to_string()))
        .bind(c.created_at.millis())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(format!(
                "a client with id '{}' already exists",
                c.id
            ))),
            Err(e) => Err(e.into()),
        }
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ApiClient>> {
        let row = sqlx::query(
            "SELECT id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at
             FROM api_clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let corrupt =
            |what: &str| StoreError::Internal(anyhow::anyhow!("api_clients row {id}: bad {what}"));
        let limit = |v: Option<String>, what: &str| -> StoreResult<Option<RateLimit>> {
            v.map(|s| RateLimit::parse(&s).map_err(|_| corrupt(what)))
                .transpose()
        };
        Ok(Some(ApiClient {
            id: row.try_get("id")?,
            instance: InstanceId::parse(&row.try_get::<String, _>("instance_id")?)
                .map_err(|_| corrupt("instance_id"))?,
            secret_hash: row.try_get("secret_hash")?,
            scopes: Scopes::parse(&row.try_get::<String, _>("scopes")?)
                .map_err(|_| corrupt("scopes"))?,
            management_limit: limit(row.try_get("management_limit")?, "management_limit")?,
            producer_limit: limit(row.try_get("producer_limit")?, "producer_limit")?,
            created_at: Timestamp::from_millis(row.try_get("created_at")?),
        }))
    }
}
