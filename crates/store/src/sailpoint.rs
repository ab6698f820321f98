//! Storage contract for the SailPoint dialect: custom triggers and trigger subscriptions (with
//! their Standard Webhooks signing secrets). Subscriptions cross this boundary with their secrets
//! sealed by the master key; the store never sees plaintext.

use crate::keys::SealedKey;
use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::sailpoint::{Subscription, TriggerDefinition};
use switchyard_core::{InstanceId, Timestamp};

#[async_trait]
pub trait SailPointStore {
    /// Stores a new subscription and its first signing key in one transaction. Fails with
    /// `Conflict` when the trigger already has `max_per_trigger` subscriptions in the instance, or
    /// when the trigger is neither built-in nor one of the instance's custom triggers.
    async fn create_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        max_per_trigger: u32,
        signing_key: &SealedKey,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// One subscription (secrets sealed); `NotFound` if absent.
    async fn subscription(&self, instance: &InstanceId, id: &str) -> StoreResult<Subscription>;

    /// Every subscription of the instance, oldest first.
    async fn subscriptions(&self, instance: &InstanceId) -> StoreResult<Vec<Subscription>>;

    /// Every subscription of one trigger in the instance (enabled or not), oldest first: what the
    /// delivery engine fans an event out to.
    async fn trigger_subscriptions(
        &self,
        instance: &InstanceId,
        trigger_id: &str,
    ) -> StoreResult<Vec<Subscription>>;

    /// Replaces a subscription (same id and trigger); `NotFound` if absent.
    async fn update_subscription(
        &self,
        instance: &InstanceId,
        sub: &Subscription,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Deletes a subscription and its signing keys; `NotFound` if absent.
    async fn delete_subscription(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The subscription's signing keys valid at `now`, current first; `NotFound` if the
    /// subscription does not exist.
    async fn subscription_keys(
        &self,
        instance: &InstanceId,
        id: &str,
        now: Timestamp,
    ) -> StoreResult<Vec<SealedKey>>;

    /// Makes `key` the subscription's current signing key; older keys stay valid for `grace_ms`.
    async fn rotate_subscription_key(
        &self,
        instance: &InstanceId,
        id: &str,
        key: &SealedKey,
        grace_ms: i64,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Registers a custom trigger; `AlreadyExists` if the id is taken in the instance.
    async fn create_trigger(
        &self,
        instance: &InstanceId,
        def: &TriggerDefinition,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The instance's custom triggers, oldest first.
    async fn custom_triggers(&self, instance: &InstanceId) -> StoreResult<Vec<TriggerDefinition>>;

    /// Deletes a custom trigger; `NotFound` if absent, `Conflict` while subscriptions use it.
    async fn delete_trigger(&self, instance: &InstanceId, id: &str) -> StoreResult<()>;
}
