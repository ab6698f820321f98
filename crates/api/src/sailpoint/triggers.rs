//! `GET /triggers/v1` (and `/beta/triggers`): the trigger catalog of the instance in SailPoint's
//! Trigger shape, with filtering on `id` and sorting by `id`/`name`.

use super::{catalog, ListParams, Listing};
use crate::dialect::SailPoint;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::Value;
use switchyard_core::sailpoint::query::{compare, FilterSpec, Op};
use switchyard_core::sailpoint::Trigger;

const FILTERS: FilterSpec<'static> = &[("id", &[Op::Eq, Op::Ge, Op::Le, Op::In])];
const SORTERS: &[&str] = &["id", "name"];

fn field<'a>(t: &'a Trigger, f: &str) -> Option<&'a str> {
    match f {
        "id" => Some(t.id()),
        "name" => Some(t.name()),
        _ => None,
    }
}

async fn list_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    let listing = Listing::parse(q, FILTERS, SORTERS)?;
    let cat = catalog(&state, &tenant.instance).await?;
    let mut items: Vec<&Trigger> = cat
        .all()
        .filter(|t| listing.filters.matches(|f| field(t, f)))
        .collect();
    items.sort_by(|a, b| compare(*a, *b, &listing.sorters, |t, f| field(t, f)));
    let (headers, page) = listing.finish(items);
    Ok((
        headers,
        Json(page.into_iter().map(Trigger::to_wire).collect()),
    ))
}

/// List triggers. Filters: `id` (eq, ge, le, in); sorters: `id`, `name`.
#[utoipa::path(get, path = "/triggers/v1", tag = "SailPoint Triggers",
    params(ListParams),
    responses(
        (status = 200, description = "Triggers (inputSchema/outputSchema stringified)", body = Vec<super::schema::Trigger>),
        (status = 400, description = "Bad collection parameter"),
    ))]
pub async fn list_triggers(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    list_impl(tenant, state, q).await
}

/// List triggers (beta path).
#[utoipa::path(get, path = "/beta/triggers", tag = "SailPoint Triggers",
    params(ListParams),
    responses(
        (status = 200, description = "Triggers", body = Vec<super::schema::Trigger>),
        (status = 400, description = "Bad collection parameter"),
    ))]
pub async fn list_triggers_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    q: Query<ListParams, SailPoint>,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>), SailPoint> {
    list_impl(tenant, state, q).await
}
