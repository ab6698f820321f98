//! Switchyard's own events ("operator events"): what the delivery engine has to say about the
//! routes it delivers to. They are ordinary catalog entries — a SailPoint trigger each (with its
//! input schema and example, `sailpoint/catalog/switchyard-*.json`) and a ZITADEL event type of
//! the same name — so users subscribe to them like to any other event, with any destination.
//! The engine publishes them through the normal publish path of the route's own instance, and
//! never about deliveries of these events themselves (so a broken operator route cannot feed
//! itself).

/// A route was switched off (410 Gone, autoDisable, or an operator).
pub const ROUTE_DISABLED: &str = "switchyard:route-disabled";
/// An invocation failed for good.
pub const ATTEMPTS_EXHAUSTED: &str = "switchyard:attempts-exhausted";
/// A route failed N times in a row.
pub const ROUTE_FAILING: &str = "switchyard:route-failing";
/// A route reported failing delivered again.
pub const ROUTE_RECOVERED: &str = "switchyard:route-recovered";

/// Every operator event type.
pub const ALL: [&str; 4] = [
    ROUTE_DISABLED,
    ATTEMPTS_EXHAUSTED,
    ROUTE_FAILING,
    ROUTE_RECOVERED,
];

/// The namespace of operator events, reserved: no custom trigger may use it.
pub const NAMESPACE: &str = "switchyard:";

/// Whether `event_type` is one of Switchyard's own events (deliveries of which are never
/// reported on).
pub fn is_operator_event(event_type: &str) -> bool {
    event_type.starts_with(NAMESPACE)
}

/// Why a route was switched off (`reason` of [`ROUTE_DISABLED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisableReason {
    /// The receiver answered 410 Gone.
    Gone,
    /// No successful delivery for the route's `autoDisable.after`.
    AutoDisable,
    /// Someone switched it off through the API.
    Operator,
}

impl DisableReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisableReason::Gone => "gone",
            DisableReason::AutoDisable => "autoDisable",
            DisableReason::Operator => "operator",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operator_event_is_in_both_catalogs() {
        let sailpoint = crate::sailpoint::TriggerCatalog::builtin();
        let zitadel = crate::zitadel::ZitadelCatalog::with_defaults();
        for name in ALL {
            assert!(is_operator_event(name));
            assert!(
                sailpoint.get(name).is_some(),
                "{name} in the trigger catalog"
            );
            assert!(
                zitadel.events().any(|e| e == name),
                "{name} in the event catalog"
            );
        }
        assert!(!is_operator_event("idn:identity-created"));
    }
}
