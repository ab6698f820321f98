//! The scale-out backend: PostgreSQL shared by any number of `switchyard serve` nodes. Unlike
//! SQLite, no node owns the database: claims use `FOR UPDATE SKIP LOCKED` so two nodes never lease
//! the same invocation, check-then-write rules take transaction-scoped advisory locks, work left
//! in flight by a crashed node comes back when its lease expires (never at start-up, since other
//! nodes may still hold leases), and `LISTEN/NOTIFY` on [`WAKEUP_CHANNEL`] tells every node
//! that new work is due.

mod callbacks;
mod calls;
mod clients;
mod instances;
pub mod keys;
mod migrate;
mod outcomes;
mod queue;
mod sailpoint;
mod secrets;
mod zitadel;

use crate::{Store, StoreResult};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The channel nodes `NOTIFY` when work becomes due (new pending invocations, retries, released
/// chain members, replays).
pub const WAKEUP_CHANNEL: &str = "switchyard_queue";

/// How long a request waits for a pooled connection before failing with `Unavailable`: short, so
/// an unreachable database yields a fast 503 instead of a hanging request.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Pool size per node.
const MAX_CONNECTIONS: u32 = 16;

/// PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    wakeups: watch::Receiver<u64>,
    listener: Arc<tokio::task::JoinHandle<()>>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`), runs pending migrations under an
    /// advisory lock (safe when several nodes start at once) and starts listening for wake-ups.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("switchyard");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        migrate::run(&pool).await?;
        let (tx, wakeups) = watch::channel(0u64);
        let listener = tokio::spawn(listen(pool.clone(), tx));
        Ok(Self {
            pool,
            wakeups,
            listener: Arc::new(listener),
        })
    }
}

/// Forwards `NOTIFY switchyard_queue` to the watch channel, reconnecting after errors. A
/// notification missed while disconnected is covered by the engine's fallback poll; a reconnect
/// itself counts as a wake-up so work queued meanwhile is looked at promptly.
async fn listen(pool: PgPool, tx: watch::Sender<u64>) {
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(l) => l,
            Err(_) if tx.is_closed() => return,
            Err(e) => {
                tracing::debug!(error = %e, "wake-up listener cannot connect; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(WAKEUP_CHANNEL).await {
            tracing::debug!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        tx.send_modify(|n| *n = n.wrapping_add(1));
        loop {
            match listener.try_recv().await {
                Ok(Some(_)) => tx.send_modify(|n| *n = n.wrapping_add(1)),
                // The connection was lost; PgListener reconnects on the next call.
                Ok(None) => tx.send_modify(|n| *n = n.wrapping_add(1)),
                Err(e) => {
                    tracing::debug!(error = %e, "wake-up listener lost its connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
            if tx.is_closed() {
                return;
            }
        }
    }
}

/// Queues a wake-up for every node; Postgres delivers it when the transaction commits (and
/// folds duplicates within one transaction).
pub(crate) async fn notify_wakeup(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WAKEUP_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Serialises check-then-write rules on one key (a trigger's subscription limit, an instance's
/// execution graph) until the transaction ends. READ COMMITTED alone would let two nodes both
/// pass the check.
pub(crate) async fn lock(conn: &mut PgConnection, key: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(key)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends a transaction: commit on success, explicit rollback otherwise. A dropped transaction
/// would only roll back when its pooled connection is next used, keeping its row and advisory
/// locks (and so hiding rows from other nodes' `SKIP LOCKED` claims) until then.
pub(crate) async fn finish<T>(
    tx: sqlx::Transaction<'_, sqlx::Postgres>,
    result: StoreResult<T>,
) -> StoreResult<T> {
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
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }

    fn subscribe_wakeups(&self) -> Option<watch::Receiver<u64>> {
        Some(self.wakeups.clone())
    }
}
