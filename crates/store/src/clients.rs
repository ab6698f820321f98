//! Storage contract for API clients: the identities that exchange a client id and secret for a
//! token at `/oauth/token`. The store keeps only the secret's digest; hashing and verifying happen
//! in the caller with `switchyard_core::crypto`.

use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::{InstanceId, Timestamp};

/// A stored API client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    /// Globally unique: the token endpoint is told only the id, not the instance.
    pub id: String,
    pub instance: InstanceId,
    /// `hash_secret` digest of the client secret.
    pub secret_hash: String,
    /// Scopes put into the client's tokens.
    pub scopes: Scopes,
    /// Overrides the server-wide management API limit for this client.
    pub management_limit: Option<RateLimit>,
    /// Overrides the server-wide producer API limit for this client.
    pub producer_limit: Option<RateLimit>,
    pub created_at: Timestamp,
}

/// A public key of a client, for the JWT profile grant: the client signs an assertion with the
/// private key (which exists only in the key file it was given) and names this key's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub client_id: String,
    pub key_id: String,
    /// SubjectPublicKeyInfo PEM.
    pub public_key: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

#[async_trait]
pub trait ClientStore {
    /// Stores a new client; `AlreadyExists` if the id is taken.
    async fn create_client(&self, client: &ApiClient) -> StoreResult<()>;
    /// The client with this id, in whichever instance it lives.
    async fn client(&self, id: &str) -> StoreResult<Option<ApiClient>>;
    /// The instance's clients, oldest first.
    async fn clients(&self, instance: &InstanceId) -> StoreResult<Vec<ApiClient>>;
    /// Deletes the instance's client `id` (revocation: its tokens stop being accepted);
    /// `NotFound` when the instance has no such client.
    async fn delete_client(&self, instance: &InstanceId, id: &str) -> StoreResult<()>;
    /// Stores a new client and its public key in one transaction.
    async fn create_client_with_key(&self, client: &ApiClient, key: &ClientKey) -> StoreResult<()>;
    /// The client's key with this id.
    async fn client_key(&self, client_id: &str, key_id: &str) -> StoreResult<Option<ClientKey>>;
}
