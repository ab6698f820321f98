//! The ZITADEL Actions dialect: targets (with their public keys) and executions over three surfaces that share one
//! store — v3alpha resources REST (`/resources/v3alpha/actions/...`), v2 REST
//! (`/v2/actions/...`) and v2 Connect (`/zitadel.action.v2.ActionService/...`, what the SDK
//! calls). Surfaces only translate JSON; the operations live in `service`.

mod body;
mod connect;
mod public_keys;
mod rest_v2;
mod service;
mod v2;
mod v3alpha;
pub(crate) mod wire;

use crate::routes::{Routes, Rule};
use switchyard_core::auth::Scope;

/// Reading targets, executions or the condition catalog.
fn read() -> Rule {
    Rule::scope(Scope::TargetsRead)
}

/// Changing targets or executions: the instance's cached routes are dropped after success.
fn write() -> Rule {
    Rule::scope(Scope::TargetsWrite).changes_routes()
}

pub fn routes() -> Routes {
    connect::routes()
        .merge(rest_v2::routes())
        .merge(v3alpha::routes())
}
