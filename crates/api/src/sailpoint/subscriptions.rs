//! Trigger subscriptions: create, list, read, replace, delete and `validate-filter`, under
//! `/trigger-subscriptions/v1` and `/beta/trigger-subscriptions`. Secrets are sealed with the
//! master key before they reach the store and are `null` in every response.

use super::{catalog, ListParams, Listing};
use crate::dialect::SailPoint;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::{Body, Query};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchyard_core::invocation::DestinationKind;
use switchyard_core::sailpoint::jsonpath::FilterCheck;
use switchyard_core::sailpoint::query::{compare, FilterSpec, Op};
use switchyard_core::sailpoint::SubscriptionTarget;
use switchyard_core::sailpoint::{Subscription, SubscriptionDoc, TriggerCatalog};
use switchyard_core::signing::new_webhook_secret;
use switchyard_core::{InstanceId, ValidationError};
use switchyard_store::keys::SealedKey;

const FILTERS: FilterSpec<'static> = &[
    ("id", &[Op::Eq, Op::In]),
    ("triggerId", &[Op::Eq, Op::In]),
    ("type", &[Op::Eq, Op::In, Op::Le]),
];
const SORTERS: &[&str] = &["triggerId", "triggerName"];

/// Seals every secret of `sub` for storage.
pub(super) fn seal(state: &AppState, sub: Subscription) -> Subscription {
    sub.map_secrets(|s| Ok::<_, std::convert::Infallible>(state.master_key.seal_str(s)))
        .unwrap_or_else(|never| match never {})
}

/// Opens a stored secret; a URL password stored before passwords in URLs were sealed is used as
/// it is.
fn open_stored(state: &AppState, s: &str) -> Result<String, switchyard_core::crypto::CryptoError> {
    if switchyard_core::delivery_url::is_sealed(s) {
        state.master_key.open_str(s)
    } else {
        Ok(s.to_string())
    }
}

/// Loads a subscription with its secrets opened (for PUT/PATCH merging).
pub(super) async fn load_open(
    state: &AppState,
    instance: &InstanceId,
    id: &str,
) -> Result<Subscription, ApiError> {
    let stored = state
        .store
        .subscription(instance, id)
        .await
        .map_err(|e| not_found_or(e, id))?;
    stored.map_secrets(|s| open_stored(state, s)).map_err(|e| {
        ApiError::internal(anyhow::Error::new(e).context("opening subscription secrets"))
    })
}

fn not_found_or(e: switchyard_store::StoreError, id: &str) -> ApiError {
    match e {
        switchyard_store::StoreError::NotFound => {
            ApiError::not_found(format!("subscription '{id}' not found"))
        }
        other => other.into(),
    }
}

/// The response shape, with the trigger's name resolved.
pub(super) fn wire(cat: &TriggerCatalog, sub: &Subscription) -> Value {
    let name = cat
        .get(&sub.trigger_id)
        .map(|t| t.name())
        .unwrap_or(&sub.trigger_id);
    sub.to_wire(name)
}

/// Refuses an HTTP subscription whose URL outbound protection would refuse.
fn check_outbound(state: &AppState, sub: &Subscription) -> Result<(), ValidationError> {
    match &sub.target {
        SubscriptionTarget::Http(h) => state.check_outbound("httpConfig.url", h.delivery_url()),
        SubscriptionTarget::EventBridge(_) => {
            switchyard_delivery::transport::compiled_in(DestinationKind::EventBridge)
                .map_err(|missing| ValidationError::new("type", missing))
        }
    }
}

/// Validates `doc` as the new state of `previous` (PUT and PATCH) and stores it.
pub(super) async fn replace(
    state: &AppState,
    instance: &InstanceId,
    previous: &Subscription,
    mut doc: SubscriptionDoc,
) -> Result<Value, ApiError> {
    if let Some(id) = doc.id.as_deref() {
        if id != previous.id {
            return Err(ValidationError::new(
                "id",
                format!("'{id}' does not match the subscription id in the path"),
            )
            .into());
        }
    }
    if let Some(t) = doc.trigger_id.as_deref() {
        if t != previous.trigger_id {
            return Err(ValidationError::new(
                "triggerId",
                "cannot be changed; create a new subscription instead",
            )
            .into());
        }
    }
    doc.inherit_secrets(previous);
    let sub = Subscription::from_doc(&previous.id, &previous.trigger_id, &doc)?;
    sub.check_secrets()?;
    check_outbound(state, &sub)?;
    // In partner mode a subscription moved to another account or region (or to or from
    // EVENTBRIDGE) moves its event source: the new one first, so a refusal changes nothing.
    let moved = eventbridge_place(previous) != eventbridge_place(&sub);
    if moved {
        partner_source(state, &sub, true)
            .await
            .map_err(|e| partner_unavailable(&e))?;
    }
    let sealed = seal(state, sub.clone());
    let stored = state
        .store
        .update_subscription(instance, &sealed, state.clock.now())
        .await
        .map_err(|e| not_found_or(e, &previous.id));
    if moved {
        let (old, why) = match &stored {
            Ok(_) => (previous, "its subscription moved"),
            Err(_) => (&sub, "its subscription was not changed"),
        };
        if let Err(e) = partner_source(state, old, false).await {
            tracing::warn!(subscription = %previous.id, error = %e, "EventBridge partner event source not deleted ({why})");
        }
    }
    stored?;
    if previous.enabled && !sub.enabled {
        state.engine.route_disabled_by_operator(
            instance,
            switchyard_store::queue::RouteKind::Subscription,
            &previous.id,
        );
    }
    let cat = catalog(state, instance).await?;
    Ok(wire(&cat, &sub))
}

async fn create_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    doc: SubscriptionDoc,
) -> ApiResult<(StatusCode, Json<Value>), SailPoint> {
    if doc.id.is_some() {
        return Err(ValidationError::new("id", "is assigned by the server; remove it").into());
    }
    let trigger_id = match doc.trigger_id.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => return Err(ValidationError::new("triggerId", "is required").into()),
    };
    let cat = catalog(&state, &tenant.instance).await?;
    let trigger = cat.get(&trigger_id).ok_or_else(|| {
        ValidationError::new(
            "triggerId",
            format!("'{trigger_id}' is not a known trigger"),
        )
    })?;
    let id = uuid::Uuid::new_v4().to_string();
    let sub = Subscription::from_doc(&id, &trigger_id, &doc)?;
    sub.check_secrets()?;
    check_outbound(&state, &sub)?;
    let now = state.clock.now();
    let key = SealedKey {
        key_id: uuid::Uuid::new_v4().simple().to_string(),
        sealed: state.master_key.seal_str(&new_webhook_secret()),
        created_at: now,
        expires_at: None,
    };
    let max = trigger.kind().max_subscriptions();
    state
        .store
        .create_subscription(&tenant.instance, &seal(&state, sub.clone()), max, &key, now)
        .await
        .map_err(|e| match e {
            switchyard_store::StoreError::Conflict(m) => ApiError::new(
                Code::InvalidArgument,
                format!("triggerId: {m} ({} trigger)", trigger.kind().as_str()),
            ),
            other => other.into(),
        })?;
    if let Err(e) = partner_source(&state, &sub, true).await {
        // Without its event source the subscription could never deliver: undo it.
        let _ = state
            .store
            .delete_subscription(&tenant.instance, &id, state.clock.now())
            .await;
        return Err(partner_unavailable(&e).into());
    }
    Ok((StatusCode::CREATED, Json(wire(&cat, &sub))))
}

fn partner_unavailable(e: &str) -> ApiError {
    ApiError::new(
        Code::Unavailable,
        format!("the EventBridge partner event source could not be created: {e}"),
    )
}

/// Where an EVENTBRIDGE subscription's events go (account, region); `None` for other types.
fn eventbridge_place(sub: &Subscription) -> Option<(&str, &str)> {
    match &sub.target {
        SubscriptionTarget::EventBridge(eb) => Some((eb.aws_account(), eb.aws_region())),
        _ => None,
    }
}

/// In EventBridge partner mode, creates (`create`) or deletes the partner event source of an
/// EVENTBRIDGE subscription; nothing to do otherwise.
async fn partner_source(state: &AppState, sub: &Subscription, create: bool) -> Result<(), String> {
    let SubscriptionTarget::EventBridge(eb) = &sub.target else {
        return Ok(());
    };
    let Some(name) = state
        .engine
        .eventbridge_partner_source(&sub.id, &sub.trigger_id)
    else {
        return Ok(());
    };
    state
        .engine
        .eventbridge_partner_source_op(create, &name, eb.aws_account(), eb.aws_region())
        .await
}

async fn list_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    let listing = Listing::parse(q, FILTERS, SORTERS)?;
    let cat = catalog(&state, &tenant.instance).await?;
    let subs = state.store.subscriptions(&tenant.instance).await?;
    let rows: Vec<(Subscription, String)> = subs
        .into_iter()
        .map(|s| {
            let name = cat
                .get(&s.trigger_id)
                .map(|t| t.name().to_string())
                .unwrap_or_else(|| s.trigger_id.clone());
            (s, name)
        })
        .collect();
    fn field<'a>(row: &'a (Subscription, String), f: &str) -> Option<&'a str> {
        match f {
            "id" => Some(&row.0.id),
            "triggerId" => Some(&row.0.trigger_id),
            "triggerName" => Some(&row.1),
            "type" => Some(row.0.target.type_name()),
            _ => None,
        }
    }
    let mut rows: Vec<&(Subscription, String)> = rows
        .iter()
        .filter(|r| listing.filters.matches(|f| field(r, f)))
        .collect();
    rows.sort_by(|a, b| compare(*a, *b, &listing.sorters, |r, f| field(r, f)));
    let (headers, page) = listing.finish(rows);
    Ok((
        headers,
        Json(page.into_iter().map(|(s, name)| s.to_wire(name)).collect()),
    ))
}

async fn get_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    id: String,
) -> ApiResult<Json<Value>, SailPoint> {
    let sub = state
        .store
        .subscription(&tenant.instance, &id)
        .await
        .map_err(|e| not_found_or(e, &id))?;
    let cat = catalog(&state, &tenant.instance).await?;
    Ok(Json(wire(&cat, &sub)))
}

async fn put_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    id: String,
    doc: SubscriptionDoc,
) -> ApiResult<Json<Value>, SailPoint> {
    let previous = load_open(&state, &tenant.instance, &id).await?;
    Ok(Json(
        replace(&state, &tenant.instance, &previous, doc).await?,
    ))
}

async fn delete_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    id: String,
) -> ApiResult<StatusCode, SailPoint> {
    let sub = state
        .store
        .subscription(&tenant.instance, &id)
        .await
        .map_err(|e| not_found_or(e, &id))?;
    state
        .store
        .delete_subscription(&tenant.instance, &id, state.clock.now())
        .await
        .map_err(|e| not_found_or(e, &id))?;
    if let Err(e) = partner_source(&state, &sub, false).await {
        // The subscription is gone either way; the operator can remove a left-over source.
        tracing::warn!(subscription = %id, error = %e, "EventBridge partner event source not deleted");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `validate-filter` request: a sample input and a JSONPath filter.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateFilterInput {
    /// A sample trigger input.
    #[schema(value_type = Object)]
    input: Map<String, Value>,
    /// The JSONPath filter to check against it.
    filter: String,
}

/// Parses and runs the filter on the sample within the configured budget, on the blocking pool
/// (a costly filter must not hold the async runtime). Broken limits answer 400 naming them.
async fn validate_filter_impl(
    state: AppState,
    body: ValidateFilterInput,
) -> ApiResult<Json<Value>, SailPoint> {
    let input = Value::Object(body.input);
    state.check_payload("input", &input)?;
    let budget = state.settings.filter_budget;
    let filter = body.filter;
    let check = tokio::task::spawn_blocking(move || FilterCheck::run(&filter, &input, budget))
        .await
        .map_err(|e| ApiError::internal(anyhow::Error::new(e).context("evaluating a filter")))??;
    Ok(Json(json!({
        "isValid": check.is_valid(),
        "isValidJSONPath": check.valid_path,
        "isPathExist": check.path_exists,
    })))
}

/// Create a subscription.
#[utoipa::path(post, path = "/trigger-subscriptions/v1", tag = "SailPoint Trigger Subscriptions",
    request_body = super::schema::SubscriptionRequest,
    responses(
        (status = 201, description = "Created subscription (secrets null)", body = super::schema::Subscription),
        (status = 400, description = "Invalid subscription"),
    ))]
pub async fn create(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<SubscriptionDoc, SailPoint>,
) -> ApiResult<(StatusCode, Json<Value>), SailPoint> {
    create_impl(tenant, state, body.0).await
}

/// Create a subscription (beta path).
#[utoipa::path(post, path = "/beta/trigger-subscriptions", tag = "SailPoint Trigger Subscriptions",
    request_body = super::schema::SubscriptionRequest,
    responses((status = 201, description = "Created subscription", body = super::schema::Subscription), (status = 400, description = "Invalid subscription")))]
pub async fn create_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<SubscriptionDoc, SailPoint>,
) -> ApiResult<(StatusCode, Json<Value>), SailPoint> {
    create_impl(tenant, state, body.0).await
}

/// List subscriptions. Filters: `id`, `triggerId` (eq, in), `type` (eq, in, le); sorters:
/// `triggerId`, `triggerName`.
#[utoipa::path(get, path = "/trigger-subscriptions/v1", tag = "SailPoint Trigger Subscriptions",
    params(ListParams),
    responses((status = 200, description = "Subscriptions", body = Vec<super::schema::Subscription>), (status = 400, description = "Bad collection parameter")))]
pub async fn list(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    list_impl(tenant, state, q).await
}

/// List subscriptions (beta path).
#[utoipa::path(get, path = "/beta/trigger-subscriptions", tag = "SailPoint Trigger Subscriptions",
    params(ListParams),
    responses((status = 200, description = "Subscriptions", body = Vec<super::schema::Subscription>), (status = 400, description = "Bad collection parameter")))]
pub async fn list_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    list_impl(tenant, state, q).await
}

/// Get one subscription.
#[utoipa::path(get, path = "/trigger-subscriptions/v1/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, description = "Subscription", body = super::schema::Subscription), (status = 404, description = "Not found")))]
pub async fn get_one(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>, SailPoint> {
    get_impl(tenant, state, id).await
}

/// Get one subscription (beta path).
#[utoipa::path(get, path = "/beta/trigger-subscriptions/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 200, description = "Subscription", body = super::schema::Subscription), (status = 404, description = "Not found")))]
pub async fn get_one_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>, SailPoint> {
    get_impl(tenant, state, id).await
}

/// Replace a subscription (id and triggerId are immutable; omitted secrets of an unchanged
/// authentication type are kept).
#[utoipa::path(put, path = "/trigger-subscriptions/v1/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    request_body = super::schema::SubscriptionRequest,
    responses((status = 200, description = "Updated subscription", body = super::schema::Subscription), (status = 400, description = "Invalid subscription"), (status = 404, description = "Not found")))]
pub async fn put(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body<SubscriptionDoc, SailPoint>,
) -> ApiResult<Json<Value>, SailPoint> {
    put_impl(tenant, state, id, body.0).await
}

/// Replace a subscription (beta path).
#[utoipa::path(put, path = "/beta/trigger-subscriptions/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    request_body = super::schema::SubscriptionRequest,
    responses((status = 200, description = "Updated subscription", body = super::schema::Subscription), (status = 400, description = "Invalid subscription"), (status = 404, description = "Not found")))]
pub async fn put_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body<SubscriptionDoc, SailPoint>,
) -> ApiResult<Json<Value>, SailPoint> {
    put_impl(tenant, state, id, body.0).await
}

/// Delete a subscription and its signing secret.
#[utoipa::path(delete, path = "/trigger-subscriptions/v1/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found")))]
pub async fn delete(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, SailPoint> {
    delete_impl(tenant, state, id).await
}

/// Delete a subscription (beta path).
#[utoipa::path(delete, path = "/beta/trigger-subscriptions/{id}", tag = "SailPoint Trigger Subscriptions",
    params(("id" = String, Path, description = "Subscription id")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "Not found")))]
pub async fn delete_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode, SailPoint> {
    delete_impl(tenant, state, id).await
}

/// Check a JSONPath filter against a sample input.
#[utoipa::path(post, path = "/trigger-subscriptions/v1/validate-filter", tag = "SailPoint Trigger Subscriptions",
    request_body = ValidateFilterInput,
    responses((status = 200, description = "whether the filter is valid and selects something", body = super::schema::ValidateFilterResponse)))]
pub async fn validate_filter(
    _tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<ValidateFilterInput, SailPoint>,
) -> ApiResult<Json<Value>, SailPoint> {
    validate_filter_impl(state, body.0).await
}

/// Check a JSONPath filter (beta path).
#[utoipa::path(post, path = "/beta/trigger-subscriptions/validate-filter", tag = "SailPoint Trigger Subscriptions",
    request_body = ValidateFilterInput,
    responses((status = 200, description = "whether the filter is valid and selects something", body = super::schema::ValidateFilterResponse)))]
pub async fn validate_filter_beta(
    _tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<ValidateFilterInput, SailPoint>,
) -> ApiResult<Json<Value>, SailPoint> {
    validate_filter_impl(state, body.0).await
}
