//! Storage contract for the public keys of ZITADEL targets (`AddPublicKey` and friends): JWE
//! payloads are encrypted to a target's active key. The rules that involve more than one key
//! (one active key per target; only inactive keys may be removed; a target holds a bounded
//! number of keys) are kept here, each in one transaction, so two nodes cannot break them.

use crate::zitadel::Listing;
use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::zitadel::Page;
use switchyard_core::{InstanceId, Timestamp};

/// Most public keys one target may hold.
pub const MAX_KEYS_PER_TARGET: usize = 20;

/// A stored public key of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPublicKey {
    pub key_id: String,
    /// The PEM as it was sent.
    pub public_key: String,
    pub fingerprint: String,
    pub active: bool,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub changed_at: Timestamp,
}

impl StoredPublicKey {
    /// Past its expiration date at `now`: no longer used.
    pub fn expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// A key to add; new keys start inactive.
#[derive(Debug, Clone)]
pub struct NewPublicKey {
    pub key_id: String,
    pub public_key: String,
    pub fingerprint: String,
    pub expires_at: Option<Timestamp>,
}

/// How a timestamp filter compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampMethod {
    Equals,
    After,
    AfterOrEquals,
    Before,
    BeforeOrEquals,
}

/// A public-key filter; all filters of a query must match.
#[derive(Debug, Clone)]
pub enum PublicKeyFilter {
    Active(bool),
    /// Compares the expiration date; a key that never expires is later than every date.
    Expiration(TimestampMethod, Timestamp),
    Ids(Vec<String>),
}

/// Sort order of a public-key listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PublicKeySort {
    #[default]
    CreationDate,
    ChangeDate,
    ExpirationDate,
}

/// A public-key listing request.
#[derive(Debug, Clone, Default)]
pub struct PublicKeyQuery {
    pub filters: Vec<PublicKeyFilter>,
    pub sort: PublicKeySort,
    pub page: Page,
}

#[async_trait]
pub trait TargetKeyStore {
    /// Adds an inactive key. `NotFound` (no such target), `Conflict` (the target holds
    /// [`MAX_KEYS_PER_TARGET`] keys), `AlreadyExists` (key id taken).
    async fn add_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key: &NewPublicKey,
        now: Timestamp,
    ) -> StoreResult<StoredPublicKey>;

    /// Makes the key the target's one active key (the previous active key is deactivated).
    /// `NotFound`; `Conflict` when the key has expired.
    async fn activate_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp>;

    /// `NotFound` when there is no such key.
    async fn deactivate_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp>;

    /// Removes an inactive key. `NotFound`; `Conflict` when the key is active.
    async fn remove_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        key_id: &str,
        now: Timestamp,
    ) -> StoreResult<Timestamp>;

    /// `NotFound` when there is no such target.
    async fn list_public_keys(
        &self,
        instance: &InstanceId,
        target_id: &str,
        query: &PublicKeyQuery,
    ) -> StoreResult<Listing<StoredPublicKey>>;

    /// Delivery hand-off: the target's active key unless it has expired at `now`.
    async fn active_public_key(
        &self,
        instance: &InstanceId,
        target_id: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredPublicKey>>;
}
