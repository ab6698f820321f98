//! Switchyard's delivery engine. Events are accepted in group-committed batches; invocations go
//! to workers straight from memory when capacity is free (the fast path) or are claimed from the
//! durable queue with a lease; every attempt is recorded; failures retry on a jittered schedule.
//!
//! Stages, each its own module: [`routing`] (which routes an event reaches) → [`request`]
//! (the signed HTTP request; [`cloudevents`] for routes whose policy asks for CloudEvents) → [`sender`] (pooled client) → [`outcome`] (classify the answer,
//! decide the next step) → [`batch`] (group-commit the result).

pub mod batch;
pub mod calls;
pub mod cloudevents;
pub mod deadlines;
pub mod engine;
pub mod filters;
pub mod guard;
pub mod metrics;
pub mod outcome;
pub mod publish;
pub mod request;
pub mod routing;
pub mod sender;
pub mod store_routing;
pub mod waiters;

pub use engine::{Engine, EngineConfig};
pub use publish::{PublishError, PublishRequest, Published};
pub use routing::{Destination, FanoutPlan, Routing, RoutingError};
