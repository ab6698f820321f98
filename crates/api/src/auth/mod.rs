//! Authentication and authorization. Each route declares the scope it needs where it is
//! registered ([`crate::routes`]); its guard calls [`authorize`], which verifies the bearer
//! token, applies the caller's rate limit and checks the scope, and leaves a [`Principal`] in the
//! request extensions, which [`crate::tenant::Tenant`] turns into the instance the handler acts
//! on. Handlers therefore never see an unauthenticated or unauthorized request.

mod authorize;
mod jwt;
mod jwt_profile;
mod limiter;
mod live_clients;
mod oauth;
mod openid;
mod whoami;

pub use authorize::authorize;
pub use jwt::{mint, Claims, JwtError, TokenVerifier};
pub use limiter::{Decision, Limits, RateLimiter};
pub use live_clients::LiveClients;

use crate::dialect::DialectKind;
use crate::routes::{Routes, Rule};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::auth::{Scope, Scopes};
use switchyard_core::InstanceId;
use utoipa_axum::routes;

/// The routes this module serves: the token endpoints (`POST /oauth/token`, `POST
/// /oauth/v2/token`), the OpenID configuration and the instances' JWKS, and `GET /v1/whoami`.
pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "auth")
        .add(Rule::public(), routes!(oauth::token))
        .add(Rule::public(), routes!(oauth::token_v2))
        .add(Rule::public(), routes!(openid::configuration))
        .add(Rule::public(), routes!(openid::keys))
        .add(Rule::scope(Scope::Admin), routes!(whoami::whoami))
}

/// Who is calling, as proven by the bearer token.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The token's `sub`: a client id or a user id.
    pub subject: String,
    /// The instance the token is bound to.
    pub instance: InstanceId,
    pub scopes: Scopes,
    /// The API client whose `/oauth/token` call issued the token, if it was one: the token is
    /// accepted only while that client exists (revocation).
    pub client: Option<String>,
}

/// Everything the guards and the token endpoint need, built once at start.
pub struct AuthState {
    pub verifier: TokenVerifier,
    pub limiter: RateLimiter,
    /// Lifetime of tokens issued by `/oauth/token`.
    pub token_ttl: Duration,
    /// Clients recently found to exist (revoked clients' tokens stop working).
    pub live_clients: LiveClients,
}

impl AuthState {
    pub fn new(verifier: TokenVerifier, limits: Limits, token_ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            verifier,
            limiter: RateLimiter::new(limits),
            token_ttl,
            live_clients: LiveClients::default(),
        })
    }
}
