//! Switchyard's own API: the producer calls (`/v1/events`, `/v1/invocations`), invocation
//! inspection and replay,
//! and `/metrics`. Errors use the `Native` dialect.

pub(crate) mod events;
mod invocations;
mod metrics;
mod secrets;
pub(crate) mod start;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(events::router())
        .merge(invocations::router())
        .merge(metrics::router())
        .merge(secrets::router())
        .merge(start::router())
}
