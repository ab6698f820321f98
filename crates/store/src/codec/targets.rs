//! Backend-neutral handling of target rows: decoding a row into a validated [`StoredTarget`],
//! naming a unique-name violation, and filtering, sorting and paging with the core rules (an
//! instance holds tens to hundreds of targets, and Unicode-correct case folding is easier here
//! than in SQL).

use crate::error::is_unique_violation;
use crate::keys::SealedKey;
use crate::zitadel::{Listing, StoredTarget, TargetFilter, TargetQuery};
use crate::{StoreError, StoreResult};
use std::cmp::Ordering;
use std::time::Duration;
use switchyard_core::zitadel::{
    Endpoint, PayloadType, TargetConfig, TargetName, TargetSort, TargetTimeout, TargetType,
};
use switchyard_core::Timestamp;

crate::sql::sql_row! {
    /// A target with its current key (see `sql::zitadel::targets::SELECT`).
    pub struct Row {
        id: String,
        name: String,
        endpoint: String,
        timeout_nanos: i64,
        target_type: String,
        interrupt_on_error: bool,
        payload_type: String,
        created_at: Timestamp,
        changed_at: Timestamp,
        key_id: String,
        sealed: String,
        key_created_at: Timestamp,
    }
}

pub fn decode(row: Row) -> StoreResult<StoredTarget> {
    let id = row.id;
    let bad = |what: String| {
        StoreError::Internal(anyhow::anyhow!("stored target {id} is invalid: {what}"))
    };
    let config = TargetConfig {
        name: TargetName::parse(&row.name).map_err(|e| bad(e.to_string()))?,
        endpoint: Endpoint::parse(&row.endpoint).map_err(|e| bad(e.to_string()))?,
        timeout: TargetTimeout::new(Duration::from_nanos(
            u64::try_from(row.timeout_nanos).unwrap_or(0),
        ))
        .map_err(|e| bad(e.to_string()))?,
        target_type: TargetType::from_stored(&row.target_type, row.interrupt_on_error)
            .ok_or_else(|| bad(format!("type '{}'", row.target_type)))?,
        payload_type: PayloadType::parse(&row.payload_type).map_err(|e| bad(e.to_string()))?,
    };
    Ok(StoredTarget {
        id,
        config,
        created_at: row.created_at,
        changed_at: row.changed_at,
        signing_key: SealedKey {
            key_id: row.key_id,
            sealed: row.sealed,
            created_at: row.key_created_at,
            expires_at: None,
        },
    })
}

pub fn name_taken(e: sqlx::Error, config: &TargetConfig) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::AlreadyExists(format!(
            "a target named '{}' already exists",
            config.name.as_str()
        ))
    } else {
        e.into()
    }
}

pub fn nanos(config: &TargetConfig) -> i64 {
    i64::try_from(config.timeout.duration().as_nanos()).unwrap_or(i64::MAX)
}

fn compare(sort: TargetSort, a: &StoredTarget, b: &StoredTarget) -> Ordering {
    let (x, y) = (&a.config, &b.config);
    let primary = match sort {
        TargetSort::Id => Ordering::Equal,
        TargetSort::CreationDate => a.created_at.cmp(&b.created_at),
        TargetSort::ChangeDate => a.changed_at.cmp(&b.changed_at),
        TargetSort::Name => x.name.cmp(&y.name),
        TargetSort::TargetType => x.target_type.as_str().cmp(y.target_type.as_str()),
        TargetSort::Url => x.endpoint.as_str().cmp(y.endpoint.as_str()),
        TargetSort::Timeout => x.timeout.cmp(&y.timeout),
        TargetSort::InterruptOnError => x
            .target_type
            .interrupt_on_error()
            .cmp(&y.target_type.interrupt_on_error()),
    };
    primary.then_with(|| a.id.cmp(&b.id))
}

/// Filters, sorts and pages; `total` counts every match.
pub fn select(all: Vec<StoredTarget>, query: &TargetQuery) -> Listing<StoredTarget> {
    let mut hits: Vec<StoredTarget> = all
        .into_iter()
        .filter(|t| {
            query.filters.iter().all(|f| match f {
                TargetFilter::Name(m) => m.matches(t.config.name.as_str()),
                TargetFilter::Ids(ids) => ids.contains(&t.id),
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        let o = compare(query.sort, a, b);
        if query.page.asc {
            o
        } else {
            o.reverse()
        }
    });
    let total = hits.len() as u64;
    Listing {
        items: query.page.slice(hits),
        total,
    }
}
