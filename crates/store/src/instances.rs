//! Instances (tenants). Resources are created in an instance implicitly; a domain can be bound to
//! an instance so clients may select it with `instance.domain`.

use crate::StoreResult;
use async_trait::async_trait;
use switchyard_core::InstanceId;

#[async_trait]
pub trait InstanceStore {
    /// The instance bound to `domain`, if any.
    async fn instance_by_domain(&self, domain: &str) -> StoreResult<Option<InstanceId>>;
    /// Binds `domain` to `instance` (creating the instance row), replacing an older binding.
    async fn bind_domain(&self, instance: &InstanceId, domain: &str) -> StoreResult<()>;
}
