//! Which targets a call condition reaches, resolved once and cached: the best-matching
//! execution (method > service > all, includes flattened, list order) with each target's URL,
//! timeout, type, opened signing keys and payload encoding (with the active JWE key). A cached
//! chain is dropped when the instance's routes change ([`ChainCache::invalidate`], called by the
//! API's invalidation middleware) or when a signing key it holds leaves its rotation grace
//! period, or its JWE key expires.

use crate::payload_type::PayloadEncoding;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_core::crypto::MasterKey;
use switchyard_core::delivery_url::{is_sealed, DeliveryUrl};
use switchyard_core::zitadel::{Condition, TargetType};
use switchyard_core::{Clock, InstanceId, Timestamp};
use switchyard_store::{Store, StoreError, StoreResult};

/// Upper bound on cached conditions per node; callers choose method names, so the cache must
/// not grow without limit. Past it the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// One target of a chain, ready to call.
#[derive(Debug, Clone)]
pub struct ChainTarget {
    pub id: String,
    pub name: String,
    pub url: DeliveryUrl,
    pub timeout: Duration,
    pub kind: TargetType,
    /// Opened `ZITADEL-Signature` keys, current first; every one signs.
    pub keys: Vec<String>,
    /// JSON, or the JSON as a JWS or JWE with the target's active key
    /// ([`crate::payload_type`]).
    pub payload: PayloadEncoding,
}

impl ChainTarget {
    /// How errors name the target: `'name' (id)`.
    pub fn label(&self) -> String {
        format!("'{}' ({})", self.name, self.id)
    }
}

/// The targets of the execution that matched a condition, in list order.
#[derive(Debug, Clone)]
pub struct Chain {
    pub targets: Vec<ChainTarget>,
}

struct Entry {
    chain: Option<Arc<Chain>>,
    valid_until: Option<Timestamp>,
}

/// Store-backed cache of chains per (instance, condition).
pub struct ChainCache {
    store: Arc<dyn Store>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    entries: RwLock<HashMap<(InstanceId, Condition), Entry>>,
}

impl ChainCache {
    pub fn new(store: Arc<dyn Store>, master_key: MasterKey, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            master_key,
            clock,
            entries: RwLock::default(),
        }
    }

    /// The chain for `condition` (`None`: no execution matches).
    pub async fn get(
        &self,
        instance: &InstanceId,
        condition: &Condition,
    ) -> StoreResult<Option<Arc<Chain>>> {
        let now = self.clock.now();
        let key = (instance.clone(), condition.clone());
        if let Some(e) = self
            .entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if e.valid_until.is_none_or(|t| t > now) {
                return Ok(e.chain.clone());
            }
        }
        let entry = self.resolve(instance, condition, now).await?;
        let chain = entry.chain.clone();
        let mut map = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, entry);
        Ok(chain)
    }

    /// Forgets every chain of `instance`.
    pub fn invalidate(&self, instance: &InstanceId) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _), _| i != instance);
    }

    async fn resolve(
        &self,
        instance: &InstanceId,
        condition: &Condition,
        now: Timestamp,
    ) -> StoreResult<Entry> {
        let Some(exec) = self.store.resolve_execution(instance, condition).await? else {
            return Ok(Entry {
                chain: None,
                valid_until: Some(crate::routing::cache_until(now, None)),
            });
        };
        let mut valid_until: Option<Timestamp> = None;
        let mut targets = Vec::with_capacity(exec.targets.len());
        for t in exec.targets {
            let sealed = self.store.target_signing_keys(instance, &t.id, now).await?;
            let (payload, key_expiry) = PayloadEncoding::resolve(
                self.store.as_ref(),
                instance,
                &t.id,
                t.config.payload_type,
                now,
            )
            .await?;
            let expiries = sealed.iter().filter_map(|k| k.expires_at).chain(key_expiry);
            if let Some(exp) = expiries.min() {
                valid_until = Some(valid_until.map_or(exp, |v| v.min(exp)));
            }
            let keys = sealed
                .iter()
                .map(|k| {
                    self.master_key.open_str(&k.sealed).map_err(|e| {
                        StoreError::Internal(anyhow::anyhow!("cannot open a signing key: {e}"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            targets.push(ChainTarget {
                name: t.config.name.as_str().to_string(),
                id: t.id,
                url: t.config.endpoint.url().map_password(|p| {
                    if is_sealed(p) {
                        self.master_key.open_str(p).map_err(|e| {
                            StoreError::Internal(anyhow::anyhow!("cannot open a URL password: {e}"))
                        })
                    } else {
                        Ok(p.to_string())
                    }
                })?,
                timeout: t.config.timeout.duration(),
                kind: t.config.target_type,
                payload,
                keys,
            });
        }
        Ok(Entry {
            chain: Some(Arc::new(Chain { targets })),
            valid_until: Some(crate::routing::cache_until(now, valid_until)),
        })
    }
}
