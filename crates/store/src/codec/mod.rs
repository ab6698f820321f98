//! Row encoding and in-memory query logic shared by the SQLite and PostgreSQL backends, so both
//! read, validate, filter and sort stored data identically; only the SQL differs per backend.

pub mod executions;
pub mod queue;
pub mod subscriptions;
pub mod targets;
