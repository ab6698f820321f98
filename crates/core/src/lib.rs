//! Switchyard's dialect-free domain: types that can only hold valid values, and the pure logic
//! (durations, ids, secrets, signatures, filters, patches, retry schedules) that the store, the
//! delivery engine and the API layers share. Nothing in this crate performs I/O, so everything
//! here is unit-testable and identical on every node.

pub mod auth;
pub mod breaker;
pub mod clock;
pub mod crypto;
pub mod delivery_url;
pub mod duration;
pub mod error;
pub mod ids;
pub mod instance;
pub mod invocation;
pub mod jose;
pub mod jsonpath;
pub mod netguard;
pub mod operator;
pub mod payload;
pub mod policy;
pub mod retry;
pub mod sailpoint;
pub mod signing;
pub mod text;
pub mod wait;
pub mod zitadel;

pub use clock::{Clock, SystemClock, Timestamp};
pub use error::ValidationError;
pub use instance::InstanceId;
