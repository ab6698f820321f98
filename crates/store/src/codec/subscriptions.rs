//! Backend-neutral handling of subscription rows: the document is stored as JSON (secrets
//! sealed) and re-validated through the core rules when read, so a row can never yield an
//! invalid [`Subscription`].

use crate::{StoreError, StoreResult};
use anyhow::Context;
use switchyard_core::sailpoint::{Subscription, SubscriptionDoc};

/// `(id, trigger_id, doc)` as selected by every backend.
pub type Row = (String, String, String);

pub fn decode(row: Row) -> StoreResult<Subscription> {
    let (id, trigger_id, doc) = row;
    let doc: SubscriptionDoc = serde_json::from_str(&doc)?;
    Subscription::from_doc(&id, &trigger_id, &doc).map_err(|e| {
        StoreError::Internal(anyhow::anyhow!("stored subscription {id} is invalid: {e}"))
    })
}

pub fn encode(sub: &Subscription) -> StoreResult<String> {
    serde_json::to_string(&sub.to_doc())
        .context("encoding subscription")
        .map_err(StoreError::Internal)
}
