//! The error bodies of each dialect as OpenAPI schemas, so every documented error status of an
//! operation names the exact shape its dialect renders (`ConnectError`, `ZitadelRestError`,
//! `SailPointError`, ...). These types only describe the wire; the renderers beside them build it.

use super::DialectKind;
use serde::Serialize;
use utoipa::ToSchema;

/// Connect protocol error: `{code, message}` with the code's name.
#[derive(Serialize, ToSchema)]
pub struct ConnectError {
    /// The Connect code name (`not_found`, `invalid_argument`, `unauthenticated`, ...).
    #[schema(example = "not_found")]
    pub code: String,
    pub message: String,
}

/// ZITADEL REST (grpc-gateway) error: `{code, message, details}` with the gRPC code number.
#[derive(Serialize, ToSchema)]
pub struct ZitadelRestError {
    /// The gRPC status code (3 invalid argument, 5 not found, 16 unauthenticated, ...).
    #[schema(example = 5)]
    pub code: i32,
    pub message: String,
    pub details: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// One localized message of a SailPoint error.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SailPointErrorMessage {
    #[schema(example = "en-US")]
    pub locale: String,
    #[schema(example = "DEFAULT")]
    pub locale_origin: String,
    pub text: String,
}

/// SailPoint's ErrorResponseDto, used for every error but 401 and 429.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SailPointError {
    #[schema(example = "404 Not found")]
    pub detail_code: String,
    /// Also written to the server's log line for the request.
    pub tracking_id: String,
    pub messages: Vec<SailPointErrorMessage>,
    pub causes: Vec<SailPointErrorMessage>,
}

/// SailPoint's 401 body: `{"error": "JWT validation failed: ..."}`.
#[derive(Serialize, ToSchema)]
pub struct SailPointUnauthorized {
    pub error: String,
}

/// SailPoint's 429 body: `{"message": " Rate Limit Exceeded "}`.
#[derive(Serialize, ToSchema)]
pub struct SailPointRateLimited {
    pub message: String,
}

/// Switchyard's own API: the same `{code, message}` as Connect.
#[derive(Serialize, ToSchema)]
pub struct NativeError {
    /// The code name (`not_found`, `invalid_argument`, `unavailable`, ...).
    #[schema(example = "invalid_argument")]
    pub code: String,
    pub message: String,
}

/// The component name of the body `dialect` renders for `status`.
pub fn error_schema(dialect: DialectKind, status: u16) -> &'static str {
    match (dialect, status) {
        (DialectKind::Connect, _) => "ConnectError",
        (DialectKind::ZitadelRest, _) => "ZitadelRestError",
        (DialectKind::SailPoint, 401) => "SailPointUnauthorized",
        (DialectKind::SailPoint, 429) => "SailPointRateLimited",
        (DialectKind::SailPoint, _) => "SailPointError",
        (DialectKind::Native, _) => "NativeError",
    }
}
