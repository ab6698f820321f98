//! Authorizing one request: a valid bearer token, within its caller's rate limit, holding the
//! scope the route needs. Called by each route's guard (with the route's declared rules) and by
//! the fallbacks (deny by default: `admin`). Refusals come back rendered in the route's dialect.

use super::limiter::Decision;
use super::Principal;
use crate::dialect::DialectKind;
use crate::error::{ApiError, Code};
use crate::routes::RateClass;
use crate::state::AppState;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use switchyard_core::auth::Scope;

/// The caller, when its token is valid, within its rate limit and allowed `needed`; otherwise
/// the 401, 429 or 403 answer in `dialect`'s shape.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    needed: Scope,
    class: RateClass,
    dialect: DialectKind,
) -> Result<Principal, Response> {
    let token = bearer(headers).map_err(|reason| unauthenticated(dialect, reason))?;
    let principal = state
        .auth
        .verifier
        .verify(token)
        .map_err(|e| unauthenticated(dialect, &e.0))?;

    let now = state.clock.now().millis();
    if let Some(client) = &principal.client {
        check_client_live(state, client, &principal, now)
            .await
            .map_err(|e| match e {
                Revoked => unauthenticated(dialect, "the token's client was revoked"),
                Unknown(e) => dialect.render(ApiError::unavailable(
                    "could not check the token's client; try again",
                    Some(anyhow::Error::new(e)),
                )),
            })?;
    }
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
        return Err(dialect.render(err));
    }

    if !principal.scopes.allows(needed) {
        return Err(dialect.render(ApiError::new(
            Code::PermissionDenied,
            format!("the token lacks the scope '{needed}' needed for this request"),
        )));
    }
    Ok(principal)
}

enum ClientCheck {
    Revoked,
    Unknown(switchyard_store::StoreError),
}
use ClientCheck::{Revoked, Unknown};

/// Whether the client that got this token still exists (in the token's instance).
async fn check_client_live(
    state: &AppState,
    client: &str,
    principal: &Principal,
    now: i64,
) -> Result<(), ClientCheck> {
    let live = &state.auth.live_clients;
    if live.recently_seen(client, now) {
        return Ok(());
    }
    match state.store.client(client).await {
        Ok(Some(c)) if c.instance == principal.instance => {
            live.seen(client, now);
            Ok(())
        }
        Ok(_) => Err(Revoked),
        Err(e) => Err(Unknown(e)),
    }
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
