//! SQLite implementation of [`ClientStore`]. Scopes and limits are stored as their text forms and
//! parsed back on read; a row that no longer parses is reported as an internal error rather than
//! silently granting defaults.

use super::SqliteStore;
use crate::clients::{ApiClient, ClientStore};
use crate::error::is_unique_violation;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::Row;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
impl ClientStore for SqliteStore {
    async fn create_client(&self, c: &ApiClient) -> StoreResult<()> {
        let result = sqlx::query(
            "INSERT INTO api_clients
               (id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&c.id)
        .bind(c.instance.as_str())
        .bind(&c.secret_hash)
        .bind(c.scopes.to_string())
        .bind(c.management_limit.map(|l| l.to_string()))
        .bind(c.producer_limit.map(|l| l.to_string()))
        .bind(c.created_at.millis())
        .execute(&self.write)
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
             FROM api_clients WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn clients_round_trip_and_ids_are_unique() {
        let dir =
            std::env::temp_dir().join(format!("sy-clients-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        let c = ApiClient {
            id: "c1".into(),
            instance: InstanceId::parse("acme").unwrap(),
            secret_hash: switchyard_core::crypto::hash_secret("s"),
            scopes: Scopes::parse("targets:read events:publish").unwrap(),
            management_limit: Some(RateLimit::parse("5/1s").unwrap()),
            producer_limit: None,
            created_at: Timestamp::from_millis(42),
        };
        store.create_client(&c).await.unwrap();
        assert_eq!(store.client("c1").await.unwrap(), Some(c.clone()));
        assert_eq!(store.client("c2").await.unwrap(), None);
        assert!(matches!(
            store.create_client(&c).await,
            Err(StoreError::AlreadyExists(_))
        ));
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
