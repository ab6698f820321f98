//! The storage layer's one error type. The API maps it to each dialect's error shape; `Internal`
//! carries the cause chain for the log and is never shown to a client.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the text names the rule (`"a target named 'x' already exists"`).
    #[error("{0}")]
    AlreadyExists(String),
    /// The change conflicts with the current state (`"invocation is already completed"`).
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached right now.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            sqlx::Error::Database(ref db) if is_sqlite_outage(db.as_ref()) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Database(ref db) if db.code().as_deref().is_some_and(is_transient) => {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// PostgreSQL SQLSTATEs that mean "try again": connection exceptions (class 08), the server
/// shutting down or restarting (57P01-57P03), and a deadlock or serialization failure between
/// nodes (40P01, 40001). Clients get a retryable 503 instead of a 500.
fn is_transient(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "40P01" | "40001")
}

/// SQLite result codes that mean the database file cannot be written right now rather than a
/// bad statement: busy or locked (5, 6), read-only (8), I/O error (10), disk full (13), cannot
/// open (14). Extended codes carry the primary code in their low byte.
fn is_sqlite_outage(db: &dyn sqlx::error::DatabaseError) -> bool {
    use sqlx::error::DatabaseError;
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>()
        .and_then(|e| e.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(anyhow::Error::new(e).context("stored JSON is malformed"))
    }
}

/// True when a sqlx error is a UNIQUE constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::{is_transient, StoreError};
    use sqlx::Connection;

    #[tokio::test]
    async fn a_read_only_sqlite_database_is_unavailable_not_internal() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("PRAGMA query_only = ON")
            .execute(&mut conn)
            .await
            .unwrap();
        let err = sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(
            matches!(StoreError::from(err), StoreError::Unavailable(_)),
            "SQLITE_READONLY is an outage"
        );
        let err = sqlx::query("SELECT * FROM missing")
            .execute(&mut conn)
            .await
            .unwrap_err();
        assert!(matches!(StoreError::from(err), StoreError::Internal(_)));
    }

    #[test]
    fn transient_sqlstates_are_recognised() {
        for code in ["08006", "08001", "57P01", "40P01", "40001"] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23505", "42P01", "22001"] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
