//! Storage contract for the zitadel dialect's resources.

use async_trait::async_trait;

#[async_trait]
pub trait ZitadelStore {}
