//! `POST /v1/web-keys/rotate`: replaces the instance's web key (which signs `PAYLOAD_TYPE_JWT`
//! deliveries); the previous key stays in the JWKS at `/oauth/v2/keys` for the grace period so
//! receivers with a cached JWKS keep verifying what was signed before.

use super::wire::RotatedWebKeyOut;
use crate::dialect::{DialectKind, Native};
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::body::Bytes;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::auth::Scope;
use switchyard_core::duration::parse_iso8601;
use switchyard_core::jose::web_key::WebKeyAlgorithm;
use switchyard_core::ValidationError;
use utoipa::ToSchema;
use utoipa_axum::routes;

/// The previous key's default time in the JWKS.
const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
/// Longest grace period.
const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::Admin), routes!(rotate_web_key))
}

/// A rotation request; an empty body means the defaults.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RotateWebKeyBody {
    /// `RS256` or `ES256` (default: the server's `auth.web_key_algorithm`).
    #[schema(example = "ES256")]
    algorithm: Option<String>,
    /// ISO-8601 duration the previous key stays published (default PT24H, at most P7D).
    #[schema(example = "PT24H")]
    grace_period: Option<String>,
}

/// Makes a new web key current; the previous one stays published for the grace period.
#[utoipa::path(post, path = "/v1/web-keys/rotate", tag = "native",
    request_body(content = Option<RotateWebKeyBody>, description = "optional: algorithm and how long the previous key stays published"),
    responses((status = 200, description = "the new key", body = RotatedWebKeyOut),
              (status = 400, description = "invalid algorithm or grace period")))]
async fn rotate_web_key(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    body: Bytes,
) -> ApiResult<Json<RotatedWebKeyOut>, Native> {
    let body: RotateWebKeyBody = if body.iter().all(u8::is_ascii_whitespace) {
        RotateWebKeyBody::default()
    } else {
        parse_json(&body)?
    };
    let algorithm = body
        .algorithm
        .as_deref()
        .map(|a| {
            WebKeyAlgorithm::parse(a)
                .ok_or_else(|| ValidationError::new("algorithm", "must be RS256 or ES256"))
        })
        .transpose()?;
    let grace = match body.grace_period.as_deref() {
        None => DEFAULT_GRACE,
        Some(s) => parse_iso8601(s).map_err(|e| ValidationError::new("gracePeriod", e))?,
    };
    if grace > MAX_GRACE {
        return Err(ValidationError::new("gracePeriod", "must be at most P7D").into());
    }
    let now = state.clock.now();
    let key = state
        .web_keys
        .rotate(&tenant.instance, algorithm, grace)
        .await
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("rotating a web key")))?;
    Ok(Json(RotatedWebKeyOut {
        key_id: key.key_id,
        algorithm: key.algorithm.as_str().to_string(),
        previous_expires_at: (!grace.is_zero()).then(|| now.plus(grace).rfc3339()),
    }))
}
