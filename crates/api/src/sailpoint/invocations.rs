//! SailPoint trigger invocations: the status list (`GET /trigger-invocations/v1/status`) and test
//! invocations (`POST /trigger-invocations/v1/test`), also under `/beta/trigger-invocations`.
//! Test invocations go through the same engine as real events: the trigger's input schema is
//! enforced, subscription filters apply, `enabled` is ignored, and every attempt is logged; for a
//! request-response trigger they are dispatched exactly like a real start (type TEST).

use super::{catalog, ListParams, Listing};
use crate::dialect::DialectKind;
use crate::dialect::SailPoint;
use crate::error::ApiResult;
use crate::extract::{Body, Query};
use crate::native::events::publish_error;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use switchyard_core::auth::Scope;
use switchyard_core::sailpoint::query::{compare, FilterSpec, Op};
use switchyard_core::ValidationError;
use switchyard_delivery::PublishRequest;
use switchyard_store::queue::{InvocationKind, InvocationStatus, InvocationStatusRow};
use utoipa::ToSchema;
use utoipa_axum::routes;

const FILTERS: FilterSpec<'static> = &[("triggerId", &[Op::Eq]), ("subscriptionId", &[Op::Eq])];
const SORTERS: &[&str] = &["triggerId", "subscriptionName", "created", "completed"];
/// Status records are kept visible for 48 hours, as upstream does for failures.
const STATUS_WINDOW_MS: i64 = 48 * 3600 * 1000;
/// Upper bound of records one status query considers.
const STATUS_MAX_ROWS: u32 = 10_000;

pub fn routes() -> Routes {
    Routes::new(DialectKind::SailPoint, "sailpoint")
        .add(Rule::scope(Scope::InvocationsRead), routes!(status))
        .add(Rule::scope(Scope::InvocationsRead), routes!(status_beta))
        .add(Rule::scope(Scope::InvocationsStart), routes!(test))
        .add(Rule::scope(Scope::InvocationsStart), routes!(test_beta))
}

fn status_wire(r: &InvocationStatusRow) -> Value {
    let parse = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
    };
    let input: Value = serde_json::from_str(&r.input).unwrap_or(Value::Null);
    let complete = r.completed_at.map(|_| {
        let mut c = Map::new();
        if let Some(out) = parse(&r.output) {
            c.insert("output".into(), out);
        }
        if matches!(
            r.status,
            InvocationStatus::Failed | InvocationStatus::Cancelled
        ) {
            let msg = r
                .error
                .clone()
                .unwrap_or_else(|| "invocation failed".into());
            c.insert(
                "localizedError".into(),
                json!({"locale": "en-US", "message": msg}),
            );
        }
        Value::Object(c)
    });
    json!({
        "id": r.id,
        "triggerId": r.trigger_id,
        "subscriptionName": r.subscription_name,
        "subscriptionId": r.subscription_id,
        "type": match r.kind { InvocationKind::Test => "TEST", InvocationKind::RealTime | InvocationKind::Call => "REAL_TIME" },
        "created": r.created_at.rfc3339(),
        "completed": r.completed_at.map(|t| t.rfc3339()),
        "startInvocationInput": {
            "triggerId": r.trigger_id,
            "input": input,
            "contentJson": parse(&r.content_json).unwrap_or_else(|| json!({})),
        },
        "completeInvocationInput": complete,
    })
}

async fn status_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    let listing = Listing::parse(q, FILTERS, SORTERS)?;
    let since = state.clock.now().plus_millis(-STATUS_WINDOW_MS);
    let rows = state
        .store
        .subscription_invocations(&tenant.instance, since, STATUS_MAX_ROWS)
        .await?;
    fn field(r: &InvocationStatusRow, f: &str) -> Option<String> {
        match f {
            "triggerId" => Some(r.trigger_id.clone()),
            "subscriptionId" => Some(r.subscription_id.clone()),
            "subscriptionName" => Some(r.subscription_name.clone()),
            // Millisecond timestamps zero-padded so text order is time order.
            "created" => Some(format!("{:020}", r.created_at.millis())),
            "completed" => r.completed_at.map(|t| format!("{:020}", t.millis())),
            _ => None,
        }
    }
    // Sort keys are computed once per row; `compare` then reads them by sorter name.
    let mut keyed: Vec<(&InvocationStatusRow, Vec<Option<String>>)> = rows
        .iter()
        .filter(|r| {
            listing.filters.matches(|f| match f {
                "triggerId" => Some(r.trigger_id.as_str()),
                "subscriptionId" => Some(r.subscription_id.as_str()),
                _ => None,
            })
        })
        .map(|r| (r, SORTERS.iter().map(|f| field(r, f)).collect()))
        .collect();
    keyed.sort_by(|a, b| {
        compare(a, b, &listing.sorters, |row, f| {
            SORTERS
                .iter()
                .position(|s| *s == f)
                .and_then(|i| row.1[i].as_deref())
        })
    });
    let (headers, page) = listing.finish(keyed);
    Ok((
        headers,
        Json(page.into_iter().map(|(r, _)| status_wire(r)).collect()),
    ))
}

/// Invocation status records of the last 48 hours. Filters: `triggerId`, `subscriptionId` (eq);
/// sorters: `triggerId`, `subscriptionName`, `created`, `completed`.
#[utoipa::path(get, path = "/trigger-invocations/v1/status", tag = "SailPoint Trigger Invocations",
    params(ListParams),
    responses((status = 200, description = "list of InvocationStatus", body = Vec<super::schema::InvocationStatus>),
              (status = 400, description = "bad filter or sorter")))]
pub async fn status(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    status_impl(tenant, state, q).await
}

/// Invocation status records (beta path).
#[utoipa::path(get, path = "/beta/trigger-invocations/status", tag = "SailPoint Trigger Invocations",
    params(ListParams),
    responses((status = 200, description = "list of InvocationStatus", body = Vec<super::schema::InvocationStatus>)))]
pub async fn status_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    status_impl(tenant, state, q).await
}

/// A test invocation request (SailPoint's TestInvocation).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TestInvocation {
    trigger_id: String,
    /// Defaults to the trigger's example input.
    #[schema(value_type = Option<Object>)]
    input: Option<Value>,
    /// Required: a JSON object handed back with each invocation.
    #[schema(value_type = Option<Object>)]
    content_json: Option<Value>,
    /// Only these subscriptions (default: all of the trigger's).
    subscription_ids: Option<Vec<String>>,
}

async fn test_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    body: TestInvocation,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    if let Some(input) = &body.input {
        state.check_payload("input", input)?;
    }
    if let Some(c) = &body.content_json {
        state.check_payload("contentJson", c)?;
    }
    let content_json = match body.content_json {
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(ValidationError::new("contentJson", "must be a JSON object").into()),
        None => return Err(ValidationError::new("contentJson", "is required").into()),
    };
    let cat = catalog(&state, &tenant.instance).await?;
    let trigger = cat.get(&body.trigger_id).ok_or_else(|| {
        ValidationError::new(
            "triggerId",
            format!("'{}' is not a known trigger", body.trigger_id),
        )
    })?;
    let input = body
        .input
        .unwrap_or_else(|| trigger.definition().example_input.clone());
    let published = state
        .engine
        .publish(PublishRequest {
            instance: tenant.instance,
            id: None,
            event_type: body.trigger_id.clone(),
            payload: input,
            kind: InvocationKind::Test,
            only_subscriptions: body.subscription_ids,
            include_disabled: true,
            content_json: Some(content_json.clone()),
            with_secrets: true,
            expect_request_response: None,
        })
        .await
        .map_err(publish_error)?;
    Ok(Json(
        published
            .secrets
            .into_iter()
            .map(|(id, secret)| {
                json!({"id": id, "triggerId": body.trigger_id, "secret": secret, "contentJson": content_json})
            })
            .collect(),
    ))
}

/// Send a test invocation to the trigger's subscriptions (filters apply, `enabled` is ignored).
#[utoipa::path(post, path = "/trigger-invocations/v1/test", tag = "SailPoint Trigger Invocations",
    request_body = TestInvocation,
    responses((status = 200, description = "one Invocation per matching subscription", body = Vec<super::schema::Invocation>),
              (status = 400, description = "unknown trigger or invalid input")))]
pub async fn test(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<TestInvocation, SailPoint>,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    test_impl(tenant, state, body.into_inner()).await
}

/// Test invocation (beta path).
#[utoipa::path(post, path = "/beta/trigger-invocations/test", tag = "SailPoint Trigger Invocations",
    request_body = TestInvocation,
    responses((status = 200, description = "one Invocation per matching subscription", body = Vec<super::schema::Invocation>)))]
pub async fn test_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<TestInvocation, SailPoint>,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    test_impl(tenant, state, body.into_inner()).await
}
