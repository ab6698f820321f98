//! Domain types and rules of ZITADEL Actions v2: targets (where a call goes and how), execution
//! conditions (when it goes) and execution target lists, the catalog of names a condition may
//! use, and the pure best-match resolution the delivery engine relies on. Every type here can
//! only hold a valid value, so the API and the store never re-check rules.

pub mod catalog;
pub mod condition;
pub mod execution;
pub mod public_key;
pub mod search;
pub mod target;

pub use catalog::ZitadelCatalog;
pub use condition::{Condition, EventSelector, ExecutionType, MethodSelector};
pub use execution::{check_entries, ExecutionEntry, IncludeError, MAX_ENTRIES, MAX_INCLUDE_DEPTH};
pub use search::{ExecutionSort, Page, TargetSort, TextMatch, TextMethod};
pub use target::{
    Endpoint, KeyExpiration, PayloadType, TargetConfig, TargetName, TargetPatch, TargetTimeout,
    TargetType, TypePatch, MAX_ENDPOINT_CHARS_V2, MAX_ENDPOINT_CHARS_V3ALPHA,
};
