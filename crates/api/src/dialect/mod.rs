//! Error shapes. Each wire dialect renders an [`ApiError`] its own way; handlers never build error
//! bodies by hand, so a new rule is reported consistently on every surface. [`DialectKind`] names
//! a dialect as a value: routes declare theirs, and [`DialectKind::for_path`] picks one for
//! requests no route matches (unknown paths, wrong methods, oversized bodies).

mod connect;
mod native;
mod sailpoint;
pub mod schema;
mod zitadel_rest;

pub use connect::Connect;
pub use native::Native;
pub use sailpoint::SailPoint;
pub use zitadel_rest::ZitadelRest;

use crate::error::ApiError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// A wire dialect: knows how to render errors.
pub trait Dialect: Send + Sync + 'static {
    fn render(err: ApiError) -> Response;
}

/// `Retry-After` of a 503 that does not say otherwise: the store or the server is briefly
/// unavailable, and a producer should come back soon rather than give up.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 1;

/// Adds `Retry-After` when the error carries one; every 503 carries one.
pub(crate) fn with_retry_after(mut resp: Response, err_retry: Option<u64>) -> Response {
    let secs = err_retry.or_else(|| {
        (resp.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(UNAVAILABLE_RETRY_AFTER_SECS)
    });
    if let Some(secs) = secs {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// The error dialect of a route, as a value (so it can be chosen at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialectKind {
    Connect,
    ZitadelRest,
    SailPoint,
    Native,
}

impl DialectKind {
    /// Renders `err` in this dialect's shape.
    pub fn render(self, err: ApiError) -> Response {
        match self {
            DialectKind::Connect => Connect::render(err),
            DialectKind::ZitadelRest => ZitadelRest::render(err),
            DialectKind::SailPoint => SailPoint::render(err),
            DialectKind::Native => Native::render(err),
        }
    }

    /// The dialect a client of `path` expects when no route answers it. Every declared route's
    /// own dialect agrees with this (a unit test checks), so a mistyped path under a surface is
    /// answered in that surface's shape.
    pub fn for_path(path: &str) -> DialectKind {
        if path.starts_with("/zitadel.") {
            DialectKind::Connect
        } else if path.starts_with("/resources/") || path.starts_with("/v2/") {
            DialectKind::ZitadelRest
        } else if [
            "/triggers",
            "/trigger-subscriptions",
            "/trigger-invocations",
            "/beta/",
        ]
        .iter()
        .any(|p| path.starts_with(p))
        {
            DialectKind::SailPoint
        } else {
            DialectKind::Native
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrouted_paths_follow_their_surface() {
        let cases = [
            (
                "/zitadel.action.v2.ActionService/ListTargets",
                DialectKind::Connect,
            ),
            (
                "/resources/v3alpha/actions/targets",
                DialectKind::ZitadelRest,
            ),
            ("/v2/actions/targets/search", DialectKind::ZitadelRest),
            ("/triggers/v1", DialectKind::SailPoint),
            ("/trigger-subscriptions/v1/x", DialectKind::SailPoint),
            ("/trigger-invocations/v1/status", DialectKind::SailPoint),
            ("/beta/triggers", DialectKind::SailPoint),
            ("/v1/events", DialectKind::Native),
            ("/metrics", DialectKind::Native),
            ("/nothing", DialectKind::Native),
        ];
        for (path, dialect) in cases {
            assert_eq!(DialectKind::for_path(path), dialect, "{path}");
        }
    }

    #[test]
    fn every_503_says_when_to_retry() {
        use axum::response::IntoResponse;
        let resp = with_retry_after(StatusCode::SERVICE_UNAVAILABLE.into_response(), None);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        let resp = with_retry_after(StatusCode::TOO_MANY_REQUESTS.into_response(), Some(7));
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
        let resp = with_retry_after(StatusCode::BAD_REQUEST.into_response(), None);
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
    }
}
