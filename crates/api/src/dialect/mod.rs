//! Error shapes. Each wire dialect renders an [`ApiError`] its own way; handlers never build error
//! bodies by hand, so a new rule is reported consistently on every surface.

mod connect;
mod native;
mod sailpoint;
mod zitadel_rest;

pub use connect::Connect;
pub use native::Native;
pub use sailpoint::SailPoint;
pub use zitadel_rest::ZitadelRest;

use crate::error::ApiError;
use axum::http::{header, HeaderValue};
use axum::response::Response;

/// A wire dialect: knows how to render errors.
pub trait Dialect: Send + Sync + 'static {
    fn render(err: ApiError) -> Response;
}

/// Adds `Retry-After` when the error carries one.
pub(crate) fn with_retry_after(mut resp: Response, err_retry: Option<u64>) -> Response {
    if let Some(secs) = err_retry {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    resp
}
