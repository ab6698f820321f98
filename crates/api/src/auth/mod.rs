//! Authentication and authorization for every route. One middleware ([`authenticate`], layered
//! over the whole router in `lib.rs`) verifies the bearer token, checks the scope the route needs
//! ([`required_scope`]), applies the caller's rate limit and leaves a [`Principal`] in the request
//! extensions, which [`crate::tenant::Tenant`] turns into the instance the handler acts on.
//! Handlers therefore never see an unauthenticated or unauthorized request, including routes added
//! later: anything not in the scope table needs `admin`.

mod jwt;
mod limiter;
mod middleware;
mod oauth;
mod paths;
mod whoami;

pub use jwt::{mint, Claims, JwtError, TokenVerifier};
pub use limiter::{Decision, Limits, RateLimiter};
pub use middleware::authenticate;
pub use paths::{dialect_for, rate_class, required_scope, DialectKind, RateClass};

use crate::state::AppState;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::auth::Scopes;
use switchyard_core::InstanceId;
use utoipa_axum::router::OpenApiRouter;

/// The routes this module serves: `POST /oauth/token` and `GET /v1/whoami`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(oauth::router())
        .merge(whoami::router())
}

/// Who is calling, as proven by the bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's `sub`: a client id or a user id.
    pub subject: String,
    /// The instance the token is bound to.
    pub instance: InstanceId,
    pub scopes: Scopes,
}

/// Everything the middleware and the token endpoint need, built once at start.
pub struct AuthState {
    pub verifier: TokenVerifier,
    pub limiter: RateLimiter,
    /// Lifetime of tokens issued by `/oauth/token`.
    pub token_ttl: Duration,
}

impl AuthState {
    pub fn new(verifier: TokenVerifier, limits: Limits, token_ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            verifier,
            limiter: RateLimiter::new(limits),
            token_ttl,
        })
    }
}
