//! Backend fixtures for the contract tests: a fresh store per test, cleaned up even when the test
//! panics (the test body runs as its own task so a panic is caught, then re-raised).

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use switchyard_store::{PgStore, SqliteStore, Store};

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub async fn run_sqlite<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = std::env::temp_dir().join(format!("sy-contract-{}", switchyard_core::ids::hex_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.join("db.sqlite")).await.unwrap());
    let outcome = tokio::spawn(test(store.clone())).await;
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The server URL tests create their databases through.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A fresh, empty database; `None` (after a notice) when PostgreSQL is unreachable outside CI.
pub async fn create_database() -> Option<(String, String)> {
    let admin = admin_url();
    let options = match PgConnectOptions::from_str(&admin) {
        Ok(o) => o,
        Err(e) => panic!("DATABASE_URL {admin} is not a PostgreSQL URL: {e}"),
    };
    let mut conn =
        match tokio::time::timeout(std::time::Duration::from_secs(5), options.connect()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return unreachable(&admin, &e.to_string()),
            Err(_) => return unreachable(&admin, "timed out"),
        };
    let name = format!("sy_test_{}", switchyard_core::ids::hex_id());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE through {admin}: {e}"));
    let _ = conn.close().await;
    Some((name.clone(), with_database(&admin, &name)))
}

fn unreachable<T>(url: &str, why: &str) -> Option<T> {
    if std::env::var_os("CI").is_some() {
        panic!("PostgreSQL at {url} is unreachable ({why}); CI must run the PostgreSQL contract tests (set DATABASE_URL)");
    }
    eprintln!(
        "NOTICE: skipping PostgreSQL contract test: {url} unreachable ({why}); set DATABASE_URL"
    );
    None
}

pub async fn drop_database(name: &str) {
    if let Ok(mut conn) = PgConnectOptions::from_str(&admin_url())
        .unwrap()
        .connect()
        .await
    {
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

pub async fn run_postgres<F, Fut>(test: F)
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((name, url)) = create_database().await else {
        return;
    };
    let outcome = match PgStore::open(&url).await {
        Ok(store) => {
            let store: Arc<dyn Store> = Arc::new(store);
            let outcome = tokio::spawn(test(store.clone())).await;
            store.close().await;
            outcome.map_err(|e| e.into_panic())
        }
        Err(e) => Err(Box::new(format!("opening {url}: {e:#}")) as Box<dyn std::any::Any + Send>),
    };
    drop_database(&name).await;
    if let Err(p) = outcome {
        std::panic::resume_unwind(p);
    }
}
