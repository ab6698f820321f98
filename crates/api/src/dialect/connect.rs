//! The Connect protocol's error shape: `{code: "not_found", message}` with the matching status.

use super::zitadel_rest::public_message;
use super::{with_retry_after, Dialect};
use crate::error::ApiError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// ZITADEL's Connect surface (`/zitadel.action.v2.ActionService/...`), what the SDK calls.
pub struct Connect;

impl Dialect for Connect {
    fn render(err: ApiError) -> Response {
        err.log(None);
        let body = json!({
            "code": err.code.connect_name(),
            "message": public_message(&err),
        });
        with_retry_after((err.status(), Json(body)).into_response(), err.retry_after)
    }
}
