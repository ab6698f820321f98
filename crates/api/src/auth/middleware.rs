//! The authentication middleware, layered over the whole router: public routes pass untouched;
//! every other request must carry a valid bearer token, stay within its rate limit and hold the
//! scope its route needs. Refusals are rendered in the path's dialect before any handler runs.

use super::limiter::Decision;
use super::paths::{dialect_for, rate_class, required_scope, DialectKind};
use crate::error::{ApiError, Code};
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

/// Use with `axum::middleware::from_fn_with_state(state, authenticate)`.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    // A declared body above the limit is refused before anything else, in the route's dialect,
    // whether or not its handler would read the body. (Undeclared lengths are capped by
    // `DefaultBodyLimit` where the body is read.)
    if declared_length(req.headers()).is_some_and(|n| n > state.settings.max_body_bytes as u64) {
        let err = ApiError::new(Code::InvalidArgument, "request body is too large")
            .with_status(StatusCode::PAYLOAD_TOO_LARGE);
        return dialect_for(path).render(err);
    }
    let Some(needed) = required_scope(req.method(), path) else {
        return next.run(req).await;
    };
    let dialect = dialect_for(path);
    let class = rate_class(path);
    let token = match bearer(req.headers()) {
        Ok(t) => t,
        Err(reason) => return unauthenticated(dialect, reason),
    };
    let principal = match state.auth.verifier.verify(token) {
        Ok(p) => p,
        Err(e) => return unauthenticated(dialect, &e.0),
    };

    let now = state.clock.now().millis();
    let mut decision = state.auth.limiter.check(class, &principal, now);
    if decision == Decision::Unknown {
        // First request of this caller in a while: look up a per-client limit. No lock is held
        // across this await; the limiter only locks inside `check`/`admit`.
        let client = match state.store.client(&principal.subject).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not read client rate limits; using the defaults");
                None
            }
        };
        decision = state
            .auth
            .limiter
            .admit(class, &principal, client.as_ref(), now);
    }
    if let Decision::Refuse(secs) = decision {
        let mut err = ApiError::new(
            Code::ResourceExhausted,
            format!("rate limit exceeded; retry after {secs} s"),
        );
        err.retry_after = Some(secs);
        return dialect.render(err);
    }

    if !principal.scopes.allows(needed) {
        return dialect.render(ApiError::new(
            Code::PermissionDenied,
            format!("the token lacks the scope '{needed}' needed for this request"),
        ));
    }
    req.extensions_mut().insert(principal);
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

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or("missing bearer token")?
        .to_str()
        .map_err(|_| "malformed Authorization header")?;
    let (scheme, token) = value.split_once(' ').ok_or("missing bearer token")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("missing bearer token");
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("missing bearer token");
    }
    Ok(token)
}

fn unauthenticated(dialect: DialectKind, reason: &str) -> Response {
    let err = ApiError::new(
        Code::Unauthenticated,
        format!("JWT validation failed: {reason}"),
    );
    let mut resp = dialect.render(err);
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(bearer(&HeaderMap::new()), Err("missing bearer token"));
        assert_eq!(bearer(&headers("Bearer abc")), Ok("abc"));
        assert_eq!(bearer(&headers("bearer  abc ")), Ok("abc"));
        assert_eq!(bearer(&headers("Basic abc")), Err("missing bearer token"));
        assert_eq!(bearer(&headers("Bearer ")), Err("missing bearer token"));
        assert_eq!(bearer(&headers("Bearer")), Err("missing bearer token"));
    }
}
