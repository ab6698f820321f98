//! A JSON body that may be absent. Connect list calls (`ListExecutionFunctions`, `ListTargets`)
//! and the v3alpha `_search` routes are commonly sent with no body at all; an empty body (or a
//! JSON `null`) means "all defaults", while any other is checked exactly like
//! [`crate::extract::Body`].

use crate::dialect::Dialect;
use crate::error::Failure;
use crate::extract::{parse_json, read_body, require_content_type};
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// `T::default()` for an empty body, else the parsed JSON.
pub struct OptionalBody<T, D>(pub T, PhantomData<D>);

impl<S, T, D> FromRequest<S> for OptionalBody<T, D>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
    D: Dialect,
{
    type Rejection = Failure<D>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(T::default(), PhantomData));
        }
        require_content_type(&headers, &["application/json"])?;
        let parsed: Option<T> = parse_json(&bytes)?;
        Ok(Self(parsed.unwrap_or_default(), PhantomData))
    }
}
