//! Answers for requests no route serves, in the dialect of the surface the path belongs to:
//! unknown paths (404) and methods a path does not serve (405, with axum's `Allow` header). Both
//! are denied by default first: without an `admin` token a caller learns only 401/403, never
//! which paths exist. Also the body-size check that runs before routing, so a declared length
//! over the limit is refused on any path, routed or not.

use crate::auth::authorize;
use crate::dialect::DialectKind;
use crate::error::{ApiError, Code};
use crate::routes::RateClass;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use switchyard_core::auth::Scope;

/// Router fallback: 404 in the path's dialect, after the deny-by-default check.
pub async fn not_found(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let err = ApiError::not_found(format!("no route for {method} {}", uri.path()));
    refuse(&state, &uri, &headers, err).await
}

/// Router fallback for a known path and an unknown method: 405 in the path's dialect.
pub async fn method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let err = ApiError::new(
        Code::Unimplemented,
        format!("method {method} is not allowed on {}", uri.path()),
    )
    .with_status(StatusCode::METHOD_NOT_ALLOWED);
    refuse(&state, &uri, &headers, err).await
}

async fn refuse(state: &AppState, uri: &Uri, headers: &HeaderMap, err: ApiError) -> Response {
    let dialect = DialectKind::for_path(uri.path());
    match authorize(state, headers, Scope::Admin, RateClass::Management, dialect).await {
        Ok(_) => dialect.render(err),
        Err(refusal) => refusal,
    }
}

/// Middleware over the whole router: a declared body above the limit is refused before
/// anything else, in the path's dialect, whether or not a handler would read the body.
/// (Undeclared lengths are capped by `DefaultBodyLimit` where the body is read.)
pub async fn refuse_oversized(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if declared_length(req.headers()).is_some_and(|n| n > state.settings.max_body_bytes as u64) {
        let err = ApiError::new(Code::InvalidArgument, "request body is too large")
            .with_status(StatusCode::PAYLOAD_TOO_LARGE);
        return DialectKind::for_path(req.uri().path()).render(err);
    }
    next.run(req).await
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}
