//! Switchyard's HTTP API. One module per wire dialect (`zitadel`, `sailpoint`, `native`), each a
//! thin translation over the dialect-free core; errors are rendered in each dialect's own shape.
//! Every route is registered through [`routes::Routes`] with its rules (scope, rate class, caches
//! it invalidates) and its dialect, so `/openapi.json` and the per-route guards both come from
//! the one declaration. Requests no route serves are denied by default ([`fallback`]).

pub mod auth;
mod console;
pub mod dialect;
pub mod error;
pub mod extract;
pub mod fallback;
mod health;
pub mod native;
mod openapi;
pub mod routes;
pub mod sailpoint;
pub mod state;
mod strict_json;
pub mod tenant;
pub mod zitadel;

pub use state::{ApiSettings, AppState};

use axum::extract::DefaultBodyLimit;
use axum::Router;

/// Every route of every dialect, with its rules.
pub fn all_routes() -> routes::Routes {
    health::routes()
        .merge(auth::routes())
        .merge(zitadel::routes())
        .merge(sailpoint::routes())
        .merge(native::routes())
}

/// The OpenAPI document (what `/openapi.json` serves), built without a running server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    all_routes().openapi(openapi::base())
}

/// The complete router: the console under `/console`, then every dialect, `/openapi.json` and
/// the fallbacks.
pub fn router(state: AppState) -> Router {
    let api = api_router(state.clone());
    console::router(state, api.clone()).fallback_service(api)
}

/// Every dialect, `/openapi.json` and the fallbacks (what the console calls in process).
fn api_router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let (router, api) = all_routes().into_router(&state, openapi::base());
    let doc = serde_json::to_vec(&api).unwrap_or_default();
    router
        .layer(axum::Extension(openapi::DocumentJson(doc.into())))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        // Outermost: a declared length over the limit is refused before routing.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            fallback::refuse_oversized,
        ))
        .with_state(state)
}
