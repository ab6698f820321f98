//! SailPoint's error shapes: `{detailCode, trackingId, messages, causes}` for most errors,
//! `{"error": "JWT validation failed: ..."}` for 401 and `{"message": " Rate Limit Exceeded "}`
//! for 429. The tracking id is also written to the log line for the request.

use super::zitadel_rest::public_message;
use super::{with_retry_after, Dialect};
use crate::error::{ApiError, Code};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// SailPoint Event Triggers (`/triggers/v1`, `/trigger-subscriptions/v1`, `/beta/...`).
pub struct SailPoint;

impl Dialect for SailPoint {
    fn render(err: ApiError) -> Response {
        let tracking_id = switchyard_core::ids::hex_id();
        err.log(Some(&tracking_id));
        let status = err.status();
        let body = match status {
            StatusCode::UNAUTHORIZED => json!({ "error": err.message }),
            StatusCode::TOO_MANY_REQUESTS => json!({ "message": " Rate Limit Exceeded " }),
            _ => {
                let (detail_code, generic) = detail(status, err.code);
                let text = public_message(&err);
                json!({
                    "detailCode": detail_code,
                    "trackingId": tracking_id,
                    "messages": [message(generic)],
                    "causes": [message(text)],
                })
            }
        };
        with_retry_after((status, Json(body)).into_response(), err.retry_after)
    }
}

fn message(text: &str) -> serde_json::Value {
    json!({"locale": "en-US", "localeOrigin": "DEFAULT", "text": text})
}

fn detail(status: StatusCode, code: Code) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 if code == Code::InvalidArgument => (
            "400.1 Bad Request Content",
            "The request was syntactically correct but its content is semantically invalid.",
        ),
        400 => ("400.0 Bad Request", "The request could not be processed."),
        403 => (
            "403 Forbidden",
            "The server understood the request but refuses to authorize it.",
        ),
        404 => (
            "404 Not found",
            "The server did not find a current representation for the target resource.",
        ),
        405 => (
            "405 Method Not Allowed",
            "The request method is not supported by this resource.",
        ),
        409 => (
            "409 Conflict",
            "The request conflicts with the current state of the resource.",
        ),
        413 => (
            "413 Payload Too Large",
            "The request body is larger than the server accepts.",
        ),
        415 => (
            "415 Unsupported Media Type",
            "The request content type is not supported by this endpoint.",
        ),
        501 => (
            "501 Not Implemented",
            "The server does not support this operation.",
        ),
        503 => (
            "503 Service Unavailable",
            "The service is temporarily unavailable.",
        ),
        s if s >= 500 => ("500.0 Internal Fault", "An internal fault occurred."),
        _ => ("400.0 Bad Request", "The request could not be processed."),
    }
}
