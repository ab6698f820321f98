//! ZITADEL's discovery documents, both public: `/.well-known/openid-configuration` names the
//! token endpoint (`/oauth/v2/token`, where the `zitadel-client` SDK signs in with client
//! credentials or a key file) and the JWKS; `/oauth/v2/keys` is the instance's JWKS, the web
//! keys receivers verify `PAYLOAD_TYPE_JWT` deliveries with (the current key and, after a
//! rotation, the previous one until its grace period ends). The instance is the default one or
//! the one `instance.id` / `instance.domain` names.

use super::oauth::JWT_BEARER;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The OpenID Provider metadata a ZITADEL client reads.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "auth",
    responses((status = 200, description = "issuer, token_endpoint (/oauth/v2/token), jwks_uri (/oauth/v2/keys) and the supported grants", body = Object)))]
pub async fn configuration(State(state): State<AppState>) -> Json<Value> {
    let base = state.settings.public_url.trim_end_matches('/');
    Json(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/oauth/v2/token"),
        "jwks_uri": format!("{base}/oauth/v2/keys"),
        "grant_types_supported": ["client_credentials", JWT_BEARER],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "scopes_supported": switchyard_core::auth::Scope::ALL.map(|s| s.as_str()),
    }))
}

/// The instance's JWKS (empty until the instance first signs a payload or rotates its key).
#[utoipa::path(get, path = "/oauth/v2/keys", tag = "auth",
    params(("instance.id" = Option<String>, Query, pattern = "^[A-Za-z0-9._-]{0,200}$", description = "the instance (default: the default instance)"),
           ("instance.domain" = Option<String>, Query, description = "or the instance bound to this domain")),
    responses((status = 200, description = "`{keys: [JWK]}`: the current web key first, then previous keys in their grace period", body = Object),
              (status = 400, description = "a malformed instance.id"),
              (status = 404, description = "no instance has this domain")))]
pub async fn keys(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
) -> ApiResult<Response, Native> {
    let jwks = state.web_keys.jwks(&tenant.instance).await.map_err(|e| {
        ApiError::internal(anyhow::Error::new(e).context("reading the instance's web keys"))
    })?;
    let mut resp = Json(jwks).into_response();
    // Receivers cache the JWKS; short enough that a rotation's new key is seen well within the
    // grace period.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(resp)
}
