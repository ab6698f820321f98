//! Keeps the delivery engine's routing cache honest: after any successful request that may have
//! changed routes (targets, executions, triggers, subscriptions, secrets), the cached plans and
//! destinations of that request's instance are dropped. The instance is the one the handler's
//! [`crate::tenant::Tenant`] extractor resolved, handed back through a request extension.

use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, OnceLock};
use switchyard_core::InstanceId;

/// Filled by the `Tenant` extractor with the instance the request acted on.
#[derive(Clone, Default)]
pub struct ResolvedInstance(pub Arc<OnceLock<InstanceId>>);

/// Paths whose POSTs only read or only produce events (they change no route).
fn changes_routes(method: &Method, path: &str) -> bool {
    if *method == Method::GET || *method == Method::HEAD || *method == Method::OPTIONS {
        return false;
    }
    let read_only = path.ends_with("_search")
        || path.ends_with("/search")
        || path.ends_with("/validate-filter")
        || path.contains("ActionService/Get")
        || path.contains("ActionService/List");
    let producer = path.starts_with("/v1/events")
        || path.starts_with("/v1/invocations")
        || path.starts_with("/v1/calls")
        || path.starts_with("/trigger-invocations")
        || path.starts_with("/beta/trigger-invocations")
        || path.starts_with("/oauth");
    !read_only && !producer
}

/// The middleware.
pub async fn invalidate_routes(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let relevant = changes_routes(req.method(), req.uri().path());
    let slot = ResolvedInstance::default();
    if relevant {
        req.extensions_mut().insert(slot.clone());
    }
    let resp = next.run(req).await;
    if relevant && resp.status().is_success() {
        if let Some(instance) = slot.0.get() {
            state.engine.routing().invalidate(instance);
            state.calls.invalidate(instance);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_route_changes_invalidate() {
        assert!(changes_routes(&Method::POST, "/v2/actions/targets"));
        assert!(changes_routes(
            &Method::PATCH,
            "/trigger-subscriptions/v1/x"
        ));
        assert!(changes_routes(
            &Method::POST,
            "/zitadel.action.v2.ActionService/SetExecution"
        ));
        assert!(changes_routes(
            &Method::POST,
            "/v1/subscriptions/x/secret/rotate"
        ));
        assert!(!changes_routes(&Method::GET, "/v2/actions/targets/1"));
        assert!(!changes_routes(
            &Method::POST,
            "/resources/v3alpha/actions/targets/_search"
        ));
        assert!(!changes_routes(
            &Method::POST,
            "/zitadel.action.v2.ActionService/ListTargets"
        ));
        assert!(!changes_routes(&Method::POST, "/v1/events"));
    }
}
