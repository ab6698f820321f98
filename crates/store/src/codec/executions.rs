//! Backend-neutral handling of execution rows: the stored entry list (`"t:<target>"`,
//! `"i:<condition key>"`), the graph the core rules check, and filtering, sorting and paging.

use crate::zitadel::{ExecutionFilter, ExecutionQuery, Listing, StoredExecution};
use crate::{StoreError, StoreResult};
use switchyard_core::zitadel::execution::ExecutionGraph;
use switchyard_core::zitadel::{Condition, ExecutionEntry, ExecutionSort};
use switchyard_core::Timestamp;

pub fn encode(entries: &[ExecutionEntry]) -> StoreResult<String> {
    let items: Vec<String> = entries
        .iter()
        .map(|e| match e {
            ExecutionEntry::Target(id) => format!("t:{id}"),
            ExecutionEntry::Include(c) => format!("i:{}", c.key()),
        })
        .collect();
    Ok(serde_json::to_string(&items)?)
}

pub fn decode(
    key: &str,
    entries: &str,
    created: i64,
    changed: i64,
) -> StoreResult<StoredExecution> {
    let bad = || StoreError::Internal(anyhow::anyhow!("stored execution '{key}' is invalid"));
    let condition = Condition::from_key(key).ok_or_else(bad)?;
    let items: Vec<String> = serde_json::from_str(entries)?;
    let entries = items
        .iter()
        .map(|s| match s.split_once(':') {
            Some(("t", id)) => Ok(ExecutionEntry::Target(id.to_string())),
            Some(("i", k)) => Condition::from_key(k)
                .map(ExecutionEntry::Include)
                .ok_or_else(bad),
            _ => Err(bad()),
        })
        .collect::<StoreResult<_>>()?;
    Ok(StoredExecution {
        condition,
        entries,
        created_at: Timestamp(created),
        changed_at: Timestamp(changed),
    })
}

/// The executions as a graph for the core rules.
pub fn graph(all: &[StoredExecution]) -> ExecutionGraph {
    all.iter()
        .map(|e| (e.condition.key(), e.entries.clone()))
        .collect()
}

/// Filters, sorts and pages; `total` counts every match.
pub fn select(all: Vec<StoredExecution>, query: &ExecutionQuery) -> Listing<StoredExecution> {
    let mut hits: Vec<StoredExecution> = all
        .into_iter()
        .filter(|x| {
            query.filters.iter().all(|f| match f {
                ExecutionFilter::Conditions(cs) => cs.contains(&x.condition),
                ExecutionFilter::Type(t) => x.condition.execution_type() == *t,
                ExecutionFilter::Target(id) => x
                    .entries
                    .iter()
                    .any(|e| matches!(e, ExecutionEntry::Target(t) if t == id)),
                ExecutionFilter::Include(c) => x
                    .entries
                    .iter()
                    .any(|e| matches!(e, ExecutionEntry::Include(i) if i == c)),
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        let o = match query.sort {
            ExecutionSort::Id => std::cmp::Ordering::Equal,
            ExecutionSort::CreationDate => a.created_at.cmp(&b.created_at),
            ExecutionSort::ChangeDate => a.changed_at.cmp(&b.changed_at),
        }
        .then_with(|| a.condition.key().cmp(&b.condition.key()));
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
