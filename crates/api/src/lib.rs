//! Switchyard's HTTP API. One module per wire dialect (`zitadel`, `sailpoint`, `native`), each a
//! thin translation over the dialect-free core; errors are rendered in each dialect's own shape.
//! Every route is registered through `utoipa_axum`, so `/openapi.json` covers all of them.
//! Authentication is one middleware over the whole router ([`auth::authenticate`]), so every
//! route, including ones added later, is covered without touching its handler.

pub mod auth;
pub mod dialect;
pub mod error;
pub mod extract;
mod health;
pub mod invalidate;
pub mod native;
pub mod sailpoint;
pub mod state;
pub mod tenant;
pub mod zitadel;

pub use state::{ApiSettings, AppState};

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(info(
    title = "Switchyard",
    description = "Self-hosted event-hooks engine: ZITADEL Actions v2 and SailPoint Event Triggers compatible."
))]
struct ApiDoc;

/// The complete router with all dialects, `/openapi.json` and the fallbacks.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.max_body_bytes;
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .merge(auth::router())
        .merge(zitadel::router())
        .merge(sailpoint::router())
        .merge(native::router())
        .split_for_parts();
    let doc = serde_json::to_value(&api).unwrap_or_default();
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { Json(doc.clone()) }),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            invalidate::invalidate_routes,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        // Outermost: authenticate every request, routed or not, before anything else runs.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .with_state(state)
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        Json(serde_json::json!({"code": 5, "message": "no such route"})),
    )
}
