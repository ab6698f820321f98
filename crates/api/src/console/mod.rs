//! The web console at `/console`: server-rendered HTML pages over the API the binary already
//! serves, with nothing to install at run time and no Node.js at build time.
//!
//! - **Templates**: [askama](https://docs.rs/askama). Templates are compiled into the binary by a
//!   derive macro, so a typo in a field name or a filter is a compile error, there are no
//!   template files to ship or find at run time, and every `{{ value }}` is HTML-escaped by
//!   default (the pages show tenant-supplied text: URLs, errors, payloads).
//! - **Static files**: htmx (0BSD) and uPlot (MIT), checked in as their npm packages' minified
//!   dist files beside their licenses under `crates/api/static/console/`, plus a small
//!   hand-written stylesheet and script; embedded with `include_bytes!` ([`assets`]). htmx only
//!   boosts links and forms (every page also works as plain HTML forms); uPlot draws the
//!   overview's charts.
//! - **Data**: every page reads and acts through the API router itself, in process, with the
//!   session's bearer token ([`backend`]). The token's scopes, its instance, the rate limits and
//!   the validation errors are therefore exactly the API's: the console adds no authorization
//!   of its own that could drift from it.
//! - **Sessions**: a sealed cookie ([`session`]): the token is held in the cookie, encrypted and
//!   authenticated with the server's master key (XChaCha20-Poly1305), so nothing is kept on the
//!   server and every node of a cluster accepts it. HttpOnly, SameSite=Strict, Path=/console.
//!   State-changing requests need the session's CSRF token and a same-origin `Origin`.
//!   An action's outcome reaches the next page in a second sealed cookie (a minute at most,
//!   cleared once shown; [`page::redirect`]), not in the URL.
//!
//! Console pages are not API operations: they are not in the OpenAPI document.

mod assets;
mod backend;
mod deliveries;
mod executions;
mod form;
mod history;
mod json_patch;
mod overview;
mod page;
mod routes_page;
mod session;
mod signin;
mod subscriptions;
mod targets;

use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// What every console handler gets.
#[derive(Clone)]
pub(crate) struct Console {
    pub state: AppState,
    /// The API router the pages call in process (guards, scopes, validation included).
    pub api: Router,
    /// Samples of the engine's counters for the overview's charts.
    pub history: Arc<history::History>,
}

/// The console's routes under `/console`, calling `api` for their data.
pub fn router(state: AppState, api: Router) -> Router {
    let max_body = state.settings.max_body_bytes;
    let console = Console {
        history: Arc::new(history::History::new(
            state.engine.clone(),
            state.store.clone(),
            state.clock.clone(),
        )),
        state,
        api,
    };
    Router::new()
        .route("/console", get(overview::page))
        .route("/console/", get(overview::page))
        .route("/console/overview/data", get(overview::data))
        .route("/console/assets/{name}", get(assets::serve))
        .route("/console/sign-in", get(signin::form).post(signin::submit))
        .route("/console/sign-out", post(signin::sign_out))
        .route("/console/instance", post(signin::pick_instance))
        .route("/console/deliveries", get(deliveries::list))
        .route("/console/deliveries/recover", post(deliveries::recover))
        .route("/console/deliveries/{id}", get(deliveries::detail))
        .route("/console/deliveries/{id}/replay", post(deliveries::replay))
        .route("/console/deliveries/{id}/cancel", post(deliveries::cancel))
        .merge(routes_page::router())
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            page::clear_shown_flash,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(console)
}
