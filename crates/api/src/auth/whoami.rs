//! `GET /v1/whoami`: what the server makes of the caller's token (subject, scopes) and which
//! instance the request acts on after `instance.id` / `instance.domain`. An operator's first check
//! when a token is refused, and the place where tenant binding is observable end to end.

use super::Principal;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::tenant::Tenant;
use axum::Extension;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// The caller as authenticated.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    subject: String,
    /// The instance the token is bound to.
    token_instance: String,
    /// The instance this request acts on.
    instance: String,
    scopes: Vec<String>,
}

/// Describes the caller's token and the instance the request acts on.
#[utoipa::path(get, path = "/v1/whoami", tag = "auth",
    responses((status = 200, description = "the caller", body = WhoAmI),
              (status = 401, description = "no valid token"),
              (status = 403, description = "the token lacks the admin scope"),
              (status = 404, description = "the named instance is not visible to this token")))]
pub async fn whoami(
    tenant: Tenant<Native>,
    principal: Option<Extension<Principal>>,
) -> ApiResult<Json<WhoAmI>, Native> {
    // The middleware guarantees a principal on every non-public route.
    let Extension(p) = principal
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no principal on /v1/whoami")))?;
    let scopes = p
        .scopes
        .to_string()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    Ok(Json(WhoAmI {
        subject: p.subject,
        token_instance: p.instance.to_string(),
        instance: tenant.instance.to_string(),
        scopes,
    }))
}
