//! Switchyard's own extension: instances register their own triggers (`/v1/triggers`, native
//! dialect). A custom trigger is accepted only when its schemas are valid JSON Schema and its
//! examples satisfy them; it then appears in that instance's `/triggers/v1` and can be
//! subscribed to like a built-in.

use super::catalog;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Body;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use switchyard_core::sailpoint::{Trigger, TriggerCatalog, TriggerDefinition};
use switchyard_core::ValidationError;

fn native(t: &Trigger) -> Value {
    let mut v = serde_json::to_value(t.definition()).unwrap_or(Value::Null);
    v["builtIn"] = json!(t.is_builtin());
    v
}

/// Register a custom trigger.
#[utoipa::path(post, path = "/v1/triggers", tag = "Custom triggers",
    request_body = super::schema::TriggerDefinitionRequest,
    responses(
        (status = 201, description = "Registered trigger", body = super::schema::CustomTrigger),
        (status = 400, description = "Invalid definition"),
        (status = 409, description = "Id already taken"),
    ))]
pub async fn create(
    tenant: Tenant<Native>,
    State(state): State<AppState>,
    body: Body<TriggerDefinition, Native>,
) -> ApiResult<(StatusCode, Json<Value>), Native> {
    let def = body.0;
    let documents = [
        ("inputSchema", Some(&def.input_schema)),
        ("exampleInput", Some(&def.example_input)),
        ("outputSchema", def.output_schema.as_ref()),
        ("exampleOutput", def.example_output.as_ref()),
    ];
    for (field, doc) in documents {
        if let Some(doc) = doc {
            state.check_payload(field, doc)?;
        }
    }
    if TriggerCatalog::is_builtin(&def.id) {
        return Err(ApiError::new(
            Code::AlreadyExists,
            format!("id: '{}' is a built-in trigger", def.id),
        )
        .into());
    }
    let trigger = Trigger::custom(def)?;
    state
        .store
        .create_trigger(&tenant.instance, trigger.definition(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(native(&trigger))))
}

/// List the instance's custom triggers.
#[utoipa::path(get, path = "/v1/triggers", tag = "Custom triggers",
    responses((status = 200, description = "the instance's custom triggers", body = super::schema::CustomTriggerList)))]
pub async fn list(
    tenant: Tenant<Native>,
    State(state): State<AppState>,
) -> ApiResult<Json<Value>, Native> {
    let cat = catalog(&state, &tenant.instance).await?;
    let triggers: Vec<Value> = cat.all().filter(|t| !t.is_builtin()).map(native).collect();
    Ok(Json(json!({ "triggers": triggers })))
}

/// Get a trigger (custom or built-in).
#[utoipa::path(get, path = "/v1/triggers/{id}", tag = "Custom triggers",
    params(("id" = String, Path, description = "Trigger id")),
    responses((status = 200, description = "Trigger", body = super::schema::CustomTrigger), (status = 404, description = "Not found")))]
pub async fn get_one(
    tenant: Tenant<Native>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>, Native> {
    let cat = catalog(&state, &tenant.instance).await?;
    let t = cat
        .get(&id)
        .ok_or_else(|| ApiError::not_found(format!("trigger '{id}' not found")))?;
    Ok(Json(native(t)))
}

/// Delete a custom trigger (refused while subscriptions use it).
#[utoipa::path(delete, path = "/v1/triggers/{id}", tag = "Custom triggers",
    params(("id" = String, Path, description = "Trigger id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Built-in trigger"),
        (status = 404, description = "Not found"),
        (status = 409, description = "Still subscribed"),
    ))]
pub async fn delete(
    tenant: Tenant<Native>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, Native> {
    if TriggerCatalog::is_builtin(&id) {
        return Err(ValidationError::new(
            "id",
            format!("'{id}' is a built-in trigger and cannot be deleted"),
        )
        .into());
    }
    state
        .store
        .delete_trigger(&tenant.instance, &id)
        .await
        .map_err(|e| match e {
            switchyard_store::StoreError::NotFound => {
                ApiError::not_found(format!("trigger '{id}' not found"))
            }
            switchyard_store::StoreError::Conflict(m) => ApiError::new(Code::Aborted, m),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
