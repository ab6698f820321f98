//! `GET/PUT /v1/targets/{id}/policy` and `GET/PUT /v1/subscriptions/{id}/policy`: a route's
//! delivery policy (retries, timeout, limits, FIFO per key, body format, auto-disable). A `PUT`
//! replaces the whole document after validating every field; the route caches are dropped with
//! it, so the next delivery on this node follows the new policy (other nodes within the cache
//! TTL).

use super::wire::PolicyBody;
use crate::dialect::{DialectKind, Native};
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use switchyard_core::auth::Scope;
use switchyard_core::policy::{PolicyDoc, RoutePolicy};
use switchyard_core::InstanceId;
use switchyard_store::queue::RouteKind;
use switchyard_store::StoreError;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::TargetsRead), routes!(get_target_policy))
        .add(
            Rule::scope(Scope::TargetsWrite).changes_routes(),
            routes!(put_target_policy),
        )
        .add(
            Rule::scope(Scope::SubscriptionsRead),
            routes!(get_subscription_policy),
        )
        .add(
            Rule::scope(Scope::SubscriptionsWrite).changes_routes(),
            routes!(put_subscription_policy),
        )
}

/// The target's delivery policy (`{}` when it has none).
#[utoipa::path(get, path = "/v1/targets/{id}/policy", tag = "native",
    params(("id" = String, Path, description = "target id")),
    responses((status = 200, description = "the policy as set; absent fields take the server defaults", body = PolicyBody),
              (status = 404, description = "no such target in this instance")))]
async fn get_target_policy(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<PolicyBody>, Native> {
    get(&state, &tenant.instance, RouteKind::Target, &id).await
}

/// Replace the target's delivery policy.
#[utoipa::path(put, path = "/v1/targets/{id}/policy", tag = "native", request_body = PolicyBody,
    params(("id" = String, Path, description = "target id")),
    responses((status = 200, description = "the policy now in force", body = PolicyBody),
              (status = 400, description = "a field is invalid or out of bounds; the message names it"),
              (status = 404, description = "no such target in this instance")))]
async fn put_target_policy(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
    body: Body<PolicyBody, Native>,
) -> ApiResult<Json<PolicyBody>, Native> {
    put(
        &state,
        &tenant.instance,
        RouteKind::Target,
        &id,
        body.into_inner(),
    )
    .await
}

/// The subscription's delivery policy (`{}` when it has none).
#[utoipa::path(get, path = "/v1/subscriptions/{id}/policy", tag = "native",
    params(("id" = String, Path, description = "trigger subscription id")),
    responses((status = 200, description = "the policy as set; absent fields take the server defaults", body = PolicyBody),
              (status = 404, description = "no such subscription in this instance")))]
async fn get_subscription_policy(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<PolicyBody>, Native> {
    get(&state, &tenant.instance, RouteKind::Subscription, &id).await
}

/// Replace the subscription's delivery policy.
#[utoipa::path(put, path = "/v1/subscriptions/{id}/policy", tag = "native", request_body = PolicyBody,
    params(("id" = String, Path, description = "trigger subscription id")),
    responses((status = 200, description = "the policy now in force", body = PolicyBody),
              (status = 400, description = "a field is invalid or out of bounds; the message names it"),
              (status = 404, description = "no such subscription in this instance")))]
async fn put_subscription_policy(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
    body: Body<PolicyBody, Native>,
) -> ApiResult<Json<PolicyBody>, Native> {
    put(
        &state,
        &tenant.instance,
        RouteKind::Subscription,
        &id,
        body.into_inner(),
    )
    .await
}

async fn get(
    state: &AppState,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> ApiResult<Json<PolicyBody>, Native> {
    require_route(state, instance, kind, id).await?;
    let policy = state.store.route_policy(instance, kind, id).await?;
    Ok(Json(policy.map(|p| p.doc()).unwrap_or_default().into()))
}

async fn put(
    state: &AppState,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
    body: PolicyBody,
) -> ApiResult<Json<PolicyBody>, Native> {
    require_route(state, instance, kind, id).await?;
    let policy = RoutePolicy::parse(&PolicyDoc::from(body))?;
    state
        .store
        .set_route_policy(instance, kind, id, &policy, state.clock.now())
        .await?;
    state.engine.wake();
    Ok(Json(policy.doc().into()))
}

/// 404 unless the route exists in the instance.
async fn require_route(
    state: &AppState,
    instance: &InstanceId,
    kind: RouteKind,
    id: &str,
) -> Result<(), ApiError> {
    let found = match kind {
        RouteKind::Target => state.store.get_target(instance, id).await.map(drop),
        RouteKind::Subscription => state.store.subscription(instance, id).await.map(drop),
    };
    found.map_err(|e| match e {
        StoreError::NotFound => ApiError::not_found(format!("{} '{id}' not found", kind.as_str())),
        other => other.into(),
    })
}
