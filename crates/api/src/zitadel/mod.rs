//! The ZITADEL Actions dialect: targets and executions over three surfaces that share one
//! store — v3alpha resources REST (`/resources/v3alpha/actions/...`), v2 REST
//! (`/v2/actions/...`) and v2 Connect (`/zitadel.action.v2.ActionService/...`, what the SDK
//! calls). Surfaces only translate JSON; the operations live in `service`.

mod body;
mod connect;
mod rest_v2;
mod service;
mod v2;
mod v3alpha;
pub(crate) mod wire;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(connect::router())
        .merge(rest_v2::router())
        .merge(v3alpha::router())
}
