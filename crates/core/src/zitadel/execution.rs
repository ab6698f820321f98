//! An execution's ordered entries (target ids and, on v3alpha, includes of another execution's
//! list) and the pure rules over them: include graphs must be acyclic and at most
//! [`MAX_INCLUDE_DEPTH`] deep, and resolution picks the best-matching execution for a condition
//! (exact > service/group > all, never a union) and flattens its includes in order.

use super::condition::Condition;
use crate::ValidationError;
use std::collections::{BTreeMap, HashSet};

/// How many include hops an execution may chain (A includes B includes C includes D).
pub const MAX_INCLUDE_DEPTH: usize = 3;
/// Most entries in one execution: every target of a call chain is called in turn, so a list is
/// a cost multiplier on every call and event.
pub const MAX_ENTRIES: usize = 100;

/// One entry of an execution's ordered list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExecutionEntry {
    /// Call this target.
    Target(String),
    /// Splice in the targets of the execution with this condition.
    Include(Condition),
}

/// Why a set of includes is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncludeError {
    #[error("include '{0}' refers to a condition that has no execution")]
    Missing(String),
    #[error("include of '{0}' creates a cycle: {1}")]
    Cycle(String, String),
    #[error("includes starting at '{0}' are nested deeper than {MAX_INCLUDE_DEPTH} levels")]
    TooDeep(String),
    #[error("execution '{0}' includes itself")]
    SelfInclude(String),
}

/// Checks one execution's list: at most [`MAX_ENTRIES`], none twice. ZITADEL refuses a
/// repeated target too (its existence check counts distinct targets).
pub fn check_entries(entries: &[ExecutionEntry]) -> Result<(), ValidationError> {
    if entries.len() > MAX_ENTRIES {
        return Err(ValidationError::new(
            "targets",
            format!(
                "the execution target limit is {MAX_ENTRIES} entries (got {})",
                entries.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        if !seen.insert(e) {
            let what = match e {
                ExecutionEntry::Target(id) => format!("target '{id}'"),
                ExecutionEntry::Include(c) => format!("include '{}'", c.key()),
            };
            return Err(ValidationError::new(
                format!("targets[{i}]"),
                format!("{what} is listed more than once"),
            ));
        }
    }
    Ok(())
}

/// All executions of an instance, keyed by condition key.
pub type ExecutionGraph = BTreeMap<String, Vec<ExecutionEntry>>;

/// Checks the whole graph: every include exists, there are no cycles and no chain is deeper
/// than [`MAX_INCLUDE_DEPTH`]. Run after applying a change, before committing it.
pub fn check_graph(graph: &ExecutionGraph) -> Result<(), IncludeError> {
    for (key, entries) in graph {
        for e in entries {
            if let ExecutionEntry::Include(c) = e {
                if c.key() == *key {
                    return Err(IncludeError::SelfInclude(key.clone()));
                }
                if !graph.contains_key(&c.key()) {
                    return Err(IncludeError::Missing(c.key()));
                }
            }
        }
    }
    for key in graph.keys() {
        let mut path = vec![key.clone()];
        depth(graph, key, &mut path)?;
    }
    Ok(())
}

/// Longest include chain below `key`; `path` holds the keys on the current walk.
fn depth(graph: &ExecutionGraph, key: &str, path: &mut Vec<String>) -> Result<usize, IncludeError> {
    let mut max = 0;
    for e in graph.get(key).into_iter().flatten() {
        let ExecutionEntry::Include(c) = e else {
            continue;
        };
        let child = c.key();
        if path.contains(&child) {
            let mut shown = path.clone();
            shown.push(child.clone());
            return Err(IncludeError::Cycle(child, shown.join(" -> ")));
        }
        path.push(child.clone());
        let d = 1 + depth(graph, &child, path)?;
        path.pop();
        if d > MAX_INCLUDE_DEPTH {
            return Err(IncludeError::TooDeep(path[0].clone()));
        }
        max = max.max(d);
    }
    Ok(max)
}

/// The execution that applies to `condition`: the most specific existing candidate.
pub fn best_match<'a>(
    graph: &'a ExecutionGraph,
    condition: &Condition,
) -> Option<(Condition, &'a [ExecutionEntry])> {
    // An execution whose list is empty (all its targets were deleted) covers nothing, so the
    // next less specific condition applies.
    condition.candidates().into_iter().find_map(|c| {
        graph
            .get(&c.key())
            .filter(|entries| !entries.is_empty())
            .map(|entries| (c, entries.as_slice()))
    })
}

/// Target ids of `entries` with includes spliced in order. A target reached twice is called
/// once, at its first position. Includes deeper than the limit or forming a cycle (which
/// [`check_graph`] prevents from being stored) are skipped rather than followed.
pub fn flatten(graph: &ExecutionGraph, entries: &[ExecutionEntry]) -> Vec<String> {
    fn walk(
        graph: &ExecutionGraph,
        entries: &[ExecutionEntry],
        level: usize,
        seen_exec: &mut Vec<String>,
        out: &mut Vec<String>,
        seen: &mut HashSet<String>,
    ) {
        for e in entries {
            match e {
                ExecutionEntry::Target(id) => {
                    if seen.insert(id.clone()) {
                        out.push(id.clone());
                    }
                }
                ExecutionEntry::Include(c) => {
                    let key = c.key();
                    if level >= MAX_INCLUDE_DEPTH || seen_exec.contains(&key) {
                        continue;
                    }
                    if let Some(inner) = graph.get(&key) {
                        seen_exec.push(key);
                        walk(graph, inner, level + 1, seen_exec, out, seen);
                        seen_exec.pop();
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        graph,
        entries,
        0,
        &mut Vec::new(),
        &mut out,
        &mut HashSet::new(),
    );
    out
}

/// Best match plus flattening: the ordered target ids to call for `condition`, with the
/// condition that matched. `None` when no execution applies.
pub fn resolve(graph: &ExecutionGraph, condition: &Condition) -> Option<(Condition, Vec<String>)> {
    let (matched, entries) = best_match(graph, condition)?;
    Some((matched, flatten(graph, entries)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zitadel::condition::{EventSelector, MethodSelector};

    fn t(id: &str) -> ExecutionEntry {
        ExecutionEntry::Target(id.into())
    }

    #[test]
    fn lists_are_bounded_and_without_repeats() {
        assert!(check_entries(&[t("a"), t("b")]).is_ok());
        let e = check_entries(&[t("a"), t("b"), t("a")]).unwrap_err();
        assert_eq!(e.field, "targets[2]");
        assert!(e.rule.contains("'a' is listed more than once"), "{e}");
        let many: Vec<_> = (0..=MAX_ENTRIES).map(|i| t(&i.to_string())).collect();
        assert!(check_entries(&many)
            .unwrap_err()
            .rule
            .contains("limit is 100"));
        let dup = vec![t("x"); 10_000];
        assert!(check_entries(&dup).is_err());
    }
    fn inc(key: &str) -> ExecutionEntry {
        ExecutionEntry::Include(Condition::from_key(key).unwrap())
    }
    fn graph(items: &[(&str, Vec<ExecutionEntry>)]) -> ExecutionGraph {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn best_match_prefers_exact_then_service_then_all() {
        let g = graph(&[
            ("request:all", vec![t("all")]),
            ("request:service:a.S", vec![t("svc")]),
            ("request:method:/a.S/M", vec![t("exact")]),
        ]);
        let call = |m: &str| {
            resolve(&g, &Condition::Request(MethodSelector::Method(m.into()))).map(|(_, ids)| ids)
        };
        assert_eq!(call("/a.S/M"), Some(vec!["exact".to_string()]));
        assert_eq!(call("/a.S/Other"), Some(vec!["svc".to_string()]));
        assert_eq!(call("/b.T/M"), Some(vec!["all".to_string()]));
        assert_eq!(resolve(&g, &Condition::Response(MethodSelector::All)), None);
    }

    #[test]
    fn events_match_exact_then_longest_group_then_all() {
        let g = graph(&[
            ("event:all", vec![t("all")]),
            ("event:group:user", vec![t("user")]),
            ("event:group:user.human", vec![t("human")]),
        ]);
        let ev = |e: &str| resolve(&g, &Condition::Event(EventSelector::Event(e.into()))).unwrap();
        assert_eq!(ev("user.human.added").1, vec!["human"]);
        assert_eq!(ev("user.machine.added").1, vec!["user"]);
        assert_eq!(ev("org.added").1, vec!["all"]);
        assert_eq!(ev("user.human.added").0.key(), "event:group:user.human");
    }

    #[test]
    fn empty_executions_do_not_match() {
        let g = graph(&[("event:all", vec![t("all")]), ("event:event:x", vec![])]);
        assert_eq!(
            resolve(&g, &Condition::Event(EventSelector::Event("x".into())))
                .unwrap()
                .1,
            vec!["all"]
        );
    }

    #[test]
    fn includes_are_spliced_in_order_without_duplicates() {
        let g = graph(&[
            (
                "function:preuserinfo",
                vec![t("a"), inc("event:all"), t("d"), t("b")],
            ),
            ("event:all", vec![t("b"), t("c")]),
        ]);
        let (_, ids) = resolve(&g, &Condition::Function("preuserinfo".into())).unwrap();
        assert_eq!(ids, vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn graph_rejects_cycles_missing_and_deep_includes() {
        let ok = graph(&[
            ("event:all", vec![inc("request:all")]),
            ("request:all", vec![inc("response:all")]),
            ("response:all", vec![inc("function:f")]),
            ("function:f", vec![t("x")]),
        ]);
        assert_eq!(check_graph(&ok), Ok(()));
        let mut deep = ok.clone();
        deep.insert("function:f".into(), vec![inc("function:g")]);
        deep.insert("function:g".into(), vec![t("x")]);
        assert!(matches!(check_graph(&deep), Err(IncludeError::TooDeep(_))));
        let cyc = graph(&[
            ("event:all", vec![inc("request:all")]),
            ("request:all", vec![inc("event:all")]),
        ]);
        let err = check_graph(&cyc).unwrap_err();
        assert!(matches!(err, IncludeError::Cycle(..)), "{err}");
        assert!(err.to_string().contains("->"));
        let selfie = graph(&[("event:all", vec![inc("event:all")])]);
        assert!(matches!(
            check_graph(&selfie),
            Err(IncludeError::SelfInclude(_))
        ));
        let missing = graph(&[("event:all", vec![inc("request:all")])]);
        assert_eq!(
            check_graph(&missing),
            Err(IncludeError::Missing("request:all".into()))
        );
    }
}
