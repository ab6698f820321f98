//! Target rows. Listing loads an instance's targets and filters, sorts and pages them with the
//! core rules: that keeps case-insensitive matching Unicode-correct (SQLite's `lower()` only
//! folds ASCII) and the per-instance target count is small.

use crate::error::is_unique_violation;
use crate::keys::SealedKey;
use crate::zitadel::{Listing, StoredTarget, TargetFilter, TargetQuery};
use crate::{StoreError, StoreResult};
use sqlx::SqliteConnection;
use std::cmp::Ordering;
use std::time::Duration;
use switchyard_core::zitadel::{
    Endpoint, PayloadType, TargetConfig, TargetName, TargetSort, TargetTimeout, TargetType,
};
use switchyard_core::{InstanceId, Timestamp};

const SELECT: &str =
    "SELECT t.id, t.name, t.endpoint, t.timeout_nanos, t.target_type, t.interrupt_on_error,
        t.payload_type, t.created_at, t.changed_at, k.key_id, k.sealed, k.created_at
     FROM zitadel_targets t
     JOIN signing_keys k ON k.instance_id = t.instance_id AND k.owner_kind = 'target'
        AND k.owner_id = t.id AND k.expires_at IS NULL
     WHERE t.instance_id = ?";

pub(crate) type Row = (
    String,
    String,
    String,
    i64,
    String,
    bool,
    String,
    i64,
    i64,
    String,
    String,
    i64,
);

pub(crate) fn decode(row: Row) -> StoreResult<StoredTarget> {
    let (
        id,
        name,
        endpoint,
        nanos,
        kind,
        interrupt,
        payload,
        created,
        changed,
        key_id,
        sealed,
        key_created,
    ) = row;
    let bad = |what: String| {
        StoreError::Internal(anyhow::anyhow!("stored target {id} is invalid: {what}"))
    };
    let config = TargetConfig {
        name: TargetName::parse(&name).map_err(|e| bad(e.to_string()))?,
        endpoint: Endpoint::parse(&endpoint).map_err(|e| bad(e.to_string()))?,
        timeout: TargetTimeout::new(Duration::from_nanos(u64::try_from(nanos).unwrap_or(0)))
            .map_err(|e| bad(e.to_string()))?,
        target_type: TargetType::from_stored(&kind, interrupt)
            .ok_or_else(|| bad(format!("type '{kind}'")))?,
        payload_type: PayloadType::parse(&payload).map_err(|e| bad(e.to_string()))?,
    };
    Ok(StoredTarget {
        id,
        config,
        created_at: Timestamp(created),
        changed_at: Timestamp(changed),
        signing_key: SealedKey {
            key_id,
            sealed,
            created_at: Timestamp(key_created),
            expires_at: None,
        },
    })
}

pub(crate) fn name_taken(e: sqlx::Error, config: &TargetConfig) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::AlreadyExists(format!(
            "a target named '{}' already exists",
            config.name.as_str()
        ))
    } else {
        e.into()
    }
}

pub(crate) fn nanos(config: &TargetConfig) -> i64 {
    i64::try_from(config.timeout.duration().as_nanos()).unwrap_or(i64::MAX)
}

pub(super) async fn insert(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO zitadel_targets (instance_id, id, name, endpoint, timeout_nanos, target_type,
            interrupt_on_error, payload_type, created_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(instance.as_str())
    .bind(id)
    .bind(config.name.as_str())
    .bind(config.endpoint.as_str())
    .bind(nanos(config))
    .bind(config.target_type.as_str())
    .bind(config.target_type.interrupt_on_error())
    .bind(config.payload_type.as_str())
    .bind(now.millis())
    .bind(now.millis())
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, config))?;
    Ok(())
}

pub(super) async fn update(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    id: &str,
    config: &TargetConfig,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE zitadel_targets SET name = ?, endpoint = ?, timeout_nanos = ?, target_type = ?,
            interrupt_on_error = ?, payload_type = ?, changed_at = ? WHERE instance_id = ? AND id = ?",
    )
    .bind(config.name.as_str())
    .bind(config.endpoint.as_str())
    .bind(nanos(config))
    .bind(config.target_type.as_str())
    .bind(config.target_type.interrupt_on_error())
    .bind(config.payload_type.as_str())
    .bind(now.millis())
    .bind(instance.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await
    .map_err(|e| name_taken(e, config))?;
    Ok(())
}

pub(super) async fn fetch(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<StoredTarget> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} AND t.id = ?"))
        .bind(instance.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    decode(row.ok_or(StoreError::NotFound)?)
}

pub(super) async fn fetch_all(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
) -> StoreResult<Vec<StoredTarget>> {
    let rows: Vec<Row> = sqlx::query_as(SELECT)
        .bind(instance.as_str())
        .fetch_all(&mut *conn)
        .await?;
    rows.into_iter().map(decode).collect()
}

pub(super) async fn delete(
    conn: &mut SqliteConnection,
    instance: &InstanceId,
    id: &str,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM zitadel_targets WHERE instance_id = ? AND id = ?")
        .bind(instance.as_str())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
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
pub(crate) fn select(all: Vec<StoredTarget>, query: &TargetQuery) -> Listing<StoredTarget> {
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
