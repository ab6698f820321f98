//! The seam between the shared SQL and a database: [`Backend`]. It is deliberately small; if a
//! new store operation seems to need another method here, first look for SQL both databases
//! accept. [`SqlStore`] is the store itself, generic over the backend.

use super::migrate::Migration;
use super::{Sql, Stmt};
use crate::{Store, StoreResult};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};
use std::future::Future;
use tokio::sync::watch;

/// What differs between SQLite and PostgreSQL.
pub trait Backend: Send + Sync + 'static {
    type Db: Sql;

    /// Statement that takes a transaction-scoped lock on the text bound as `$1`, serialising
    /// check-then-write rules between nodes. `None`: a single writer serialises them already.
    const LOCK: Option<&'static str>;
    /// Statement that wakes every node's claimer when the transaction commits. `None`: the
    /// process that owns the database wakes its own claimer.
    const NOTIFY: Option<&'static str>;
    /// Appended to a read whose rows the transaction is about to change ("" where the writer is
    /// alone).
    const FOR_UPDATE: &'static str;
    /// Appended to a claiming read: rows another node is claiming are skipped, not waited for.
    const SKIP_LOCKED: &'static str;
    /// Expression: the `doc` column (a subscription document) with `enabled` set to false.
    const DOC_DISABLED: &'static str;
    /// Rows per multi-row statement (bound parameters are limited per statement).
    const ROWS_PER_STATEMENT: usize;
    /// How a [`RelaxedTx`] begins, commits and rolls back: statements run in order on its
    /// connection (see there).
    const RELAXED: Relaxed;
    /// The schema, version by version.
    const MIGRATIONS: &'static [Migration];

    /// Connections for reads.
    fn reader(&self) -> &Pool<Self::Db>;
    /// Connections for writes.
    fn writer(&self) -> &Pool<Self::Db>;

    /// After every secret was re-sealed: drop old ciphertext the database keeps elsewhere.
    fn scrub(&self) -> impl Future<Output = StoreResult<()>> + Send {
        async { Ok(()) }
    }

    /// Stops background work and closes the pools.
    fn close(&self) -> impl Future<Output = ()> + Send;

    /// See [`Store::subscribe_wakeups`].
    fn subscribe_wakeups(&self) -> Option<watch::Receiver<u64>> {
        None
    }
}

/// The store: the shared SQL over one backend.
pub struct SqlStore<B> {
    pub(crate) db: B,
}

/// A write transaction of backend `B`.
pub type Tx<B> = Transaction<'static, <B as Backend>::Db>;

/// The statements of a [`RelaxedTx`], each run as one script (one round trip).
pub struct Relaxed {
    pub begin: &'static str,
    pub commit: &'static str,
    pub rollback: &'static str,
}

/// A write transaction whose commit does not wait for its changes to reach durable storage
/// (SQLite: `synchronous = NORMAL`, so the WAL is not fsynced; PostgreSQL: `synchronous_commit
/// = off`). For changes whose loss in a power failure only means a delivery is made again:
/// claims and attempt outcomes. Neither database can be corrupted by it, and every later
/// durable commit (each publish) makes what came before it durable too.
///
/// The connection leaves the pool for the transaction. If the transaction is not ended by
/// [`RelaxedTx::finish`] (an error ending it, or its future dropped), the connection is closed
/// instead of going back to the pool, so no other write can run on it relaxed or inside it.
pub struct RelaxedTx<B: Backend> {
    conn: PoolConnection<B::Db>,
    ended: bool,
}

impl<B: Backend> super::Conn for RelaxedTx<B> {
    type Db = B::Db;
    fn raw(&mut self) -> &mut <B::Db as sqlx::Database>::Connection {
        &mut self.conn
    }
}

impl<B: Backend> RelaxedTx<B> {
    /// Commits on success, rolls back otherwise.
    pub(crate) async fn finish<T>(mut self, result: StoreResult<T>) -> StoreResult<T> {
        let script = if result.is_ok() {
            B::RELAXED.commit
        } else {
            B::RELAXED.rollback
        };
        B::Db::run_script(&mut self.conn, script).await?;
        self.ended = true;
        result
    }
}

impl<B: Backend> Drop for RelaxedTx<B> {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
    }
}

impl<B: Backend> SqlStore<B> {
    pub(crate) async fn read(&self) -> StoreResult<PoolConnection<B::Db>> {
        Ok(self.db.reader().acquire().await?)
    }

    pub(crate) async fn write(&self) -> StoreResult<PoolConnection<B::Db>> {
        Ok(self.db.writer().acquire().await?)
    }

    pub(crate) async fn begin(&self) -> StoreResult<Tx<B>> {
        Ok(self.db.writer().begin().await?)
    }

    /// Begins a [`RelaxedTx`].
    pub(crate) async fn begin_relaxed(&self) -> StoreResult<RelaxedTx<B>> {
        let mut tx = RelaxedTx {
            conn: self.write().await?,
            ended: false,
        };
        B::Db::run_script(&mut tx.conn, B::RELAXED.begin).await?;
        Ok(tx)
    }

    /// Closes the connections (SQLite: flushes the WAL).
    pub async fn close(&self) {
        self.db.close().await
    }
}

/// Serialises check-then-write rules on `key` until the transaction ends (see [`Backend::LOCK`]).
pub(crate) async fn lock<B: Backend>(
    tx: &mut impl super::Conn<Db = B::Db>,
    key: &str,
) -> StoreResult<()> {
    if let Some(sql) = B::LOCK {
        Stmt::new(sql).bind(key).execute(tx).await?;
    }
    Ok(())
}

/// Wakes every node's claimer once the transaction commits (see [`Backend::NOTIFY`]).
pub(crate) async fn notify<B: Backend>(tx: &mut impl super::Conn<Db = B::Db>) -> StoreResult<()> {
    if let Some(sql) = B::NOTIFY {
        Stmt::new(sql).execute(tx).await?;
    }
    Ok(())
}

/// Ends a transaction: commit on success, explicit rollback otherwise. A dropped transaction
/// would only roll back when its pooled connection is next used, keeping its row and advisory
/// locks (and so hiding rows from other nodes' `SKIP LOCKED` claims) until then.
pub async fn finish<DB: Sql, T>(tx: Transaction<'_, DB>, result: StoreResult<T>) -> StoreResult<T> {
    match result {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> StoreResult<()> {
        Stmt::new("SELECT 1")
            .execute(&mut self.read().await?)
            .await?;
        Ok(())
    }

    async fn close(&self) {
        self.db.close().await
    }

    fn subscribe_wakeups(&self) -> Option<watch::Receiver<u64>> {
        self.db.subscribe_wakeups()
    }
}
