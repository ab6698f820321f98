//! `PATCH /trigger-subscriptions/v1/{id}`: RFC 6902 JSON Patch with
//! `Content-Type: application/json-patch+json`. The patch runs on the stored subscription
//! (secrets opened) and the whole result is validated like a PUT before anything is written.

use super::subscriptions::{load_open, replace};
use crate::dialect::SailPoint;
use crate::error::ApiResult;
use crate::extract::{parse_json, read_body, require_content_type};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, Request, State};
use axum::Json;
use serde_json::Value;
use switchyard_core::sailpoint::patch;

async fn patch_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    id: String,
    req: Request,
) -> ApiResult<Json<Value>, SailPoint> {
    require_content_type(req.headers(), &["application/json-patch+json"])?;
    let bytes = read_body(req, &()).await?;
    let body: Value = parse_json(&bytes)?;
    let ops = patch::parse(body)?;
    let previous = load_open(&state, &tenant.instance, &id).await?;
    let doc = patch::apply(&previous, &ops)?;
    Ok(Json(
        replace(&state, &tenant.instance, &previous, doc).await?,
    ))
}

/// Patch a subscription. Patchable: name, description, enabled, type, filter, responseDeadline,
/// httpConfig, eventBridgeConfig, workflowConfig.
#[utoipa::path(patch, path = "/trigger-subscriptions/v1/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    request_body(content = Vec<super::schema::JsonPatchOperation>, content_type = "application/json-patch+json", description = "RFC 6902 operations"),
    responses(
        (status = 200, description = "Updated subscription", body = super::schema::Subscription),
        (status = 400, description = "Invalid patch or resulting subscription"),
        (status = 404, description = "Not found"),
        (status = 415, description = "Wrong content type"),
    ))]
pub async fn patch(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<Value>, SailPoint> {
    patch_impl(tenant, state, id, req).await
}

/// Patch a subscription (beta path).
#[utoipa::path(patch, path = "/beta/trigger-subscriptions/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    request_body(content = Vec<super::schema::JsonPatchOperation>, content_type = "application/json-patch+json", description = "RFC 6902 operations"),
    responses((status = 200, description = "Updated subscription", body = super::schema::Subscription), (status = 400, description = "Invalid patch"), (status = 404, description = "Not found"), (status = 415, description = "Wrong content type")))]
pub async fn patch_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult<Json<Value>, SailPoint> {
    patch_impl(tenant, state, id, req).await
}
