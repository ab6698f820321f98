//! The overview: queue depth by state, deliveries per second by outcome and delivery latency
//! over the last hour ([`super::history`]). These counters are server-wide, so they need what
//! `GET /metrics` needs (`metrics:read` or `system`): the page asks the API for `/metrics` with
//! the session's token and shows the charts only when the API would have answered.

use super::history;
use super::page::{self, Chrome};
use super::session::{secure, signed_out, Session};
use super::Console;
use askama::Template;
use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    /// Why there are no charts, when the token may not see them.
    refused: Option<String>,
    /// Live invocations by state now.
    depth: Vec<(&'static str, i64)>,
    scopes: String,
}

/// Whether the session's token may read the server's metrics, as the API decides.
async fn metrics_allowed(c: &Console, session: &Session) -> Result<(), (StatusCode, String)> {
    let answer = c.get(session, "/metrics").await;
    if answer.ok() {
        Ok(())
    } else {
        Err((answer.status, answer.error_text()))
    }
}

/// `GET /console`.
pub(super) async fn page(State(c): State<Console>, session: Session) -> Response {
    let (refused, depth) = match metrics_allowed(&c, &session).await {
        Ok(()) => {
            c.history.start();
            let now = c.history.sample().await;
            let depth = now.depth.iter().map(|(s, n)| (s.as_str(), *n)).collect();
            (None, depth)
        }
        Err((StatusCode::UNAUTHORIZED, _)) => {
            return signed_out(&Method::GET, &Default::default(), secure(&c))
        }
        Err((_, why)) => (Some(why), Vec::new()),
    };
    page::html(
        StatusCode::OK,
        &OverviewPage {
            chrome: Chrome::new(&session, "overview", None),
            refused,
            depth,
            scopes: session.scopes.clone(),
        },
    )
}

/// `GET /console/overview/data`: the charts' series as JSON (the page's script polls it).
pub(super) async fn data(State(c): State<Console>, session: Session) -> Response {
    if let Err((status, why)) = metrics_allowed(&c, &session).await {
        return (status, why).into_response();
    }
    c.history.start();
    let now = c.history.sample().await;
    let series = history::series(&c.history.with(now));
    ([(header::CACHE_CONTROL, "no-store")], axum::Json(series)).into_response()
}
