//! The embedded backend: one SQLite file in WAL mode, owned by one process. Writes go through a
//! single-connection pool (SQLite has one writer anyway, and this avoids busy-retry storms, and
//! makes every check-then-write rule race free without locks); reads use their own pool.

use crate::sql::migrate::{self, schema, Migration};
use crate::sql::{Backend, Relaxed, SqlStore, Stmt};
use crate::StoreResult;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::path::Path;
use std::time::Duration;

/// SQLite's part of the store: the two pools.
pub struct SqliteBackend {
    read: SqlitePool,
    write: SqlitePool,
}

/// The store on an SQLite file.
pub type SqliteStore = SqlStore<SqliteBackend>;

impl Backend for SqliteBackend {
    type Db = Sqlite;

    const LOCK: Option<&'static str> = None;
    const NOTIFY: Option<&'static str> = None;
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const DOC_DISABLED: &'static str = "json_set(doc, '$.enabled', json('false'))";
    /// SQLite allows 32766 bound parameters per statement; 16 per invocation row.
    const ROWS_PER_STATEMENT: usize = 500;
    // `synchronous` cannot change inside a transaction, so it is set around it; the one writer
    // connection is FULL again before anything else uses it.
    const RELAXED: Relaxed = Relaxed {
        begin: "PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE",
        commit: "COMMIT; PRAGMA synchronous = FULL",
        rollback: "ROLLBACK; PRAGMA synchronous = FULL",
    };
    const MIGRATIONS: &'static [Migration] = schema!("sqlite");

    fn reader(&self) -> &SqlitePool {
        &self.read
    }

    fn writer(&self) -> &SqlitePool {
        &self.write
    }

    /// Old page images (in the WAL and in free pages) still hold the values sealed with the
    /// retired key: rewrite the file and empty the WAL so nothing of them is left.
    async fn scrub(&self) -> StoreResult<()> {
        let mut conn = self.write.acquire().await?;
        Stmt::new("VACUUM").execute(&mut conn).await?;
        Stmt::new("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before we acknowledge it. Group commit amortises the fsync.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-32768")
}

async fn writer(path: &Path) -> anyhow::Result<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options(path))
        .await?)
}

/// Creates the file if needed and applies pending migrations; nothing else.
pub(crate) async fn migrate(path: &Path) -> anyhow::Result<()> {
    let pool = writer(path).await?;
    migrate::run::<SqliteBackend>(&pool).await?;
    pool.close().await;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and runs pending migrations.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        let write = writer(path).await?;
        migrate::run::<SqliteBackend>(&write).await?;
        // One process owns an SQLite file, so work leased by a previous run of this process
        // (killed mid-delivery) can be taken back at once instead of waiting for its lease.
        let reclaimed = Stmt::new(
            "UPDATE invocations SET status = 'pending', lease_until = NULL WHERE status = 'in_flight'",
        )
        .execute(&mut write.acquire().await?)
        .await?;
        // Nothing is in flight any more, so no gate slot is taken either.
        Stmt::new("UPDATE route_gates SET in_flight = 0 WHERE in_flight > 0")
            .execute(&mut write.acquire().await?)
            .await?;
        if reclaimed > 0 {
            tracing::info!(
                reclaimed,
                "re-queued deliveries that were in flight when the server stopped"
            );
        }
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options(path).read_only(true))
            .await?;
        Ok(SqlStore {
            db: SqliteBackend { read, write },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QueueStore;
    use switchyard_core::Timestamp;

    async fn synchronous(store: &SqliteStore) -> i64 {
        let (level,): (i64,) = Stmt::new("PRAGMA synchronous")
            .fetch_one(&mut store.write().await.unwrap())
            .await
            .unwrap();
        level
    }

    #[tokio::test]
    async fn relaxed_writes_leave_the_writer_durable() {
        let dir = std::env::temp_dir().join(format!("sy-rx-{}", switchyard_core::ids::hex_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
        const FULL: i64 = 2;
        assert_eq!(synchronous(&store).await, FULL);
        store
            .claim_due(Timestamp(1), Timestamp(2), 10)
            .await
            .unwrap();
        assert_eq!(synchronous(&store).await, FULL, "after a finished claim");
        // A relaxed transaction that never finishes (an error, a dropped future) takes its
        // connection with it: the next writer is a fresh, durable one.
        let tx = store.begin_relaxed().await.unwrap();
        drop(tx);
        assert_eq!(synchronous(&store).await, FULL, "after an abandoned one");
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
