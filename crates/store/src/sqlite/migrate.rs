//! Versioned migrations. Each file in `migrations/sqlite/` is applied once, in order, inside a
//! transaction, and recorded in `schema_migrations`. New versions are appended to [`MIGRATIONS`].

use sqlx::SqlitePool;

/// (version, name, SQL). Never edit a released entry; add a new one.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "base",
        include_str!("../../migrations/sqlite/0001_base.sql"),
    ),
    (
        2,
        "zitadel",
        include_str!("../../migrations/sqlite/0002_zitadel.sql"),
    ),
    (
        3,
        "sailpoint",
        include_str!("../../migrations/sqlite/0003_sailpoint.sql"),
    ),
    (
        4,
        "delivery",
        include_str!("../../migrations/sqlite/0004_delivery.sql"),
    ),
    (
        5,
        "auth",
        include_str!("../../migrations/sqlite/0005_auth.sql"),
    ),
    (
        6,
        "request_response",
        include_str!("../../migrations/sqlite/0006_request_response.sql"),
    ),
    (
        7,
        "calls",
        include_str!("../../migrations/sqlite/0007_calls.sql"),
    ),
];

pub async fn run(pool: &SqlitePool) -> anyhow::Result<()> {
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tracing::info!(version, name, "applying migration");
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, strftime('%s','now'))")
            .bind(version)
            .bind(name)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
