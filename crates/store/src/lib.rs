//! Storage for Switchyard. The [`Store`] trait is the contract every backend fulfils (SQLite now,
//! PostgreSQL later) and is assembled from one sub-trait per domain so each can evolve on its own.
//! Backends hold no state another node would need; everything durable lives in the database.

pub mod calls;
pub mod clients;
pub mod error;
pub mod instances;
pub mod keys;
pub mod queue;
pub mod sailpoint;
pub mod secrets;
pub mod sqlite;
pub mod zitadel;

pub use calls::CallStore;
pub use clients::{ApiClient, ClientStore};
pub use error::{StoreError, StoreResult};
pub use instances::InstanceStore;
pub use queue::QueueStore;
pub use sailpoint::SailPointStore;
pub use secrets::SecretStore;
pub use sqlite::SqliteStore;
pub use zitadel::ZitadelStore;

use async_trait::async_trait;

/// Everything the rest of Switchyard needs from storage.
#[async_trait]
pub trait Store:
    InstanceStore
    + ClientStore
    + ZitadelStore
    + SailPointStore
    + SecretStore
    + QueueStore
    + CallStore
    + Send
    + Sync
    + 'static
{
    /// Cheap round trip to the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;
}
