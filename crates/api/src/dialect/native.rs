//! Switchyard's own API (`/v1/...`): `{code: "invalid_argument", message}`, like Connect, so one
//! client-side error parser handles both.

use super::zitadel_rest::public_message;
use super::{with_retry_after, Dialect};
use crate::error::ApiError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The native producer and admin API.
pub struct Native;

impl Dialect for Native {
    fn render(err: ApiError) -> Response {
        err.log(None);
        let body = json!({
            "code": err.code.connect_name(),
            "message": public_message(&err),
        });
        with_retry_after((err.status(), Json(body)).into_response(), err.retry_after)
    }
}
