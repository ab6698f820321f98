//! Switchyard's own API: the producer calls (`/v1/events`, `/v1/invocations`, `/v1/calls`),
//! invocation and call inspection, replay, subscription secrets, target health and `/metrics`.
//! Errors use the `Native` dialect.

mod calls;
pub(crate) mod events;
mod invocations;
mod metrics;
mod secrets;
pub(crate) mod start;
mod target_health;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(calls::router())
        .merge(events::router())
        .merge(invocations::router())
        .merge(metrics::router())
        .merge(secrets::router())
        .merge(start::router())
        .merge(target_health::router())
}
