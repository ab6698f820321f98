//! Decoding and in-memory query logic for stored documents (targets, executions,
//! subscriptions): rows are re-validated through the core rules, and listings are filtered,
//! sorted and paged here rather than in SQL.

pub mod executions;
pub mod public_keys;
pub mod subscriptions;
pub mod targets;
