//! The v3alpha resources surface (`/resources/v3alpha/actions/...`, the seed): targets and
//! executions wrapped in `details {id, created, changed, owner}`, search filters as the body and
//! paging as query parameters, executions with `include` entries. Errors as ZITADEL REST errors.

use super::body::OptionalBody;
use super::service::{self, TargetView};
use super::v2::{FunctionsResponse, MethodsResponse, ServicesResponse};
use super::wire::{
    key_expiration, ConditionJson, ExecutionSearchFilterJson, TargetFields, TargetSearchFilterJson,
    TypeFields, UpdateFields,
};
use super::{read, write};
use crate::dialect::DialectKind;
use crate::dialect::ZitadelRest;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, Query};
use crate::routes::Routes;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use switchyard_core::zitadel::{
    ExecutionEntry, ExecutionSort, Page, TargetSort, MAX_ENDPOINT_CHARS_V3ALPHA,
};
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::zitadel::{ExecutionQuery, StoredExecution, TargetQuery};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

const TAG: &str = "ZITADEL Actions v3alpha (REST)";
type R<T> = ApiResult<Json<T>, ZitadelRest>;
type Created<T> = ApiResult<(StatusCode, Json<T>), ZitadelRest>;

pub fn routes() -> Routes {
    Routes::new(DialectKind::ZitadelRest, "v3alpha")
        .add(write(), routes!(create_target))
        .add(read(), routes!(get_target))
        .add(write(), routes!(patch_target))
        .add(write(), routes!(delete_target))
        .add(read(), routes!(search_targets))
        .add(write(), routes!(set_execution))
        .add(read(), routes!(search_executions))
        .add(read(), routes!(functions))
        .add(read(), routes!(methods))
        .add(read(), routes!(services))
}

/// `{type, id}`: targets and executions are owned by the instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct Owner {
    #[serde(rename = "type")]
    pub owner_type: &'static str,
    pub id: String,
}

/// `details` of a resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct Details {
    pub id: String,
    pub created: String,
    pub changed: String,
    pub owner: Owner,
}

impl Details {
    fn new(id: &str, created: Timestamp, changed: Timestamp, instance: &InstanceId) -> Self {
        Self {
            id: id.to_string(),
            created: created.rfc3339(),
            changed: changed.rfc3339(),
            owner: Owner {
                owner_type: "OWNER_TYPE_INSTANCE",
                id: instance.to_string(),
            },
        }
    }
}

/// `details` of a search.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListDetails {
    pub applied_limit: String,
    pub total_result: String,
    pub timestamp: String,
}

/// Create / patch answer; `signingKey` on create and after a rotation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetWriteResponse {
    pub details: Details,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

/// A target's configuration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetConfigJson {
    pub name: String,
    pub endpoint: String,
    pub timeout: String,
    pub payload_type: String,
    #[serde(flatten)]
    pub kind: TypeFields,
}

/// `GetTarget`: details, config and the current signing key.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetTargetJson {
    pub details: Details,
    pub config: TargetConfigJson,
    pub signing_key: String,
}

impl GetTargetJson {
    fn from_view(v: TargetView, instance: &InstanceId) -> Self {
        let s = &v.stored;
        let c = &s.config;
        Self {
            details: Details::new(&s.id, s.created_at, s.changed_at, instance),
            config: TargetConfigJson {
                name: c.name.as_str().to_string(),
                endpoint: c.endpoint.masked(),
                timeout: c.timeout.to_proto(),
                payload_type: c.payload_type.as_str().to_string(),
                kind: TypeFields::from_core(c.target_type),
            },
            signing_key: v.signing_key,
        }
    }
}

/// `{target}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V3alphaGetTargetResponse)]
pub struct GetTargetResponse {
    pub target: GetTargetJson,
}

/// `{details}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DetailsResponse {
    pub details: Details,
}

/// Target search answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchTargetsResponse {
    pub details: ListDetails,
    pub result: Vec<GetTargetJson>,
}

/// Paging and sorting of `_search` routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Results to skip.
    #[serde(rename = "query.offset")]
    #[param(minimum = 0)]
    offset: Option<i64>,
    /// Page size (default and maximum as in ZITADEL).
    #[serde(rename = "query.limit")]
    limit: Option<u32>,
    /// Ascending order.
    #[serde(rename = "query.asc")]
    asc: Option<bool>,
    /// The field to sort by (`TARGET_FIELD_NAME_...` / `EXECUTION_FIELD_NAME_...`).
    #[serde(rename = "sortingColumn")]
    sorting_column: Option<String>,
}

impl SearchParams {
    fn page(&self) -> Result<Page, ApiError> {
        let offset = self
            .offset
            .map(u64::try_from)
            .transpose()
            .map_err(|_| ApiError::invalid("invalid query.offset: must not be negative"))?;
        Page::new(offset, self.limit.map(u64::from), self.asc)
            .map_err(|e| ApiError::invalid(format!("invalid query.limit: {}", e.rule)))
    }
}

fn list_details(total: u64, page: &Page, now: Timestamp) -> ListDetails {
    ListDetails {
        applied_limit: page.limit.to_string(),
        total_result: total.to_string(),
        timestamp: now.rfc3339(),
    }
}

/// One execution entry: `{target: id}` or `{include: condition}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<ConditionJson>,
}

/// `{targets: [...]}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionBody {
    #[serde(default)]
    pub targets: Vec<EntryJson>,
}

/// `PUT /executions` body.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = V3alphaSetExecutionRequest)]
pub struct SetExecutionRequest {
    pub condition: Option<ConditionJson>,
    #[serde(default)]
    pub execution: ExecutionBody,
}

/// One execution in a search answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = V3alphaExecutionJson)]
pub struct ExecutionJson {
    pub details: Details,
    pub condition: ConditionJson,
    pub execution: ExecutionBody,
}

impl ExecutionJson {
    fn from_store(e: &StoredExecution, instance: &InstanceId) -> Self {
        let targets = e
            .entries
            .iter()
            .map(|x| match x {
                ExecutionEntry::Target(id) => EntryJson {
                    target: Some(id.clone()),
                    include: None,
                },
                ExecutionEntry::Include(c) => EntryJson {
                    target: None,
                    include: Some(ConditionJson::from_core(c)),
                },
            })
            .collect();
        Self {
            details: Details::new(&e.condition.key(), e.created_at, e.changed_at, instance),
            condition: ConditionJson::from_core(&e.condition),
            execution: ExecutionBody { targets },
        }
    }
}

/// Execution search answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchExecutionsResponse {
    pub details: ListDetails,
    pub result: Vec<ExecutionJson>,
}

/// Creates a target.
#[utoipa::path(post, path = "/resources/v3alpha/actions/targets", tag = TAG,
    request_body = TargetFields, responses((status = 201, body = TargetWriteResponse), (status = 409, description = "another target of the instance has this name")))]
async fn create_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: Body<TargetFields, ZitadelRest>,
) -> Created<TargetWriteResponse> {
    let view = service::create_target(
        &state,
        &tenant.instance,
        body.0.to_config(MAX_ENDPOINT_CHARS_V3ALPHA)?,
    )
    .await?;
    let s = &view.stored;
    let details = Details::new(&s.id, s.created_at, s.changed_at, &tenant.instance);
    Ok((
        StatusCode::CREATED,
        Json(TargetWriteResponse {
            details,
            signing_key: Some(view.signing_key),
        }),
    ))
}

/// Returns a target with its current signing key.
#[utoipa::path(get, path = "/resources/v3alpha/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = GetTargetResponse)))]
async fn get_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
) -> R<GetTargetResponse> {
    let view = service::get_target(&state, &tenant.instance, &id).await?;
    Ok(Json(GetTargetResponse {
        target: GetTargetJson::from_view(view, &tenant.instance),
    }))
}

/// Patches a target: absent fields stay; another type object switches the type;
/// `expirationSigningKey` rotates the key, keeping the old one valid for that long (<= 7 days).
#[utoipa::path(patch, path = "/resources/v3alpha/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    request_body = UpdateFields, responses((status = 200, body = TargetWriteResponse), (status = 409, description = "another target of the instance has this name")))]
async fn patch_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
    body: Body<UpdateFields, ZitadelRest>,
) -> R<TargetWriteResponse> {
    let req = body.0;
    if req.id.as_deref().is_some_and(|b| b != id) {
        return Err(ApiError::invalid("invalid id: the body's id differs from the path's").into());
    }
    let patch = req.fields().to_patch(MAX_ENDPOINT_CHARS_V3ALPHA)?;
    let exp = key_expiration(&req.expiration_signing_key)?;
    let (s, key) = service::update_target(&state, &tenant.instance, &id, patch, exp).await?;
    let details = Details::new(&s.id, s.created_at, s.changed_at, &tenant.instance);
    Ok(Json(TargetWriteResponse {
        details,
        signing_key: key,
    }))
}

/// Deletes a target and removes it from executions. Idempotent like every ZITADEL surface: a
/// target that does not exist in the caller's instance is already in the desired state.
#[utoipa::path(delete, path = "/resources/v3alpha/actions/targets/{id}", tag = TAG, params(("id" = String, Path)),
    responses((status = 200, body = DetailsResponse)))]
async fn delete_target(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    Path(id): Path<String>,
) -> R<DetailsResponse> {
    let now = state.clock.now();
    let created = match service::get_target(&state, &tenant.instance, &id).await {
        Ok(existing) => existing.stored.created_at,
        Err(e) if e.code == crate::error::Code::NotFound => now,
        Err(e) => return Err(e.into()),
    };
    service::delete_target(&state, &tenant.instance, &id).await?;
    Ok(Json(DetailsResponse {
        details: Details::new(&id, created, now, &tenant.instance),
    }))
}

/// Searches targets: the body is the filter list; paging and sorting are query parameters.
#[utoipa::path(post, path = "/resources/v3alpha/actions/targets/_search", tag = TAG,
    request_body = Option<Vec<TargetSearchFilterJson>>,
    params(SearchParams),
    responses((status = 200, body = SearchTargetsResponse)))]
async fn search_targets(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    params: Query<SearchParams, ZitadelRest>,
    body: OptionalBody<Vec<TargetSearchFilterJson>, ZitadelRest>,
) -> R<SearchTargetsResponse> {
    let query = TargetQuery {
        filters: body
            .0
            .iter()
            .enumerate()
            .map(|(i, f)| f.to_store(i))
            .collect::<Result<_, _>>()?,
        sort: params
            .0
            .sorting_column
            .as_deref()
            .map(TargetSort::parse)
            .transpose()?
            .unwrap_or_default(),
        page: params.0.page()?,
    };
    let listing = state.store.list_targets(&tenant.instance, &query).await?;
    let result = service::open_all(&state, listing.items)?
        .into_iter()
        .map(|v| GetTargetJson::from_view(v, &tenant.instance))
        .collect();
    Ok(Json(SearchTargetsResponse {
        details: list_details(listing.total, &query.page, state.clock.now()),
        result,
    }))
}

/// Sets the ordered targets (and includes) of a condition; an empty list removes it.
#[utoipa::path(put, path = "/resources/v3alpha/actions/executions", tag = TAG,
    request_body = SetExecutionRequest, responses((status = 201, body = DetailsResponse)))]
async fn set_execution(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    body: Body<SetExecutionRequest, ZitadelRest>,
) -> Created<DetailsResponse> {
    let req = body.0;
    let condition = req
        .condition
        .as_ref()
        .ok_or_else(|| ApiError::invalid("invalid condition: is required"))?
        .to_core("condition")?;
    let mut entries = Vec::with_capacity(req.execution.targets.len());
    for (i, e) in req.execution.targets.iter().enumerate() {
        let at = format!("execution.targets[{i}]");
        entries.push(match (&e.target, &e.include) {
            (Some(id), None) if !id.trim().is_empty() => ExecutionEntry::Target(id.clone()),
            (Some(_), None) => {
                return Err(
                    ApiError::invalid(format!("invalid {at}.target: must not be empty")).into(),
                )
            }
            (None, Some(c)) => ExecutionEntry::Include(c.to_core(&format!("{at}.include"))?),
            _ => {
                return Err(ApiError::invalid(format!(
                    "invalid {at}: exactly one of target or include must be set"
                ))
                .into())
            }
        });
    }
    let at = service::set_execution(&state, &tenant.instance, &condition, &entries).await?;
    Ok((
        StatusCode::CREATED,
        Json(DetailsResponse {
            details: Details::new(&condition.key(), at, at, &tenant.instance),
        }),
    ))
}

/// Searches executions: the body is the filter list.
#[utoipa::path(post, path = "/resources/v3alpha/actions/executions/_search", tag = TAG,
    request_body = Option<Vec<ExecutionSearchFilterJson>>,
    params(SearchParams),
    responses((status = 200, body = SearchExecutionsResponse)))]
async fn search_executions(
    State(state): State<AppState>,
    tenant: Tenant<ZitadelRest>,
    params: Query<SearchParams, ZitadelRest>,
    body: OptionalBody<Vec<ExecutionSearchFilterJson>, ZitadelRest>,
) -> R<SearchExecutionsResponse> {
    let mut filters = Vec::new();
    for (i, f) in body.0.iter().enumerate() {
        filters.extend(f.to_store(i)?);
    }
    let query = ExecutionQuery {
        filters,
        sort: params
            .0
            .sorting_column
            .as_deref()
            .map(ExecutionSort::parse)
            .transpose()?
            .unwrap_or_default(),
        page: params.0.page()?,
    };
    let listing = state
        .store
        .list_executions(&tenant.instance, &query)
        .await?;
    let result = listing
        .items
        .iter()
        .map(|e| ExecutionJson::from_store(e, &tenant.instance))
        .collect();
    Ok(Json(SearchExecutionsResponse {
        details: list_details(listing.total, &query.page, state.clock.now()),
        result,
    }))
}

/// Function names for `function` conditions.
#[utoipa::path(get, path = "/resources/v3alpha/actions/executions/functions", tag = TAG, responses((status = 200, body = FunctionsResponse)))]
async fn functions(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<FunctionsResponse> {
    Ok(Json(super::v2::functions(&state)))
}

/// Methods for `request`/`response` conditions.
#[utoipa::path(get, path = "/resources/v3alpha/actions/executions/methods", tag = TAG, responses((status = 200, body = MethodsResponse)))]
async fn methods(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<MethodsResponse> {
    Ok(Json(super::v2::methods(&state)))
}

/// Services for `request`/`response` conditions.
#[utoipa::path(get, path = "/resources/v3alpha/actions/executions/services", tag = TAG, responses((status = 200, body = ServicesResponse)))]
async fn services(
    State(state): State<AppState>,
    _tenant: Tenant<ZitadelRest>,
) -> R<ServicesResponse> {
    Ok(Json(super::v2::services(&state)))
}
