//! API clients. Scopes and limits are stored as their text forms and parsed back on read; a row
//! that no longer parses is an internal error rather than a silent grant of defaults.

use super::backend::{Backend, SqlStore};
use super::{finish, sql_row, Conn, Stmt};
use crate::clients::{ApiClient, ClientKey, ClientStore};
use crate::error::is_unique_violation;
use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::{InstanceId, Timestamp};

sql_row! {
    struct ClientRow {
        id: String,
        instance_id: InstanceId,
        secret_hash: String,
        scopes: String,
        management_limit: Option<String>,
        producer_limit: Option<String>,
        created_at: Timestamp,
    }
}

impl ClientRow {
    fn decode(self) -> StoreResult<ApiClient> {
        let corrupt = |what: &str| {
            StoreError::Internal(anyhow::anyhow!("api_clients row {}: bad {what}", self.id))
        };
        let limit = |v: &Option<String>, what: &str| -> StoreResult<Option<RateLimit>> {
            v.as_deref()
                .map(|s| RateLimit::parse(s).map_err(|_| corrupt(what)))
                .transpose()
        };
        Ok(ApiClient {
            scopes: Scopes::parse(&self.scopes).map_err(|_| corrupt("scopes"))?,
            management_limit: limit(&self.management_limit, "management_limit")?,
            producer_limit: limit(&self.producer_limit, "producer_limit")?,
            id: self.id,
            instance: self.instance_id,
            secret_hash: self.secret_hash,
            created_at: self.created_at,
        })
    }
}

sql_row! {
    struct ClientKeyRow {
        client_id: String,
        key_id: String,
        public_key: String,
        created_at: Timestamp,
        expires_at: Option<Timestamp>,
    }
}

async fn insert_client<C: Conn>(conn: &mut C, c: &ApiClient) -> StoreResult<()> {
    let result = Stmt::new(
        "INSERT INTO api_clients
           (id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&c.id)
    .bind(&c.instance)
    .bind(&c.secret_hash)
    .bind(c.scopes.to_string())
    .bind(c.management_limit.map(|l| l.to_string()))
    .bind(c.producer_limit.map(|l| l.to_string()))
    .bind(c.created_at)
    .execute(conn)
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

#[async_trait]
impl<B: Backend> ClientStore for SqlStore<B> {
    async fn create_client_with_key(&self, c: &ApiClient, key: &ClientKey) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            insert_client(&mut tx, c).await?;
            Stmt::new(
                "INSERT INTO api_client_keys (client_id, key_id, public_key, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key.client_id.as_str())
            .bind(key.key_id.as_str())
            .bind(key.public_key.as_str())
            .bind(key.created_at)
            .bind(key.expires_at)
            .execute(&mut tx)
            .await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }

    async fn client_key(&self, client_id: &str, key_id: &str) -> StoreResult<Option<ClientKey>> {
        let row: Option<ClientKeyRow> = Stmt::new(
            "SELECT client_id, key_id, public_key, created_at, expires_at
             FROM api_client_keys WHERE client_id = $1 AND key_id = $2",
        )
        .bind(client_id)
        .bind(key_id)
        .fetch_optional(&mut self.read().await?)
        .await?;
        Ok(row.map(|r| ClientKey {
            client_id: r.client_id,
            key_id: r.key_id,
            public_key: r.public_key,
            created_at: r.created_at,
            expires_at: r.expires_at,
        }))
    }

    async fn create_client(&self, c: &ApiClient) -> StoreResult<()> {
        insert_client(&mut self.write().await?, c).await
    }

    async fn client(&self, id: &str) -> StoreResult<Option<ApiClient>> {
        let row: Option<ClientRow> = Stmt::new(
            "SELECT id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at
             FROM api_clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut self.read().await?)
        .await?;
        row.map(ClientRow::decode).transpose()
    }

    async fn clients(&self, instance: &InstanceId) -> StoreResult<Vec<ApiClient>> {
        let rows: Vec<ClientRow> = Stmt::new(
            "SELECT id, instance_id, secret_hash, scopes, management_limit, producer_limit, created_at
             FROM api_clients WHERE instance_id = $1 ORDER BY created_at, id",
        )
        .bind(instance)
        .fetch_all(&mut self.read().await?)
        .await?;
        rows.into_iter().map(ClientRow::decode).collect()
    }

    async fn delete_client(&self, instance: &InstanceId, id: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let result = async {
            let n = Stmt::new("DELETE FROM api_clients WHERE instance_id = $1 AND id = $2")
                .bind(instance)
                .bind(id)
                .execute(&mut tx)
                .await?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            // Its key-file keys go with it: a revoked client cannot sign in with its key file.
            Stmt::new("DELETE FROM api_client_keys WHERE client_id = $1")
                .bind(id)
                .execute(&mut tx)
                .await?;
            Ok(())
        }
        .await;
        finish(tx, result).await
    }
}
