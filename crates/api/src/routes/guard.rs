//! The per-route guard: layered onto each route's handler by [`super::Routes::into_router`] with
//! that route's [`Rule`]. It authorizes the request (scope routes), hands the principal to the
//! handler's extractors, and after a successful route-changing call drops the routing caches of
//! the instance the handler acted on (resolved by the [`crate::tenant::Tenant`] extractor and
//! handed back through [`ResolvedInstance`]).

use super::{Access, Invalidates, Rule};
use crate::auth::authorize;
use crate::dialect::DialectKind;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::routing::MethodRouter;
use std::sync::{Arc, OnceLock};
use switchyard_core::InstanceId;

/// Filled by the `Tenant` extractor with the instance the request acted on.
#[derive(Clone, Default)]
pub struct ResolvedInstance(pub Arc<OnceLock<InstanceId>>);

#[derive(Clone)]
struct Guarded {
    state: AppState,
    rule: Rule,
    dialect: DialectKind,
}

/// `handler` behind the guard of `rule`. Only the route's own methods are guarded: a method the
/// path does not serve falls through to the router's deny-by-default 405.
pub(super) fn layer(
    handler: MethodRouter<AppState>,
    state: &AppState,
    rule: Rule,
    dialect: DialectKind,
) -> MethodRouter<AppState> {
    let guarded = Guarded {
        state: state.clone(),
        rule,
        dialect,
    };
    handler.route_layer(from_fn_with_state(guarded, guard))
}

async fn guard(State(g): State<Guarded>, mut req: Request, next: Next) -> Response {
    if let Access::Scope(needed) = g.rule.access {
        match authorize(&g.state, req.headers(), needed, g.rule.rate, g.dialect).await {
            Ok(principal) => {
                req.extensions_mut().insert(principal);
            }
            Err(refusal) => return refusal,
        }
    }
    if g.rule.invalidates == Invalidates::Nothing {
        return next.run(req).await;
    }
    let slot = ResolvedInstance::default();
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    if resp.status().is_success() {
        if let Some(instance) = slot.0.get() {
            g.state.engine.routing().invalidate(instance);
            g.state.calls.invalidate(instance);
        }
    }
    resp
}
