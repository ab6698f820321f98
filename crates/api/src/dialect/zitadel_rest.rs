//! ZITADEL's REST error shape (grpc-gateway): `{code: <gRPC number>, message, details: []}`.

use super::{with_retry_after, Dialect};
use crate::error::ApiError;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The v2 and v3alpha REST surfaces of ZITADEL Actions.
pub struct ZitadelRest;

impl Dialect for ZitadelRest {
    fn render(err: ApiError) -> Response {
        err.log(None);
        let body = json!({
            "code": err.code as i32,
            "message": public_message(&err),
            "details": [],
        });
        with_retry_after((err.status(), Json(body)).into_response(), err.retry_after)
    }
}

pub(crate) fn public_message(err: &ApiError) -> &str {
    if err.source.is_some() && err.status().is_server_error() {
        "internal error"
    } else {
        &err.message
    }
}
