//! A subscription's Standard Webhooks signing secret: read it (to configure the receiver) and
//! rotate it with a grace period during which both the old and the new secret sign.

use super::wire::{PreviousSecret, RotatedOut, SecretOut};
use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use std::time::Duration;
use switchyard_core::auth::Scope;
use switchyard_core::duration::parse_iso8601;
use switchyard_core::signing::new_webhook_secret;
use switchyard_core::ValidationError;
use switchyard_store::keys::SealedKey;
use switchyard_store::StoreError;
use utoipa::ToSchema;
use utoipa_axum::routes;

/// Default grace period of a rotation, as Svix and Outpost use.
const DEFAULT_GRACE: Duration = Duration::from_secs(24 * 3600);
const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

pub fn routes() -> Routes {
    // Reading a signing secret is as privileged as setting one.
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::SubscriptionsWrite), routes!(get_secret))
        .add(
            Rule::scope(Scope::SubscriptionsWrite).changes_routes(),
            routes!(rotate_secret),
        )
}

fn missing(id: &str) -> impl Fn(StoreError) -> ApiError + '_ {
    move |e| match e {
        StoreError::NotFound => ApiError::not_found(format!("subscription '{id}' not found")),
        other => other.into(),
    }
}

fn open(state: &AppState, key: &SealedKey) -> Result<String, ApiError> {
    state
        .master_key
        .open_str(&key.sealed)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("cannot open a subscription secret: {e}")))
}

/// The current secret and those still valid in a grace period.
#[utoipa::path(get, path = "/v1/subscriptions/{id}/secret", tag = "native",
    params(("id" = String, Path, description = "subscription id")),
    responses((status = 200, description = "the current secret and those still in a grace period", body = SecretOut), (status = 404, description = "not found")))]
async fn get_secret(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<SecretOut>, Native> {
    let now = state.clock.now();
    let keys = state
        .store
        .subscription_keys(&tenant.instance, &id, now)
        .await
        .map_err(missing(&id))?;
    let (current, previous) = keys
        .split_first()
        .ok_or_else(|| ApiError::not_found(format!("subscription '{id}' has no signing secret")))?;
    let previous = previous
        .iter()
        .map(|k| {
            Ok(PreviousSecret {
                secret: open(&state, k)?,
                expires_at: k.expires_at.map(|t| t.rfc3339()),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(SecretOut {
        secret: open(&state, current)?,
        previous,
    }))
}

/// A rotation request; an empty body means the defaults.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RotateBody {
    /// ISO-8601 duration the previous secret keeps signing (default PT24H, at most P7D).
    #[schema(example = "PT24H")]
    grace_period: Option<String>,
}

/// Makes a new secret current; the previous one keeps signing for the grace period.
#[utoipa::path(post, path = "/v1/subscriptions/{id}/secret/rotate", tag = "native",
    params(("id" = String, Path, description = "subscription id")),
    request_body(content = Option<RotateBody>, description = "optional: how long the previous secret keeps signing"),
    responses((status = 200, description = "the new secret", body = RotatedOut), (status = 404, description = "not found"),
              (status = 400, description = "invalid grace period")))]
async fn rotate_secret(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<RotatedOut>, Native> {
    let body: RotateBody = if body.iter().all(u8::is_ascii_whitespace) {
        RotateBody::default()
    } else {
        parse_json(&body)?
    };
    let grace = match body.grace_period.as_deref() {
        None => DEFAULT_GRACE,
        Some(s) => parse_iso8601(s).map_err(|e| ValidationError::new("gracePeriod", e))?,
    };
    if grace > MAX_GRACE {
        return Err(ValidationError::new("gracePeriod", "must be at most P7D").into());
    }
    let now = state.clock.now();
    let secret = new_webhook_secret();
    let key = SealedKey {
        key_id: switchyard_core::ids::hex_id(),
        sealed: state.master_key.seal_str(&secret),
        created_at: now,
        expires_at: None,
    };
    let grace_ms = grace.as_millis() as i64;
    state
        .store
        .rotate_subscription_key(&tenant.instance, &id, &key, grace_ms, now)
        .await
        .map_err(missing(&id))?;
    let previous_expires = (grace_ms > 0).then(|| now.plus_millis(grace_ms).rfc3339());
    Ok(Json(RotatedOut {
        secret,
        previous_expires_at: previous_expires,
    }))
}
