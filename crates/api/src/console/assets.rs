//! The console's static files, embedded at compile time so the binary needs nothing beside it.
//! They are public (the sign-in page needs them before there is a session) and hold no data.
//! Vendored files keep their upstream names and versions in `static/console/README.md`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// One embedded file: its name under `/console/assets/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../static/console/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

static ASSETS: [Asset; 8] = [
    asset!("htmx.min.js", JS),
    asset!("htmx.LICENSE", TEXT),
    asset!("uPlot.iife.min.js", JS),
    asset!("uPlot.min.css", CSS),
    asset!("uPlot.LICENSE", TEXT),
    asset!("console.css", CSS),
    asset!("console.js", JS),
    asset!("README.md", TEXT),
];

/// `GET /console/assets/{name}`: an embedded file, cacheable for an hour.
pub(super) async fn serve(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(a) => (
            [
                (header::CONTENT_TYPE, a.content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            a.bytes,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, TEXT)],
            "no such asset",
        )
            .into_response(),
    }
}
