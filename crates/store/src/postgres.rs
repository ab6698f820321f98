//! The scale-out backend: PostgreSQL shared by any number of `switchyard serve` nodes. No node
//! owns the database: claims skip rows other nodes are claiming (`FOR UPDATE SKIP LOCKED`),
//! check-then-write rules take transaction-scoped advisory locks, work left in flight by a
//! crashed node comes back when its lease expires (never at start-up, since other nodes may still
//! hold leases), and `LISTEN/NOTIFY` on [`WAKEUP_CHANNEL`] tells every node that new work is due.

use crate::sql::migrate::{self, schema, Migration};
use crate::sql::{Backend, Relaxed, SqlStore};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
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

/// PostgreSQL's part of the store: the pool and the wake-up listener.
pub struct PgBackend {
    pool: PgPool,
    wakeups: watch::Receiver<u64>,
    listener: tokio::task::JoinHandle<()>,
}

/// The store on a PostgreSQL database.
pub type PgStore = SqlStore<PgBackend>;

impl Backend for PgBackend {
    type Db = Postgres;

    const LOCK: Option<&'static str> =
        Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");
    // Delivered when the transaction commits; duplicates within one transaction are folded.
    const NOTIFY: Option<&'static str> = Some("SELECT pg_notify('switchyard_queue', '')");
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";
    const DOC_DISABLED: &'static str = "jsonb_set(doc::jsonb, '{enabled}', 'false'::jsonb)::text";
    /// PostgreSQL allows 65535 bound parameters per statement; 16 per invocation row.
    const ROWS_PER_STATEMENT: usize = 1000;
    const RELAXED: Relaxed = Relaxed {
        begin: "BEGIN; SET LOCAL synchronous_commit = off",
        commit: "COMMIT",
        rollback: "ROLLBACK",
    };
    const MIGRATIONS: &'static [Migration] = schema!("postgres");

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn close(&self) {
        self.listener.abort();
        self.pool.close().await;
    }

    fn subscribe_wakeups(&self) -> Option<watch::Receiver<u64>> {
        Some(self.wakeups.clone())
    }
}

async fn connect(url: &str) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url)?.application_name("switchyard");
    Ok(PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await?)
}

/// Applies pending migrations; nothing else (no listener, no claims).
pub(crate) async fn migrate(url: &str) -> anyhow::Result<()> {
    let pool = connect(url).await?;
    migrate::run::<PgBackend>(&pool).await?;
    pool.close().await;
    Ok(())
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db`), runs pending migrations under an
    /// advisory lock (safe when several nodes start at once) and starts listening for wake-ups.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let pool = connect(url).await?;
        migrate::run::<PgBackend>(&pool).await?;
        let (tx, wakeups) = watch::channel(0u64);
        let listener = tokio::spawn(listen(pool.clone(), tx));
        Ok(SqlStore {
            db: PgBackend {
                pool,
                wakeups,
                listener,
            },
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

/// Scratch databases beside the one a URL names, for `switchyard bench`: every run starts on
/// an empty database and leaves nothing behind.
pub mod scratch {
    use sqlx::postgres::PgConnectOptions;
    use sqlx::{ConnectOptions, Connection};
    use std::str::FromStr;

    /// `url` with its database name replaced by `name` (query parameters kept).
    pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
        let scheme_end = url
            .find("://")
            .ok_or_else(|| anyhow::anyhow!("not a postgres:// URL"))?
            + 3;
        let (path_and_query, query) = match url[scheme_end..].find('?') {
            Some(q) => (&url[..scheme_end + q], &url[scheme_end + q..]),
            None => (url, ""),
        };
        let authority_end = path_and_query[scheme_end..]
            .find('/')
            .map_or(path_and_query.len(), |i| scheme_end + i);
        Ok(format!(
            "{}/{name}{query}",
            &path_and_query[..authority_end]
        ))
    }

    /// Creates database `name` on the server of `url`; returns its URL.
    pub async fn create(url: &str, name: &str) -> anyhow::Result<String> {
        anyhow::ensure!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "scratch database names are [a-z0-9_]"
        );
        let mut conn = PgConnectOptions::from_str(url)?.connect().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
            .execute(&mut conn)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        with_database(url, name)
    }

    /// Drops database `name` on the server of `url` (connections to it are ended).
    pub async fn drop(url: &str, name: &str) -> anyhow::Result<()> {
        let mut conn = PgConnectOptions::from_str(url)?.connect().await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn the_database_name_is_replaced() {
            let w = |u| super::with_database(u, "b").unwrap();
            assert_eq!(w("postgres://u@h:5432/postgres"), "postgres://u@h:5432/b");
            assert_eq!(
                w("postgres://u:p@h/db?sslmode=disable"),
                "postgres://u:p@h/b?sslmode=disable"
            );
            assert_eq!(w("postgres://h:5432"), "postgres://h:5432/b");
            assert_eq!(w("postgresql://h?x=1"), "postgresql://h/b?x=1");
        }
    }
}
