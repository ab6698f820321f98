//! The v2 REST surface (`/v2/actions/...`, grpc-gateway style): the same messages as Connect,
//! with ids in the path and errors as `{code: <number>, message, details}`.

use super::body::OptionalBody;
use super::public_keys::{self as keys, *};
use super::v2::{self, *};
use super::wire::{TargetFields, UpdateFields};
use super::{read, write};
use crate::dialect::DialectKind;
use crate::dialect::ZitadelRest;
use crate::error::ApiResult;
use crate::extract::Body;
use crate::routes::Routes;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use utoipa_axum::routes;

const TAG: &str = "ZITADEL Actions v2 (REST)";
type R<T> = ApiResult<Json<T>, ZitadelRest>;

pub fn routes() -> Routes {
    Routes::new(DialectKind::ZitadelRest, "v2")
        .add(write(), routes!(create_target))
        .add(write(), routes!(update_target))
        .add(read(), routes!(get_target))
        .add(write(), routes!(delete_target))
        .add(read(), routes!(list_targets))
        .add(write(), routes!(set_execution))
        .add(read(), routes!(list_executions))
        .add(read(), routes!(functions))
        .add(read(), routes!(methods))
        .add(read(), routes!(services))
        .add(write(), routes!(add_public_key))
        .add(write(), routes!(activate_public_key))
        .add(write(), routes!(deactivate_public_key))
        .add(write(), routes!(remove_public_key))
        .add(read(), routes!(list_public_keys))
}

/// Adds an (inactive) public key to a target.
#[utoipa::path(post, path = "/v2/actions/targets/{target_id}/publickeys", tag = TAG,
    params(("target_id" = String, Path)), request_body = AddPublicKeyRequest,
    responses((status = 200, body = AddPublicKeyResponse), (status = 404, description = "no such target"),
        (status = 409, description = "key id taken")))]
async fn add_public_key(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(target_id): Path<String>,
    body: Body<AddPublicKeyRequest, ZitadelRest>,
) -> R<AddPublicKeyResponse> {
    Ok(Json(
        keys::add(&state, &tenant.instance, Some(&target_id), &body.0).await?,
    ))
}

/// Makes the key the target's one active key.
#[utoipa::path(post, path = "/v2/actions/targets/{target_id}/publickeys/{key_id}/activate", tag = TAG,
    params(("target_id" = String, Path), ("key_id" = String, Path)), request_body = Option<KeyRequest>,
    responses((status = 200, body = KeyChangedResponse), (status = 404, description = "no such target or key")))]
async fn activate_public_key(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path((target_id, key_id)): Path<(String, String)>,
    body: OptionalBody<KeyRequest, ZitadelRest>,
) -> R<KeyChangedResponse> {
    let path = (Some(target_id.as_str()), Some(key_id.as_str()));
    Ok(Json(
        keys::change(&state, &tenant.instance, path, &body.0, KeyChange::Activate).await?,
    ))
}

/// Deactivates a key.
#[utoipa::path(post, path = "/v2/actions/targets/{target_id}/publickeys/{key_id}/deactivate", tag = TAG,
    params(("target_id" = String, Path), ("key_id" = String, Path)), request_body = Option<KeyRequest>,
    responses((status = 200, body = KeyChangedResponse), (status = 404, description = "no such target or key")))]
async fn deactivate_public_key(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path((target_id, key_id)): Path<(String, String)>,
    body: OptionalBody<KeyRequest, ZitadelRest>,
) -> R<KeyChangedResponse> {
    let path = (Some(target_id.as_str()), Some(key_id.as_str()));
    Ok(Json(
        keys::change(
            &state,
            &tenant.instance,
            path,
            &body.0,
            KeyChange::Deactivate,
        )
        .await?,
    ))
}

/// Removes an inactive key.
#[utoipa::path(delete, path = "/v2/actions/targets/{target_id}/publickeys/{key_id}", tag = TAG,
    params(("target_id" = String, Path), ("key_id" = String, Path)),
    responses((status = 200, body = KeyRemovedResponse), (status = 404, description = "no such target or key")))]
async fn remove_public_key(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path((target_id, key_id)): Path<(String, String)>,
) -> R<KeyRemovedResponse> {
    let path = (Some(target_id.as_str()), Some(key_id.as_str()));
    Ok(Json(
        keys::remove(&state, &tenant.instance, path, &KeyRequest::default()).await?,
    ))
}

/// Lists a target's public keys.
#[utoipa::path(post, path = "/v2/actions/targets/{target_id}/publickeys/search", tag = TAG,
    params(("target_id" = String, Path)), request_body = Option<ListPublicKeysRequest>,
    responses((status = 200, body = ListPublicKeysResponse), (status = 404, description = "no such target")))]
async fn list_public_keys(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(target_id): Path<String>,
    body: OptionalBody<ListPublicKeysRequest, ZitadelRest>,
) -> R<ListPublicKeysResponse> {
    Ok(Json(
        keys::list(&state, &tenant.instance, Some(&target_id), &body.0).await?,
    ))
}

/// Creates a target.
#[utoipa::path(post, path = "/v2/actions/targets", tag = TAG,
    request_body = TargetFields, responses((status = 200, body = CreateTargetResponse), (status = 409, description = "another target of the instance has this name")))]
async fn create_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: Body<TargetFields, ZitadelRest>,
) -> R<CreateTargetResponse> {
    Ok(Json(
        v2::create_target(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Updates a target.
#[utoipa::path(post, path = "/v2/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    request_body = UpdateFields, responses((status = 200, body = UpdateTargetResponse), (status = 409, description = "another target of the instance has this name")))]
async fn update_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
    body: Body<UpdateFields, ZitadelRest>,
) -> R<UpdateTargetResponse> {
    Ok(Json(
        v2::update_target(&state, &tenant.instance, Some(&id), &body.0).await?,
    ))
}

/// Returns a target.
#[utoipa::path(get, path = "/v2/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = GetTargetResponse)))]
async fn get_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
) -> R<GetTargetResponse> {
    Ok(Json(v2::get_target(&state, &tenant.instance, &id).await?))
}

/// Deletes a target (idempotent).
#[utoipa::path(delete, path = "/v2/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = DeleteTargetResponse)))]
async fn delete_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
) -> R<DeleteTargetResponse> {
    Ok(Json(
        v2::delete_target(&state, &tenant.instance, &id).await?,
    ))
}

/// Lists targets.
#[utoipa::path(post, path = "/v2/actions/targets/search", tag = TAG,
    request_body = Option<ListTargetsRequest>, responses((status = 200, body = ListTargetsResponse)))]
async fn list_targets(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: OptionalBody<ListTargetsRequest, ZitadelRest>,
) -> R<ListTargetsResponse> {
    Ok(Json(
        v2::list_targets(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Sets (or with no targets removes) an execution.
#[utoipa::path(put, path = "/v2/actions/executions", tag = TAG,
    request_body = SetExecutionRequest, responses((status = 200, body = SetExecutionResponse)))]
async fn set_execution(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: Body<SetExecutionRequest, ZitadelRest>,
) -> R<SetExecutionResponse> {
    Ok(Json(
        v2::set_execution(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Lists executions.
#[utoipa::path(post, path = "/v2/actions/executions/search", tag = TAG,
    request_body = Option<ListExecutionsRequest>, responses((status = 200, body = ListExecutionsResponse)))]
async fn list_executions(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: OptionalBody<ListExecutionsRequest, ZitadelRest>,
) -> R<ListExecutionsResponse> {
    Ok(Json(
        v2::list_executions(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Function names for `function` conditions.
#[utoipa::path(get, path = "/v2/actions/executions/functions", tag = TAG, responses((status = 200, body = FunctionsResponse)))]
async fn functions(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<FunctionsResponse> {
    Ok(Json(v2::functions(&state)))
}

/// Methods for `request`/`response` conditions.
#[utoipa::path(get, path = "/v2/actions/executions/methods", tag = TAG, responses((status = 200, body = MethodsResponse)))]
async fn methods(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<MethodsResponse> {
    Ok(Json(v2::methods(&state)))
}

/// Services for `request`/`response` conditions.
#[utoipa::path(get, path = "/v2/actions/executions/services", tag = TAG, responses((status = 200, body = ServicesResponse)))]
async fn services(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<ServicesResponse> {
    Ok(Json(v2::services(&state)))
}
