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
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            other => StoreError::Internal(anyhow::Error::new(other)),
        }
    }
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
