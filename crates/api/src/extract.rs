//! Request extractors whose rejections are rendered in the route's dialect, so malformed JSON, a
//! wrong content type, an unknown field or an oversized body each get a clear 4xx in the shape the
//! client expects, never axum's plain-text default or a 500.

use crate::dialect::Dialect;
use crate::error::{ApiError, Code, Failure};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A JSON request body of type `T`, rejected in dialect `D`'s shape.
pub struct Body<T, D>(pub T, PhantomData<D>);

impl<T, D> Body<T, D> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<S, T, D> FromRequest<S> for Body<T, D>
where
    S: Send + Sync,
    T: DeserializeOwned,
    D: Dialect,
{
    type Rejection = Failure<D>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_content_type(req.headers(), &["application/json"])?;
        let bytes = read_body(req, state).await?;
        parse_json(&bytes)
            .map(|v| Body(v, PhantomData))
            .map_err(Failure::new)
    }
}

/// Checks `Content-Type` against the accepted media types (parameters such as charset ignored).
pub fn require_content_type(headers: &HeaderMap, accepted: &[&str]) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if accepted.iter().any(|a| *a == media) {
        Ok(())
    } else {
        let shown = if ct.is_empty() { "none" } else { ct };
        Err(ApiError::invalid(format!(
            "unsupported content type '{shown}': expected {}",
            accepted.join(" or ")
        ))
        .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE))
    }
}

/// Reads the whole body, mapping the body-limit rejection to 413.
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| {
            let status = e.status();
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(Code::InvalidArgument, "request body is too large")
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                ApiError::invalid(format!("could not read request body: {e}")).with_status(status)
            }
        })
}

/// Parses JSON, naming the path of the offending value on failure. Structs are read from JSON
/// objects only ([`crate::strict_json`]).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "request body is empty: expected a JSON document",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value =
        serde_path_to_error::deserialize(crate::strict_json::Strict(&mut de)).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let what = if inner.is_syntax() || inner.is_eof() {
                "malformed JSON"
            } else {
                "invalid request"
            };
            if path == "." || path.is_empty() {
                ApiError::invalid(format!("{what}: {inner}"))
            } else {
                ApiError::invalid(format!("{what}: {path}: {inner}"))
            }
        })?;
    // Nothing but whitespace may follow the document.
    de.end()
        .map_err(|e| ApiError::invalid(format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// Query parameters of type `T`, rejected in dialect `D`'s shape.
pub struct Query<T, D>(pub T, PhantomData<D>);

impl<S, T, D> FromRequestParts<S> for Query<T, D>
where
    S: Send + Sync,
    T: DeserializeOwned,
    D: Dialect,
{
    type Rejection = Failure<D>;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(q)
            .map(|v| Query(v, PhantomData))
            .map_err(|e| Failure::new(ApiError::invalid(format!("invalid query parameters: {e}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_deep_json_is_a_clear_400() {
        // serde_json stops at 128 levels; that must surface as a client error, not a crash.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let err = parse_json::<serde_json::Value>(deep.as_bytes()).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.message.contains("recursion limit"), "{}", err.message);
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_json::<serde_json::Value>(ok.as_bytes()).is_ok());
    }

    #[test]
    fn trailing_content_is_malformed() {
        let err = parse_json::<serde_json::Value>(b"{\"a\": 1} {}").unwrap_err();
        assert!(err.message.starts_with("malformed JSON"), "{}", err.message);
        assert!(parse_json::<serde_json::Value>(b"{\"a\": 1}\n").is_ok());
    }
}
