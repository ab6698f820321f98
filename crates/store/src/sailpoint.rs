//! Storage contract for the sailpoint dialect's resources.

use async_trait::async_trait;

#[async_trait]
pub trait SailPointStore {}
