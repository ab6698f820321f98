//! The store contract: every test here is written once against `Arc<dyn Store>` and runs against
//! both backends, so SQLite and PostgreSQL cannot drift apart. SQLite tests use a temporary file;
//! PostgreSQL tests each create a fresh database (`sy_test_<random>`) through `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and drop it afterwards. When
//! PostgreSQL is unreachable the Postgres variants fail if `CI` is set, and are skipped with a
//! notice otherwise.

mod batches;
mod calls;
mod cancel;
mod catalog;
mod health;
mod ordering;
mod policy;
mod public_keys;
mod queue;
mod request_response;
mod retention;
mod search;
mod secrets;
mod support;

/// Instantiates each listed test (an `async fn(Arc<dyn Store>)` in scope) once per backend.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::support::run_sqlite(super::$name).await;
                }
            )*
        }
        mod postgres_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::support::run_postgres(super::$name).await;
                }
            )*
        }
    };
}
pub(crate) use contract;
