//! The v2 ActionService messages and their handling, shared by the Connect surface
//! (`/zitadel.action.v2.ActionService/*`, what the SDK calls) and the v2 REST surface
//! (`/v2/actions/*`): both carry the same proto messages in proto3 JSON (camelCase, enums by
//! name, Timestamps RFC 3339, uint64 as strings).

use super::service::{self, TargetView};
use super::wire::{
    key_expiration, ConditionJson, ExecutionSearchFilterJson, PaginationJson, PaginationResponse,
    TargetFields, TargetSearchFilterJson, TypeFields, UpdateFields,
};
use crate::error::ApiError;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use switchyard_core::zitadel::{
    Condition, ExecutionEntry, ExecutionSort, TargetSort, MAX_ENDPOINT_CHARS_V2,
};
use switchyard_core::InstanceId;
use switchyard_store::zitadel::{ExecutionQuery, StoredExecution, TargetQuery};
use utoipa::ToSchema;

/// `CreateTargetResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTargetResponse {
    pub id: String,
    pub creation_date: String,
    pub signing_key: String,
}

/// `UpdateTargetResponse`; `signingKey` only after a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTargetResponse {
    pub change_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// `{id}` of GetTarget / DeleteTarget.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdRequest {
    /// Required (as in ZITADEL's proto); blank ids are refused.
    #[schema(min_length = 1, pattern = "\\S")]
    pub id: String,
}

/// `Target`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetJson {
    pub id: String,
    pub creation_date: String,
    pub change_date: String,
    pub name: String,
    pub timeout: String,
    pub endpoint: String,
    pub signing_key: String,
    pub payload_type: String,
    #[serde(flatten)]
    pub kind: TypeFields,
}

impl TargetJson {
    pub fn from_view(v: TargetView) -> Self {
        let c = &v.stored.config;
        Self {
            id: v.stored.id.clone(),
            creation_date: v.stored.created_at.rfc3339(),
            change_date: v.stored.changed_at.rfc3339(),
            name: c.name.as_str().to_string(),
            timeout: c.timeout.to_proto(),
            endpoint: c.endpoint.masked(),
            signing_key: v.signing_key,
            payload_type: c.payload_type.as_str().to_string(),
            kind: TypeFields::from_core(c.target_type),
        }
    }
}

/// `GetTargetResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GetTargetResponse {
    pub target: TargetJson,
}

/// `DeleteTargetResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteTargetResponse {
    pub deletion_date: String,
}

/// `ListTargetsRequest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListTargetsRequest {
    #[serde(default)]
    pub pagination: PaginationJson,
    pub sorting_column: Option<String>,
    #[serde(default)]
    pub filters: Vec<TargetSearchFilterJson>,
}

/// `ListTargetsResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListTargetsResponse {
    pub pagination: PaginationResponse,
    pub targets: Vec<TargetJson>,
}

/// `SetExecutionRequest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetExecutionRequest {
    pub condition: Option<ConditionJson>,
    #[serde(default)]
    pub targets: Vec<String>,
}

/// `SetExecutionResponse`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetExecutionResponse {
    pub set_date: String,
}

/// `ListExecutionsRequest`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListExecutionsRequest {
    #[serde(default)]
    pub pagination: PaginationJson,
    pub sorting_column: Option<String>,
    #[serde(default)]
    pub filters: Vec<ExecutionSearchFilterJson>,
}

/// `Execution`: v2 has no includes, so only directly listed targets appear.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionJson {
    pub condition: ConditionJson,
    pub creation_date: String,
    pub change_date: String,
    pub targets: Vec<String>,
}

impl ExecutionJson {
    fn from_store(e: &StoredExecution) -> Self {
        Self {
            condition: ConditionJson::from_core(&e.condition),
            creation_date: e.created_at.rfc3339(),
            change_date: e.changed_at.rfc3339(),
            targets: e
                .entries
                .iter()
                .filter_map(|x| match x {
                    ExecutionEntry::Target(id) => Some(id.clone()),
                    ExecutionEntry::Include(_) => None,
                })
                .collect(),
        }
    }
}

/// `ListExecutionsResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListExecutionsResponse {
    pub pagination: PaginationResponse,
    pub executions: Vec<ExecutionJson>,
}

/// The empty request of the catalog calls.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyRequest {}

/// `ListExecutionFunctionsResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionsResponse {
    pub functions: Vec<String>,
}

/// `ListExecutionMethodsResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MethodsResponse {
    pub methods: Vec<String>,
}

/// `ListExecutionServicesResponse`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServicesResponse {
    pub services: Vec<String>,
}

pub async fn create_target(
    state: &AppState,
    instance: &InstanceId,
    req: &TargetFields,
) -> Result<CreateTargetResponse, ApiError> {
    let view =
        service::create_target(state, instance, req.to_config(MAX_ENDPOINT_CHARS_V2)?).await?;
    Ok(CreateTargetResponse {
        id: view.stored.id.clone(),
        creation_date: view.stored.created_at.rfc3339(),
        signing_key: view.signing_key,
    })
}

/// `path_id` is the REST path's id; Connect carries the id in the body.
pub async fn update_target(
    state: &AppState,
    instance: &InstanceId,
    path_id: Option<&str>,
    req: &UpdateFields,
) -> Result<UpdateTargetResponse, ApiError> {
    let id = match (path_id, req.id.as_deref()) {
        (Some(p), Some(b)) if p != b => {
            return Err(ApiError::invalid(format!(
                "invalid id: the body's id '{b}' differs from the path's '{p}'"
            )))
        }
        (Some(p), _) => p,
        (None, Some(b)) => b,
        (None, None) => "",
    };
    let patch = req.fields().to_patch(MAX_ENDPOINT_CHARS_V2)?;
    let exp = key_expiration(&req.expiration_signing_key)?;
    let (stored, key) = service::update_target(state, instance, id, patch, exp).await?;
    Ok(UpdateTargetResponse {
        change_date: stored.changed_at.rfc3339(),
        signing_key: key,
    })
}

pub async fn get_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> Result<GetTargetResponse, ApiError> {
    let view = service::get_target(state, instance, id).await?;
    Ok(GetTargetResponse {
        target: TargetJson::from_view(view),
    })
}

/// Idempotent, as upstream: deleting a missing target succeeds.
pub async fn delete_target(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> Result<DeleteTargetResponse, ApiError> {
    service::delete_target(state, instance, id).await?;
    Ok(DeleteTargetResponse {
        deletion_date: state.clock.now().rfc3339(),
    })
}

pub async fn list_targets(
    state: &AppState,
    instance: &InstanceId,
    req: &ListTargetsRequest,
) -> Result<ListTargetsResponse, ApiError> {
    let query = TargetQuery {
        filters: req
            .filters
            .iter()
            .enumerate()
            .map(|(i, f)| f.to_store(i))
            .collect::<Result<_, _>>()?,
        sort: req
            .sorting_column
            .as_deref()
            .map(TargetSort::parse)
            .transpose()?
            .unwrap_or_default(),
        page: req.pagination.to_page()?,
    };
    let listing = state.store.list_targets(instance, &query).await?;
    let targets = service::open_all(state, listing.items)?
        .into_iter()
        .map(TargetJson::from_view)
        .collect();
    Ok(ListTargetsResponse {
        pagination: PaginationResponse {
            total_result: listing.total.to_string(),
            applied_limit: query.page.limit.to_string(),
        },
        targets,
    })
}

pub async fn set_execution(
    state: &AppState,
    instance: &InstanceId,
    req: &SetExecutionRequest,
) -> Result<SetExecutionResponse, ApiError> {
    let condition: Condition = req
        .condition
        .as_ref()
        .ok_or_else(|| ApiError::invalid("invalid condition: is required"))?
        .to_core("condition")?;
    let entries: Vec<ExecutionEntry> = req
        .targets
        .iter()
        .map(|t| ExecutionEntry::Target(t.clone()))
        .collect();
    let at = service::set_execution(state, instance, &condition, &entries).await?;
    Ok(SetExecutionResponse {
        set_date: at.rfc3339(),
    })
}

pub async fn list_executions(
    state: &AppState,
    instance: &InstanceId,
    req: &ListExecutionsRequest,
) -> Result<ListExecutionsResponse, ApiError> {
    let mut filters = Vec::new();
    for (i, f) in req.filters.iter().enumerate() {
        filters.extend(f.to_store(i)?);
    }
    let query = ExecutionQuery {
        filters,
        sort: req
            .sorting_column
            .as_deref()
            .map(ExecutionSort::parse)
            .transpose()?
            .unwrap_or_default(),
        page: req.pagination.to_page()?,
    };
    let listing = state.store.list_executions(instance, &query).await?;
    Ok(ListExecutionsResponse {
        pagination: PaginationResponse {
            total_result: listing.total.to_string(),
            applied_limit: query.page.limit.to_string(),
        },
        executions: listing
            .items
            .iter()
            .map(ExecutionJson::from_store)
            .collect(),
    })
}

pub fn functions(state: &AppState) -> FunctionsResponse {
    FunctionsResponse {
        functions: state
            .zitadel_catalog
            .functions()
            .map(String::from)
            .collect(),
    }
}

pub fn methods(state: &AppState) -> MethodsResponse {
    MethodsResponse {
        methods: state.zitadel_catalog.methods().map(String::from).collect(),
    }
}

pub fn services(state: &AppState) -> ServicesResponse {
    ServicesResponse {
        services: state.zitadel_catalog.services().map(String::from).collect(),
    }
}
