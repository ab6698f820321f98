//! Switchyard's delivery engine. Events are accepted in group-committed batches; invocations go
//! to workers straight from memory when capacity is free (the fast path) or are claimed from the
//! durable queue with a lease; every attempt is recorded; failures retry on a jittered schedule.
//!
//! Stages, each its own module: [`routing`] (which routes an event reaches, and each route's
//! destination) → [`prepare`] (the signed, transport-neutral message) → [`transport`] (one module
//! per transport, long-lived clients owned by the engine) → [`classify`] (what the response
//! means, the next step) → [`batch`] (group-commit the result). [`cloudevents`] builds the
//! body of routes whose policy asks for CloudEvents.

pub mod batch;
pub mod calls;
pub mod classify;
pub mod cloudevents;
pub mod deadlines;
pub mod engine;
pub mod filters;
pub mod guard;
pub mod health;
pub mod metrics;
pub mod payload_type;
pub mod prepare;
pub mod publish;
pub mod retention;
pub mod routing;
pub mod store_routing;
pub mod transport;
pub mod waiters;
pub mod web_keys;

pub use engine::{Engine, EngineConfig};
pub use publish::{PublishError, PublishRequest, Published};
pub use routing::{Destination, Endpoint, FanoutPlan, Routing, RoutingError};
