//! Versioned migrations for PostgreSQL, mirroring `sqlite/migrate.rs` version for version. The
//! whole run is one transaction holding a transaction-scoped advisory lock: nodes that start
//! together on an empty database queue behind the first, then find every version applied.
//! Postgres DDL is transactional, so a failed migration leaves nothing half-applied.

use sqlx::PgPool;

/// (version, name, SQL). Never edit a released entry; add a new one (and its SQLite twin).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "base",
        include_str!("../../migrations/postgres/0001_base.sql"),
    ),
    (
        2,
        "zitadel",
        include_str!("../../migrations/postgres/0002_zitadel.sql"),
    ),
    (
        3,
        "sailpoint",
        include_str!("../../migrations/postgres/0003_sailpoint.sql"),
    ),
    (
        4,
        "delivery",
        include_str!("../../migrations/postgres/0004_delivery.sql"),
    ),
    (
        5,
        "auth",
        include_str!("../../migrations/postgres/0005_auth.sql"),
    ),
    (
        6,
        "request_response",
        include_str!("../../migrations/postgres/0006_request_response.sql"),
    ),
    (
        7,
        "calls",
        include_str!("../../migrations/postgres/0007_calls.sql"),
    ),
];

/// Arbitrary constant naming the migration lock ("switchyard" in ASCII, truncated).
const MIGRATION_LOCK: i64 = 0x7377_6974_6368_7961;

pub async fn run(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for (version, name, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tracing::info!(version, name, "applying migration");
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at)
             VALUES ($1, $2, EXTRACT(EPOCH FROM now())::BIGINT)",
        )
        .bind(version)
        .bind(name)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
