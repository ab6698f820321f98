//! Versioned migrations. Each version has one SQL file per backend
//! (`migrations/<backend>/NNNN_name.sql`), listed once in [`schema!`]; [`run`] applies the missing
//! ones in order, all in one transaction that first takes the backend's lock, so nodes starting
//! together on an empty database queue behind the first and then find every version applied.
//! Never edit a released file; add a version (for both backends).

use super::backend::{lock, Backend};
use super::{finish, Sql, Stmt};
use crate::StoreResult;
use sqlx::Pool;

/// One schema version.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// The migration list of one backend directory, from `(version, "NNNN", name)` triples naming
/// the files `NNNN_name.sql`.
macro_rules! migrations {
    ($dir:literal: $(($version:literal, $file:literal, $name:literal)),+ $(,)?) => {
        &[$($crate::sql::migrate::Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"), "/migrations/", $dir, "/",
                $file, "_", $name, ".sql"
            )),
        }),+]
    };
}
pub(crate) use migrations;

/// Every schema version, in order, read from the backend directory `$dir`: a new version is
/// added here once, with its file in each directory.
macro_rules! schema {
    ($dir:literal) => {
        $crate::sql::migrate::migrations!($dir:
            (1, "0001", "base"),
            (2, "0002", "zitadel"),
            (3, "0003", "sailpoint"),
            (4, "0004", "delivery"),
            (5, "0005", "auth"),
            (6, "0006", "request_response"),
            (7, "0007", "calls"),
            (8, "0008", "cancel"),
            (9, "0009", "transports"),
            (10, "0010", "console"),
            (11, "0011", "zitadel_keys"),
            (12, "0012", "retention"),
            (13, "0013", "policy"),
            (14, "0014", "route_health"),
        )
    };
}
pub(crate) use schema;

/// Key of the lock that serialises migrations between nodes.
const LOCK_KEY: &str = "switchyard:migrations";

/// Applies the backend's missing migrations.
pub async fn run<B: Backend>(pool: &Pool<B::Db>) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let result = apply::<B>(&mut tx).await;
    finish(tx, result).await
}

async fn apply<B: Backend>(tx: &mut super::backend::Tx<B>) -> StoreResult<()> {
    lock::<B>(tx, LOCK_KEY).await?;
    Stmt::new(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(tx)
    .await?;
    let applied: Vec<(i64,)> = Stmt::new("SELECT version FROM schema_migrations")
        .fetch_all(tx)
        .await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for m in B::MIGRATIONS {
        if applied.iter().any(|(v,)| *v == m.version) {
            continue;
        }
        tracing::info!(version = m.version, name = m.name, "applying migration");
        B::Db::run_script(&mut **tx, m.sql).await?;
        Stmt::new("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(m.version)
            .bind(m.name)
            .bind(now)
            .execute(tx)
            .await?;
    }
    Ok(())
}
