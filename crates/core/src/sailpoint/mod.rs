//! Domain types and rules of the SailPoint Event Triggers dialect: the trigger catalog (built-in
//! and per-instance custom triggers with compiled JSON Schemas), subscriptions and their
//! validation, JSONPath filters, JSON Patch of subscriptions, and SailPoint's collection query
//! syntax (`filters`, `sorters`, `limit`, `offset`). Everything here is pure so the API and the
//! delivery engine share exactly the same rules.

pub mod aws;
pub mod catalog;
pub mod jsonpath;
pub mod patch;
pub mod query;
pub mod subscription;
pub mod trigger;

pub use catalog::TriggerCatalog;
pub use jsonpath::JsonPathFilter;
pub use subscription::{
    DispatchMode, EventBridgeConfig, HttpAuth, HttpConfig, ResponseDeadline, Secret, Subscription,
    SubscriptionDoc, SubscriptionTarget,
};
pub use trigger::{Trigger, TriggerDefinition, TriggerType};
