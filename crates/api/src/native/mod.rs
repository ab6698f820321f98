//! Switchyard's own API: the producer calls (`/v1/events`, `/v1/invocations`, `/v1/calls`),
//! invocation and call inspection, replay, route delivery policies, subscription secrets, target health and `/metrics`.
//! Errors use the `Native` dialect.

mod calls;
pub(crate) mod events;
mod invocations;
mod metrics;
mod policy;
mod secrets;
pub(crate) mod start;
mod target_health;
pub mod wire;

use crate::routes::Routes;

pub fn routes() -> Routes {
    calls::routes()
        .merge(events::routes())
        .merge(invocations::routes())
        .merge(metrics::routes())
        .merge(policy::routes())
        .merge(secrets::routes())
        .merge(start::routes())
        .merge(target_health::routes())
}
