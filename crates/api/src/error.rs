//! The API layer's one error type. Handlers fail with an [`ApiError`] (a gRPC-style [`Code`] plus
//! a message); [`Failure<D>`] renders it in dialect `D`'s wire shape. 500s are logged with their
//! cause chain and answered with a generic message, never with internals.

use crate::dialect::Dialect;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::marker::PhantomData;
use switchyard_core::ValidationError;
use switchyard_store::StoreError;

/// Error categories, numbered as gRPC status codes (what ZITADEL's REST errors carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    Unauthenticated = 16,
}

impl Code {
    /// The Connect protocol's name for the code.
    pub fn connect_name(self) -> &'static str {
        match self {
            Code::Cancelled => "canceled",
            Code::Unknown => "unknown",
            Code::InvalidArgument => "invalid_argument",
            Code::DeadlineExceeded => "deadline_exceeded",
            Code::NotFound => "not_found",
            Code::AlreadyExists => "already_exists",
            Code::PermissionDenied => "permission_denied",
            Code::ResourceExhausted => "resource_exhausted",
            Code::FailedPrecondition => "failed_precondition",
            Code::Aborted => "aborted",
            Code::OutOfRange => "out_of_range",
            Code::Unimplemented => "unimplemented",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::Unauthenticated => "unauthenticated",
        }
    }

    /// The HTTP status grpc-gateway and Connect use for the code.
    pub fn http_status(self) -> StatusCode {
        match self {
            Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            Code::Unknown | Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A failed request: what went wrong, in words a client can act on.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// Overrides the code's HTTP status (415 for a wrong content type, 413 for a large body).
    pub status: Option<StatusCode>,
    /// `Retry-After` seconds (429; every 503 gets a default one when this is `None`).
    pub retry_after: Option<u64>,
    /// The cause of an internal error, logged and never sent.
    pub source: Option<anyhow::Error>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: None,
            retry_after: None,
            source: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(Code::NotFound, what)
    }

    /// 503 with `Retry-After` (added by every dialect's renderer): a transient failure of the
    /// store or the server; the request was not carried out and may be retried as it is.
    pub fn unavailable(message: impl Into<String>, cause: Option<anyhow::Error>) -> Self {
        let mut e = Self::new(Code::Unavailable, message);
        e.source = cause;
        e
    }

    pub fn internal(cause: anyhow::Error) -> Self {
        let mut e = Self::new(Code::Internal, "internal error");
        e.source = Some(cause);
        e
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.http_status())
    }

    /// Logs internal errors with their cause chain; called by every dialect renderer.
    pub fn log(&self, tracking_id: Option<&str>) {
        if self.code == Code::Internal || self.status().is_server_error() {
            match &self.source {
                Some(src) => {
                    tracing::error!(tracking_id, error = ?src, "request failed: {}", self.message)
                }
                None => tracing::error!(tracking_id, "request failed: {}", self.message),
            }
        } else {
            tracing::info!(
                tracking_id,
                status = self.status().as_u16(),
                "request rejected: {}",
                self.message
            );
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ApiError::invalid(format!("invalid {}: {}", e.field, e.rule))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::AlreadyExists(m) => ApiError::new(Code::AlreadyExists, m),
            StoreError::Conflict(m) => ApiError::new(Code::FailedPrecondition, m),
            StoreError::Unavailable(m) => ApiError::unavailable(
                "storage is unavailable, try again",
                Some(anyhow::anyhow!(m)),
            ),
            StoreError::Internal(src) => ApiError::internal(src),
        }
    }
}

/// An [`ApiError`] that renders in dialect `D`'s shape. Handlers return `Result<_, Failure<D>>`.
pub struct Failure<D: Dialect>(pub ApiError, PhantomData<D>);

impl<D: Dialect> Failure<D> {
    pub fn new(e: ApiError) -> Self {
        Self(e, PhantomData)
    }
}

impl<D: Dialect> std::fmt::Debug for Failure<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<D: Dialect, E: Into<ApiError>> From<E> for Failure<D> {
    fn from(e: E) -> Self {
        Self::new(e.into())
    }
}

impl<D: Dialect> IntoResponse for Failure<D> {
    fn into_response(self) -> Response {
        D::render(self.0)
    }
}

/// Result type for a handler of dialect `D`.
pub type ApiResult<T, D> = Result<T, Failure<D>>;
