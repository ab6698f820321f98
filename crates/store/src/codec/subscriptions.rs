//! Backend-neutral handling of subscription rows: the document is stored as JSON (secrets
//! sealed) and re-validated through the core rules when read, so a row can never yield an
//! invalid [`Subscription`].

use crate::{StoreError, StoreResult};
use anyhow::Context;
use switchyard_core::sailpoint::{Subscription, SubscriptionDoc};

crate::sql::sql_row! {
    /// A subscription row: `SELECT id, trigger_id, doc`.
    pub struct Row {
        id: String,
        trigger_id: String,
        doc: String,
    }
}

pub fn decode(row: Row) -> StoreResult<Subscription> {
    let doc: SubscriptionDoc = serde_json::from_str(&row.doc)?;
    Subscription::from_doc(&row.id, &row.trigger_id, &doc).map_err(|e| {
        StoreError::Internal(anyhow::anyhow!(
            "stored subscription {} is invalid: {e}",
            row.id
        ))
    })
}

pub fn encode(sub: &Subscription) -> StoreResult<String> {
    serde_json::to_string(&sub.to_doc())
        .context("encoding subscription")
        .map_err(StoreError::Internal)
}
