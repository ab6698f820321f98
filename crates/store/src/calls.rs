//! Storage contract for synchronous ZITADEL call chains (`POST /v1/calls`): one record per call
//! with every target attempt, so a producer can see afterwards what each target answered. The
//! chain itself never waits on this: records are handed to a group-committing writer, which
//! writes many calls per transaction through [`CallStore::record_calls`].

use crate::StoreResult;
use async_trait::async_trait;
use serde::Serialize;
use switchyard_core::{InstanceId, Timestamp};

pub use switchyard_core::invocation::CallAttemptOutcome;

/// One target call within a chain (`n` is its 1-based position among the calls made).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallAttempt {
    pub n: u32,
    pub target_id: String,
    pub at: Timestamp,
    pub outcome: CallAttemptOutcome,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
}

/// A finished call chain with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    #[serde(skip)]
    pub instance: InstanceId,
    pub id: String,
    /// The condition's stable key (`request./zitadel.user.v2.UserService/AddHumanUser`).
    pub condition: String,
    pub created_at: Timestamp,
    pub duration_ms: u64,
    /// The HTTP status the caller got.
    pub status: u16,
    pub error: Option<String>,
    pub attempts: Vec<CallAttempt>,
}

#[async_trait]
pub trait CallStore {
    /// Writes finished calls with their attempts in one transaction. Writing a call id again
    /// replaces the call row (the writer may retry a batch); an attempt already recorded through
    /// [`CallStore::record_call_attempts`] (a late result) is kept.
    async fn record_calls(&self, calls: &[CallRecord]) -> StoreResult<()>;

    /// Appends attempts to an already (or not yet) recorded call: restAsync targets finish
    /// after their chain. Replaces an attempt with the same `n`.
    async fn record_call_attempts(
        &self,
        instance: &InstanceId,
        call_id: &str,
        attempts: &[CallAttempt],
    ) -> StoreResult<()>;

    /// One call with its attempts ordered by `n`; `NotFound` when absent in `instance`.
    async fn call_record(&self, instance: &InstanceId, id: &str) -> StoreResult<CallRecord>;
}
