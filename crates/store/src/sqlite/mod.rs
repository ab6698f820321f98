//! The embedded backend: one SQLite file in WAL mode. Writes go through a single-connection pool
//! (SQLite has one writer anyway, and this avoids busy-retry storms); reads use their own pool.

mod callbacks;
mod calls;
mod clients;
mod instances;
pub mod keys;
mod migrate;
pub(crate) mod queue;
mod sailpoint;
mod secrets;
mod zitadel;

use crate::{Store, StoreResult};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

/// SQLite implementation of [`Store`].
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) read: SqlitePool,
    pub(crate) write: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we acknowledge it. Group commit amortises the fsync.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32768");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        migrate::run(&write).await?;
        // One process owns an SQLite file, so work leased by a previous run of this process
        // (killed mid-delivery) can be taken back at once instead of waiting for its lease.
        let reclaimed = sqlx::query(
            "UPDATE invocations SET status = 'pending', lease_until = NULL WHERE status = 'in_flight'",
        )
        .execute(&write)
        .await?
        .rows_affected();
        if reclaimed > 0 {
            tracing::info!(
                reclaimed,
                "re-queued deliveries that were in flight when the server stopped"
            );
        }
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { read, write })
    }

    /// Closes both pools, flushing the WAL.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The writer connection with `synchronous = NORMAL`: its commits reach the WAL without an fsync.
/// For writes whose loss in a power failure costs nothing but a redelivery (claims, attempt
/// outcomes): the next `FULL` commit (every publish) syncs the WAL, and these with it. The
/// connection goes back to `FULL` on [`Relaxed::release`]; if that does not happen (an error, a
/// dropped future), it is closed instead of returned to the pool.
pub(crate) struct Relaxed {
    pub(crate) conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    restored: bool,
}

impl SqliteStore {
    pub(crate) async fn relaxed_writer(&self) -> StoreResult<Relaxed> {
        let conn = self.write.acquire().await?;
        let mut relaxed = Relaxed {
            conn,
            restored: false,
        };
        sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *relaxed.conn)
            .await?;
        Ok(relaxed)
    }
}

impl Relaxed {
    pub(crate) async fn release(mut self) -> StoreResult<()> {
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *self.conn)
            .await?;
        self.restored = true;
        Ok(())
    }
}

impl Drop for Relaxed {
    fn drop(&mut self) {
        if !self.restored {
            self.conn.close_on_drop();
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }
}
