//! Switchyard's own API: the producer calls (`/v1/events`, `/v1/invocations`, `/v1/calls`),
//! the ZITADEL event catalog, invocation and call inspection, the operator's lists (invocations,
//! events, API clients), cancel, replay and bulk recovery, route delivery policies, subscription
//! secrets, target health and `/metrics`.
//! Errors use the `Native` dialect.

mod calls;
mod catalog;
mod clients;
pub(crate) mod events;
mod invocations;
mod metrics;
mod policy;
mod search;
mod secrets;
pub(crate) mod start;
mod target_health;
mod web_keys;
pub mod wire;

use crate::routes::Routes;

pub fn routes() -> Routes {
    calls::routes()
        .merge(clients::routes())
        .merge(search::routes())
        .merge(catalog::routes())
        .merge(events::routes())
        .merge(invocations::routes())
        .merge(metrics::routes())
        .merge(policy::routes())
        .merge(secrets::routes())
        .merge(start::routes())
        .merge(target_health::routes())
        .merge(web_keys::routes())
}
