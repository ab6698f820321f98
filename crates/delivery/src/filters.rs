//! Which subscriptions an event reaches: the candidates (asked for, enabled unless test
//! invocations include disabled ones) whose JSONPath filter selects something in the payload.
//! Filters are tenant-written, so each runs within a work budget, and an event whose filters
//! need more than a small inline allowance is evaluated on the blocking pool (a bounded number
//! at a time), never on the async runtime's threads. A filter that exhausts its budget does not
//! match: the event is still accepted for every other route, and the refusal is logged.

use crate::publish::PublishRequest;
use crate::routing::{FanoutPlan, PlannedSubscription};
use switchyard_core::jsonpath::Budget;

/// Work one event's filters may do on the async runtime, in budget units (tens of
/// microseconds); realistic filters need a few dozen.
pub const INLINE_UNITS: u64 = 20_000;

/// The result of evaluating an event's filters.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Indices into the plan's subscriptions, in plan order.
    pub matched: Vec<usize>,
    /// Subscriptions whose filter ran out of budget (they do not match).
    pub exhausted: Vec<String>,
}

fn candidates<'a>(
    req: &'a PublishRequest,
    plan: &'a FanoutPlan,
) -> impl Iterator<Item = (usize, &'a PlannedSubscription)> {
    plan.subscriptions.iter().enumerate().filter(move |(_, s)| {
        req.only_subscriptions
            .as_ref()
            .is_none_or(|only| only.iter().any(|o| o == &s.id))
            && (s.enabled || req.include_disabled)
    })
}

/// Evaluates every filter within one shared allowance of `units`; `None` when that is not
/// enough (the caller then moves the work off the runtime).
pub fn select_inline(req: &PublishRequest, plan: &FanoutPlan, units: u64) -> Option<Selection> {
    let mut budget = Budget::new(units);
    let mut matched = Vec::new();
    for (i, sub) in candidates(req, plan) {
        let hit = match &sub.filter {
            None => true,
            Some(f) => f(&req.payload, &mut budget).ok()?,
        };
        if hit {
            matched.push(i);
        }
    }
    Some(Selection {
        matched,
        exhausted: Vec::new(),
    })
}

/// Evaluates every filter with its own budget of `per_filter` units.
pub fn select_bounded(req: &PublishRequest, plan: &FanoutPlan, per_filter: u64) -> Selection {
    let mut selection = Selection::default();
    for (i, sub) in candidates(req, plan) {
        let hit = match &sub.filter {
            None => true,
            Some(f) => match f(&req.payload, &mut Budget::new(per_filter)) {
                Ok(hit) => hit,
                Err(_) => {
                    selection.exhausted.push(sub.id.clone());
                    false
                }
            },
        };
        if hit {
            selection.matched.push(i);
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::test_request as req;
    use crate::routing::PayloadFilter;
    use serde_json::json;
    use std::sync::Arc;
    use std::time::Duration;
    use switchyard_core::jsonpath::{JsonPath, Limits};

    fn sub(id: &str, enabled: bool, filter: Option<&str>) -> PlannedSubscription {
        PlannedSubscription {
            id: id.into(),
            enabled,
            filter: filter.map(|f| {
                let p = JsonPath::parse(f, &Limits::default()).unwrap();
                Arc::new(move |v: &serde_json::Value, b: &mut Budget| p.matches(v, b))
                    as PayloadFilter
            }),
            response_deadline: Duration::from_secs(1),
            gated: false,
            ordering: None,
        }
    }

    #[test]
    fn filters_enabled_and_requested_subscriptions_decide() {
        let plan = FanoutPlan {
            subscriptions: vec![
                sub("all", true, None),
                sub("off", false, None),
                sub("dept", true, Some("$[?@.dept == 'ops']")),
                sub("other", true, Some("$[?@.dept == 'hr']")),
            ],
            ..FanoutPlan::default()
        };
        let mut r = req(json!([{"dept": "ops"}]));
        let s = select_inline(&r, &plan, INLINE_UNITS).unwrap();
        assert_eq!(s.matched, vec![0, 2]);
        assert_eq!(select_bounded(&r, &plan, 1000), s);
        r.include_disabled = true;
        r.only_subscriptions = Some(vec!["off".into(), "other".into()]);
        assert_eq!(
            select_inline(&r, &plan, INLINE_UNITS).unwrap().matched,
            vec![1]
        );
    }

    #[test]
    fn costly_filters_leave_the_runtime_and_exhausted_ones_do_not_match() {
        let plan = FanoutPlan {
            subscriptions: vec![
                sub("cheap", true, Some("$[0]")),
                sub("costly", true, Some("$..[?$..[?$..*]]")),
            ],
            ..FanoutPlan::default()
        };
        let big = json!((0..200).map(|i| json!({"a": [i, i]})).collect::<Vec<_>>());
        let r = req(big);
        assert_eq!(select_inline(&r, &plan, INLINE_UNITS), None);
        let s = select_bounded(&r, &plan, 100_000);
        assert_eq!(s.matched, vec![0]);
        assert_eq!(s.exhausted, vec!["costly".to_string()]);
    }
}
