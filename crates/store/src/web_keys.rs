//! Storage contract for an instance's web keys: the key pairs that sign JWT payloads and are
//! published at `/oauth/v2/keys`. The private key is stored sealed (the caller seals and opens);
//! the public JWK is stored as published. One key is current; after a rotation the previous ones
//! stay published until their grace period ends, so receivers holding a cached JWKS keep
//! verifying.

use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::jose::web_key::WebKeyAlgorithm;
use switchyard_core::{InstanceId, Timestamp};

/// A stored web key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWebKey {
    pub key_id: String,
    pub algorithm: WebKeyAlgorithm,
    /// The PKCS#8 DER private key, sealed with the master key.
    pub sealed: String,
    /// The public JWK as published.
    pub public_jwk: serde_json::Value,
    pub created_at: Timestamp,
    /// `None` for the current key; set for a previous key still published until then.
    pub expires_at: Option<Timestamp>,
}

#[async_trait]
pub trait WebKeyStore {
    /// The current key first, then the previous keys still published at `now`.
    async fn web_keys(
        &self,
        instance: &InstanceId,
        now: Timestamp,
    ) -> StoreResult<Vec<StoredWebKey>>;

    /// Stores `key` as the current key unless the instance has one already (another node may
    /// have generated it first); returns the current key either way.
    async fn ensure_web_key(
        &self,
        instance: &InstanceId,
        key: &StoredWebKey,
    ) -> StoreResult<StoredWebKey>;

    /// Makes `key` the current key; the keys current until now stay published for `grace_ms`
    /// (0: withdrawn at once). Expired keys are purged.
    async fn rotate_web_key(
        &self,
        instance: &InstanceId,
        key: &StoredWebKey,
        grace_ms: i64,
        now: Timestamp,
    ) -> StoreResult<()>;
}
