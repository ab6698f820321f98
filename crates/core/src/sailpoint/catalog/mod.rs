//! The built-in IdentityNow trigger catalog and the per-instance view of it. The JSON files
//! beside this module hold each trigger's definition; their schemas were derived from the payload
//! models of the official SailPoint SDK (`sailpoint.triggers.models`), and the unit tests below
//! prove every example validates against its schema. The `switchyard-*.json` files are
//! Switchyard's own operator events (see [`crate::operator`]), written here.

use super::trigger::{Trigger, TriggerDefinition};
use std::sync::OnceLock;

const FILES: &[(&str, &str)] = &[
    ("identity-created", include_str!("identity-created.json")),
    (
        "identity-attributes-changed",
        include_str!("identity-attributes-changed.json"),
    ),
    ("identity-deleted", include_str!("identity-deleted.json")),
    (
        "account-aggregation-completed",
        include_str!("account-aggregation-completed.json"),
    ),
    (
        "aggregation-accounts-collected",
        include_str!("aggregation-accounts-collected.json"),
    ),
    (
        "account-attributes-changed",
        include_str!("account-attributes-changed.json"),
    ),
    (
        "account-correlated",
        include_str!("account-correlated.json"),
    ),
    (
        "account-uncorrelated",
        include_str!("account-uncorrelated.json"),
    ),
    (
        "access-request-post-approval",
        include_str!("access-request-post-approval.json"),
    ),
    ("source-created", include_str!("source-created.json")),
    ("source-updated", include_str!("source-updated.json")),
    ("source-deleted", include_str!("source-deleted.json")),
    (
        "campaign-activated",
        include_str!("campaign-activated.json"),
    ),
    ("campaign-ended", include_str!("campaign-ended.json")),
    (
        "campaign-generated",
        include_str!("campaign-generated.json"),
    ),
    ("post-provisioning", include_str!("post-provisioning.json")),
    (
        "saved-search-complete",
        include_str!("saved-search-complete.json"),
    ),
    (
        "va-cluster-status-change",
        include_str!("va-cluster-status-change.json"),
    ),
    (
        "access-request-pre-approval",
        include_str!("access-request-pre-approval.json"),
    ),
    (
        "access-request-dynamic-approver",
        include_str!("access-request-dynamic-approver.json"),
    ),
    (
        "switchyard-route-disabled",
        include_str!("switchyard-route-disabled.json"),
    ),
    (
        "switchyard-attempts-exhausted",
        include_str!("switchyard-attempts-exhausted.json"),
    ),
    (
        "switchyard-route-failing",
        include_str!("switchyard-route-failing.json"),
    ),
    (
        "switchyard-route-recovered",
        include_str!("switchyard-route-recovered.json"),
    ),
];

fn builtins() -> &'static [Trigger] {
    static BUILTINS: OnceLock<Vec<Trigger>> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, text)| {
                // The files are part of the binary and covered by tests; a broken one is a
                // build defect, not a runtime condition.
                let def: TriggerDefinition = serde_json::from_str(text)
                    .unwrap_or_else(|e| panic!("catalog/{name}.json: {e}"));
                Trigger::build(def, true).unwrap_or_else(|e| panic!("catalog/{name}.json: {e}"))
            })
            .collect()
    })
}

/// The triggers visible to one instance: the built-ins plus that instance's custom triggers.
#[derive(Debug, Clone)]
pub struct TriggerCatalog {
    custom: Vec<Trigger>,
}

impl TriggerCatalog {
    /// The built-in catalog alone.
    pub fn builtin() -> Self {
        Self { custom: Vec::new() }
    }

    /// The built-ins plus `custom` (definitions already accepted by [`Trigger::custom`] when
    /// stored; ones that no longer compile are skipped rather than failing every request).
    pub fn with_custom(custom: impl IntoIterator<Item = TriggerDefinition>) -> Self {
        Self {
            custom: custom
                .into_iter()
                .filter_map(|d| Trigger::build(d, false).ok())
                .collect(),
        }
    }

    /// True when `id` names a built-in trigger.
    pub fn is_builtin(id: &str) -> bool {
        builtins().iter().any(|t| t.id() == id)
    }

    pub fn get(&self, id: &str) -> Option<&Trigger> {
        builtins()
            .iter()
            .chain(self.custom.iter())
            .find(|t| t.id() == id)
    }

    /// Every trigger, built-ins first.
    pub fn all(&self) -> impl Iterator<Item = &Trigger> {
        builtins().iter().chain(self.custom.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sailpoint::trigger::TriggerType;

    #[test]
    fn every_example_validates_against_its_schema() {
        let c = TriggerCatalog::builtin();
        let all: Vec<&Trigger> = c.all().collect();
        assert!(all.len() >= 12);
        for t in &all {
            let d = t.definition();
            t.validate_input(&d.example_input)
                .unwrap_or_else(|e| panic!("{}: {e:?}", t.id()));
            assert!(
                d.id.starts_with("idn:") || crate::operator::is_operator_event(&d.id),
                "{}",
                d.id
            );
            if t.kind() == TriggerType::RequestResponse {
                let out = d.example_output.as_ref().expect("example output");
                t.validate_output(out)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", t.id()));
            }
        }
        let rr = all
            .iter()
            .filter(|t| t.kind() == TriggerType::RequestResponse)
            .count();
        assert!(rr >= 2);
        for id in [
            "idn:identity-created",
            "idn:access-request-pre-approval",
            "idn:access-request-dynamic-approver",
        ] {
            assert!(c.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn schemas_have_teeth() {
        let c = TriggerCatalog::builtin();
        let t = c.get("idn:identity-created").unwrap();
        assert!(t.validate_input(&serde_json::json!({})).is_err());
        let mut bad = t.definition().example_input.clone();
        bad["identity"]["id"] = serde_json::json!(42);
        assert!(t.validate_input(&bad).is_err());
        let rr = c.get("idn:access-request-pre-approval").unwrap();
        let errs = rr
            .validate_output(&serde_json::json!({"approved": "yes"}))
            .unwrap_err();
        assert!(!errs.is_empty());
    }

    #[test]
    fn custom_triggers_join_the_builtins() {
        let def = TriggerDefinition {
            id: "acme:x".into(),
            name: "X".into(),
            kind: TriggerType::FireAndForget,
            description: None,
            input_schema: serde_json::json!({"type": "object"}),
            example_input: serde_json::json!({}),
            output_schema: None,
            example_output: None,
        };
        let c = TriggerCatalog::with_custom([def]);
        assert!(c.get("acme:x").is_some());
        assert!(!TriggerCatalog::is_builtin("acme:x"));
        assert!(TriggerCatalog::builtin().get("acme:x").is_none());
    }
}
