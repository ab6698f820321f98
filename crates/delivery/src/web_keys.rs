//! An instance's web keys as the engine and the API use them: generated on first use (off the
//! async executor; RSA key generation takes a while), sealed with the master key at rest,
//! rotatable with a grace period during which the previous key stays published. Signers are
//! cached per instance for a short time, so a rotation made through another node is picked up
//! within `ROUTE_CACHE_TTL_MS`.

use crate::routing::ROUTE_CACHE_TTL_MS;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_core::crypto::MasterKey;
use switchyard_core::ids::hex_id;
use switchyard_core::jose::web_key::{self, WebKeyAlgorithm, WebKeySigner};
use switchyard_core::jose::JoseError;
use switchyard_core::{Clock, InstanceId, Timestamp};
use switchyard_store::web_keys::StoredWebKey;
use switchyard_store::{Store, StoreError};

/// Why no web key could be used.
#[derive(Debug, thiserror::Error)]
pub enum WebKeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jose(#[from] JoseError),
    #[error("web key {0} cannot be opened with the master key: {1}")]
    Sealed(String, String),
    #[error("web key generation was interrupted")]
    Interrupted,
}

struct Cached {
    signer: WebKeySigner,
    until: Timestamp,
}

/// The web keys of every instance.
pub struct WebKeys {
    store: Arc<dyn Store>,
    master: MasterKey,
    clock: Arc<dyn Clock>,
    algorithm: WebKeyAlgorithm,
    signers: Mutex<HashMap<InstanceId, Cached>>,
}

impl std::fmt::Debug for WebKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebKeys({})", self.algorithm.as_str())
    }
}

impl WebKeys {
    /// `algorithm` is what new keys use (RS256 unless configured otherwise).
    pub fn new(
        store: Arc<dyn Store>,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        algorithm: WebKeyAlgorithm,
    ) -> Self {
        Self {
            store,
            master,
            clock,
            algorithm,
            signers: Mutex::new(HashMap::new()),
        }
    }

    /// Generates and seals a key pair on the blocking pool.
    async fn generate(&self, algorithm: WebKeyAlgorithm) -> Result<StoredWebKey, WebKeyError> {
        let kid = hex_id();
        let now = self.clock.now();
        let master = self.master.clone();
        tokio::task::spawn_blocking(move || -> Result<StoredWebKey, WebKeyError> {
            let key = web_key::generate(algorithm, &kid, &mut rand::thread_rng())?;
            Ok(StoredWebKey {
                sealed: master.seal(&key.private_pkcs8),
                key_id: kid,
                algorithm,
                public_jwk: key.public_jwk,
                created_at: now,
                expires_at: None,
            })
        })
        .await
        .map_err(|_| WebKeyError::Interrupted)?
    }

    /// The instance's keys, current first, generating the first one if there is none.
    async fn keys(&self, instance: &InstanceId) -> Result<Vec<StoredWebKey>, WebKeyError> {
        let keys = self.store.web_keys(instance, self.clock.now()).await?;
        if keys.first().is_some_and(|k| k.expires_at.is_none()) {
            return Ok(keys);
        }
        let fresh = self.generate(self.algorithm).await?;
        self.store.ensure_web_key(instance, &fresh).await?;
        Ok(self.store.web_keys(instance, self.clock.now()).await?)
    }

    /// The signer of the instance's current key.
    pub async fn signer(&self, instance: &InstanceId) -> Result<WebKeySigner, WebKeyError> {
        let now = self.clock.now();
        if let Some(c) = self.lock().get(instance).filter(|c| c.until > now) {
            return Ok(c.signer.clone());
        }
        let keys = self.keys(instance).await?;
        let current = keys.first().ok_or(WebKeyError::Interrupted)?;
        let der = self
            .master
            .open(&current.sealed)
            .map_err(|e| WebKeyError::Sealed(current.key_id.clone(), e.to_string()))?;
        let signer = WebKeySigner::new(&current.key_id, current.algorithm, &der)?;
        self.lock().insert(
            instance.clone(),
            Cached {
                signer: signer.clone(),
                until: now.plus_millis(ROUTE_CACHE_TTL_MS),
            },
        );
        Ok(signer)
    }

    /// The JWKS of the instance: `{"keys": [...]}`, current key first, then the previous keys
    /// still in their grace period. Reading it never generates a key (it is public, and
    /// instances are implicit): an instance that has not signed anything yet has none.
    pub async fn jwks(&self, instance: &InstanceId) -> Result<Value, WebKeyError> {
        let keys = self.store.web_keys(instance, self.clock.now()).await?;
        Ok(json!({"keys": keys.into_iter().map(|k| k.public_jwk).collect::<Vec<_>>()}))
    }

    /// Replaces the current key with a new one (`algorithm`, or the configured one); the
    /// previous key stays published for `grace`. Returns the new key id.
    pub async fn rotate(
        &self,
        instance: &InstanceId,
        algorithm: Option<WebKeyAlgorithm>,
        grace: Duration,
    ) -> Result<StoredWebKey, WebKeyError> {
        let fresh = self.generate(algorithm.unwrap_or(self.algorithm)).await?;
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        self.store
            .rotate_web_key(instance, &fresh, grace_ms, self.clock.now())
            .await?;
        self.lock().remove(instance);
        Ok(fresh)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<InstanceId, Cached>> {
        self.signers.lock().unwrap_or_else(|e| e.into_inner())
    }
}
