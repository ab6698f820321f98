//! The v2 Connect surface, `POST /zitadel.action.v2.ActionService/<Method>`: what the official
//! SDKs call. Unary Connect with JSON bodies; errors as Connect errors (`{code, message}`).

use super::body::OptionalBody;
use super::public_keys::{self as keys, *};
use super::v2::{self, *};
use super::wire::{TargetFields, UpdateFields};
use super::{read, write};
use crate::dialect::Connect;
use crate::dialect::DialectKind;
use crate::error::ApiResult;
use crate::extract::Body;
use crate::routes::Routes;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::Json;
use utoipa_axum::routes;

const TAG: &str = "ZITADEL ActionService (Connect)";

pub fn routes() -> Routes {
    Routes::new(DialectKind::Connect, "connect")
        .add(write(), routes!(create_target))
        .add(write(), routes!(update_target))
        .add(read(), routes!(get_target))
        .add(write(), routes!(delete_target))
        .add(read(), routes!(list_targets))
        .add(write(), routes!(set_execution))
        .add(read(), routes!(list_executions))
        .add(read(), routes!(list_execution_functions))
        .add(read(), routes!(list_execution_methods))
        .add(read(), routes!(list_execution_services))
        .add(write(), routes!(add_public_key))
        .add(write(), routes!(activate_public_key))
        .add(write(), routes!(deactivate_public_key))
        .add(write(), routes!(remove_public_key))
        .add(read(), routes!(list_public_keys))
}

/// Adds an (inactive) public key to a target; JWE payloads are encrypted to its active key.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/AddPublicKey", tag = TAG,
    request_body = AddPublicKeyRequest, responses((status = 200, body = AddPublicKeyResponse),
        (status = 404, description = "no such target"), (status = 409, description = "key id taken")))]
async fn add_public_key(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<AddPublicKeyRequest, Connect>,
) -> ApiResult<Json<AddPublicKeyResponse>, Connect> {
    Ok(Json(
        keys::add(&state, &tenant.instance, None, &body.0).await?,
    ))
}

/// Makes the key the target's one active key (the previous one is deactivated).
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ActivatePublicKey", tag = TAG,
    request_body = KeyRequest, responses((status = 200, body = KeyChangedResponse),
        (status = 404, description = "no such target or key")))]
async fn activate_public_key(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<KeyRequest, Connect>,
) -> ApiResult<Json<KeyChangedResponse>, Connect> {
    let change = KeyChange::Activate;
    Ok(Json(
        keys::change(&state, &tenant.instance, (None, None), &body.0, change).await?,
    ))
}

/// Deactivates a key (JWE deliveries fail, and are retried, until a key is active).
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/DeactivatePublicKey", tag = TAG,
    request_body = KeyRequest, responses((status = 200, body = KeyChangedResponse),
        (status = 404, description = "no such target or key")))]
async fn deactivate_public_key(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<KeyRequest, Connect>,
) -> ApiResult<Json<KeyChangedResponse>, Connect> {
    let change = KeyChange::Deactivate;
    Ok(Json(
        keys::change(&state, &tenant.instance, (None, None), &body.0, change).await?,
    ))
}

/// Removes an inactive key.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/RemovePublicKey", tag = TAG,
    request_body = KeyRequest, responses((status = 200, body = KeyRemovedResponse),
        (status = 404, description = "no such target or key")))]
async fn remove_public_key(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<KeyRequest, Connect>,
) -> ApiResult<Json<KeyRemovedResponse>, Connect> {
    Ok(Json(
        keys::remove(&state, &tenant.instance, (None, None), &body.0).await?,
    ))
}

/// Lists a target's public keys.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListPublicKeys", tag = TAG,
    request_body = ListPublicKeysRequest, responses((status = 200, body = ListPublicKeysResponse),
        (status = 404, description = "no such target")))]
async fn list_public_keys(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<ListPublicKeysRequest, Connect>,
) -> ApiResult<Json<ListPublicKeysResponse>, Connect> {
    Ok(Json(
        keys::list(&state, &tenant.instance, None, &body.0).await?,
    ))
}

/// Creates a target; returns its id and signing key.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/CreateTarget", tag = TAG,
    request_body = TargetFields, responses((status = 200, body = CreateTargetResponse), (status = 409, description = "another target of the instance has this name")))]
async fn create_target(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<TargetFields, Connect>,
) -> ApiResult<Json<CreateTargetResponse>, Connect> {
    Ok(Json(
        v2::create_target(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Updates a target; absent fields stay unchanged; `expirationSigningKey` rotates the key.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/UpdateTarget", tag = TAG,
    request_body = UpdateFields, responses((status = 200, body = UpdateTargetResponse), (status = 409, description = "another target of the instance has this name")))]
async fn update_target(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<UpdateFields, Connect>,
) -> ApiResult<Json<UpdateTargetResponse>, Connect> {
    Ok(Json(
        v2::update_target(&state, &tenant.instance, None, &body.0).await?,
    ))
}

/// Returns a target with its current signing key.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/GetTarget", tag = TAG,
    request_body = IdRequest, responses((status = 200, body = GetTargetResponse)))]
async fn get_target(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<IdRequest, Connect>,
) -> ApiResult<Json<GetTargetResponse>, Connect> {
    Ok(Json(
        v2::get_target(&state, &tenant.instance, &body.0.id).await?,
    ))
}

/// Deletes a target (idempotent) and removes it from executions.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/DeleteTarget", tag = TAG,
    request_body = IdRequest, responses((status = 200, body = DeleteTargetResponse)))]
async fn delete_target(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<IdRequest, Connect>,
) -> ApiResult<Json<DeleteTargetResponse>, Connect> {
    Ok(Json(
        v2::delete_target(&state, &tenant.instance, &body.0.id).await?,
    ))
}

/// Lists targets with filters, sorting and pagination.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListTargets", tag = TAG,
    request_body = Option<ListTargetsRequest>, responses((status = 200, body = ListTargetsResponse)))]
async fn list_targets(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: OptionalBody<ListTargetsRequest, Connect>,
) -> ApiResult<Json<ListTargetsResponse>, Connect> {
    Ok(Json(
        v2::list_targets(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Sets the targets of a condition; an empty list removes the execution.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/SetExecution", tag = TAG,
    request_body = SetExecutionRequest, responses((status = 200, body = SetExecutionResponse)))]
async fn set_execution(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: Body<SetExecutionRequest, Connect>,
) -> ApiResult<Json<SetExecutionResponse>, Connect> {
    Ok(Json(
        v2::set_execution(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Lists executions with filters, sorting and pagination.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListExecutions", tag = TAG,
    request_body = Option<ListExecutionsRequest>, responses((status = 200, body = ListExecutionsResponse)))]
async fn list_executions(
    State(state): State<AppState>,
    tenant: Tenant<Connect>,
    body: OptionalBody<ListExecutionsRequest, Connect>,
) -> ApiResult<Json<ListExecutionsResponse>, Connect> {
    Ok(Json(
        v2::list_executions(&state, &tenant.instance, &body.0).await?,
    ))
}

/// Function names usable in `function` conditions.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListExecutionFunctions", tag = TAG,
    request_body = Option<EmptyRequest>, responses((status = 200, body = FunctionsResponse)))]
async fn list_execution_functions(
    State(state): State<AppState>,
    _tenant: Tenant<Connect>,
    _body: OptionalBody<EmptyRequest, Connect>,
) -> ApiResult<Json<FunctionsResponse>, Connect> {
    Ok(Json(v2::functions(&state)))
}

/// gRPC methods usable in `request`/`response` conditions.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListExecutionMethods", tag = TAG,
    request_body = Option<EmptyRequest>, responses((status = 200, body = MethodsResponse)))]
async fn list_execution_methods(
    State(state): State<AppState>,
    _tenant: Tenant<Connect>,
    _body: OptionalBody<EmptyRequest, Connect>,
) -> ApiResult<Json<MethodsResponse>, Connect> {
    Ok(Json(v2::methods(&state)))
}

/// gRPC services usable in `request`/`response` conditions.
#[utoipa::path(post, path = "/zitadel.action.v2.ActionService/ListExecutionServices", tag = TAG,
    request_body = Option<EmptyRequest>, responses((status = 200, body = ServicesResponse)))]
async fn list_execution_services(
    State(state): State<AppState>,
    _tenant: Tenant<Connect>,
    _body: OptionalBody<EmptyRequest, Connect>,
) -> ApiResult<Json<ServicesResponse>, Connect> {
    Ok(Json(v2::services(&state)))
}
