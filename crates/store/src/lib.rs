//! Storage for Switchyard. The [`Store`] trait is the contract every backend fulfils (embedded
//! SQLite, or PostgreSQL shared by several nodes) and is assembled from one sub-trait per domain so
//! each can evolve on its own. Backends hold no state another node would need; everything durable
//! lives in the database. [`open`] picks the backend from a database URL.
//!
//! Both backends run the same SQL (`sql`, generic over a small `sql::Backend` seam); the backend
//! modules `sqlite` and `postgres` hold only what is particular to their database.

pub mod calls;
pub mod clients;
mod codec;
pub mod error;
pub mod health;
pub mod instances;
pub mod keys;
pub mod policy;
pub mod postgres;
pub mod queue;
pub mod retention;
pub mod sailpoint;
pub mod search;
pub mod secrets;
pub mod sql;
pub mod sqlite;
pub mod target_keys;
pub mod web_keys;
pub mod zitadel;

pub use calls::CallStore;
pub use clients::{ApiClient, ClientKey, ClientStore};
pub use error::{StoreError, StoreResult};
pub use health::RouteHealthStore;
pub use instances::InstanceStore;
pub use policy::PolicyStore;
pub use postgres::{PgBackend, PgStore};
pub use queue::QueueStore;
pub use retention::RetentionStore;
pub use sailpoint::SailPointStore;
pub use search::SearchStore;
pub use secrets::SecretStore;
pub use sql::SqlStore;
pub use sqlite::{SqliteBackend, SqliteStore};
pub use target_keys::TargetKeyStore;
pub use web_keys::WebKeyStore;
pub use zitadel::ZitadelStore;

use async_trait::async_trait;

/// Everything the rest of Switchyard needs from storage.
#[async_trait]
pub trait Store:
    InstanceStore
    + ClientStore
    + ZitadelStore
    + TargetKeyStore
    + WebKeyStore
    + SailPointStore
    + SecretStore
    + QueueStore
    + SearchStore
    + CallStore
    + PolicyStore
    + RetentionStore
    + RouteHealthStore
    + Send
    + Sync
    + 'static
{
    /// Cheap round trip to the database, for `/readyz`.
    async fn ping(&self) -> StoreResult<()>;

    /// Closes the connections (SQLite: flushes the WAL). Calls after this fail with `Unavailable`.
    async fn close(&self);

    /// Ticks whenever any node made work due (Postgres `LISTEN/NOTIFY`), so an idle claimer can
    /// wake at once instead of at its next poll. `None` when the backend has no such signal
    /// (SQLite: one process owns the file and wakes its own claimer).
    fn subscribe_wakeups(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
}

/// Opens the store named by `database_url`: `postgres://…` / `postgresql://…` for PostgreSQL,
/// otherwise (empty) the SQLite file at `sqlite_path`.
pub async fn open(
    database_url: &str,
    sqlite_path: &std::path::Path,
) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    use anyhow::Context;
    if database_url.is_empty() {
        let store = SqliteStore::open(sqlite_path)
            .await
            .with_context(|| format!("opening database {}", sqlite_path.display()))?;
        return Ok(std::sync::Arc::new(store));
    }
    if !is_postgres_url(database_url) {
        anyhow::bail!("database_url must start with postgres:// or postgresql://");
    }
    let store = PgStore::open(database_url)
        .await
        .context("connecting to PostgreSQL (database_url)")?;
    Ok(std::sync::Arc::new(store))
}

/// Creates the database if needed (SQLite) and applies pending migrations, nothing else: no
/// listener, no claims, no reclaiming of leased work (`switchyard migrate`).
pub async fn migrate(database_url: &str, sqlite_path: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if database_url.is_empty() {
        return sqlite::migrate(sqlite_path)
            .await
            .with_context(|| format!("migrating database {}", sqlite_path.display()));
    }
    if !is_postgres_url(database_url) {
        anyhow::bail!("database_url must start with postgres:// or postgresql://");
    }
    postgres::migrate(database_url)
        .await
        .context("migrating PostgreSQL (database_url)")
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
