//! The SailPoint Event Triggers API (`/triggers/v1`, `/trigger-subscriptions/v1`, and the same
//! under `/beta/...`) plus Switchyard's own custom-trigger registry (`/v1/triggers`, native
//! dialect). Handlers translate between the wire and `switchyard_core::sailpoint`, which owns
//! every rule.

mod callbacks;
mod custom;
mod invocations;
mod patch;
pub mod schema;
mod subscriptions;
mod triggers;

use crate::dialect::Dialect;
use crate::dialect::DialectKind;
use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use switchyard_core::auth::Scope;
use switchyard_core::sailpoint::query::{parse_sorters, FilterSpec, Filters, Page, Sorter};
use switchyard_core::sailpoint::TriggerCatalog;
use switchyard_core::InstanceId;
use utoipa::IntoParams;
use utoipa_axum::routes;

/// Every SailPoint route, current and beta, and the native custom-trigger routes.
pub fn routes() -> Routes {
    use Scope::*;
    let read = |s| Rule::scope(s);
    let write = |s| Rule::scope(s).changes_routes();
    Routes::new(DialectKind::SailPoint, "sailpoint")
        .add(read(TriggersRead), routes!(triggers::list_triggers))
        .add(read(TriggersRead), routes!(triggers::list_triggers_beta))
        .add(write(SubscriptionsWrite), routes!(subscriptions::create))
        .add(read(SubscriptionsRead), routes!(subscriptions::list))
        .add(
            write(SubscriptionsWrite),
            routes!(subscriptions::create_beta),
        )
        .add(read(SubscriptionsRead), routes!(subscriptions::list_beta))
        .add(read(SubscriptionsRead), routes!(subscriptions::get_one))
        .add(write(SubscriptionsWrite), routes!(subscriptions::put))
        .add(write(SubscriptionsWrite), routes!(patch::patch))
        .add(write(SubscriptionsWrite), routes!(subscriptions::delete))
        .add(
            read(SubscriptionsRead),
            routes!(subscriptions::get_one_beta),
        )
        .add(write(SubscriptionsWrite), routes!(subscriptions::put_beta))
        .add(write(SubscriptionsWrite), routes!(patch::patch_beta))
        .add(
            write(SubscriptionsWrite),
            routes!(subscriptions::delete_beta),
        )
        // Checking a filter changes nothing: reading subscriptions is enough.
        .add(
            read(SubscriptionsRead),
            routes!(subscriptions::validate_filter),
        )
        .add(
            read(SubscriptionsRead),
            routes!(subscriptions::validate_filter_beta),
        )
        .merge(invocations::routes())
        .merge(callbacks::routes())
        .merge(
            Routes::new(DialectKind::Native, "triggers")
                .add(write(TriggersWrite), routes!(custom::create))
                .add(read(TriggersRead), routes!(custom::list))
                .add(read(TriggersRead), routes!(custom::get_one))
                .add(write(TriggersWrite), routes!(custom::delete)),
        )
}

/// The triggers visible to `instance`: built-ins plus its custom triggers.
async fn catalog(state: &AppState, instance: &InstanceId) -> Result<TriggerCatalog, ApiError> {
    Ok(TriggerCatalog::with_custom(
        state.store.custom_triggers(instance).await?,
    ))
}

/// SailPoint's standard collection parameters. Other query parameters (the instance selector)
/// are ignored here. Read as text so each gets its own clear 400.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Page size, 0 to 250 (default 250).
    #[param(value_type = Option<u32>, minimum = 0, maximum = 250)]
    limit: Option<String>,
    /// Items to skip.
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
    /// Also send the total in `X-Total-Count`.
    #[param(value_type = Option<bool>)]
    count: Option<String>,
    /// SailPoint filter expression (`id eq "x"`, `triggerId in ("a","b")`); the fields and
    /// operators each list supports are in its description.
    filters: Option<String>,
    /// Comma-separated sort fields, `-` for descending.
    sorters: Option<String>,
}

/// Parsed collection parameters of one list request.
struct Listing {
    page: Page,
    filters: Filters,
    sorters: Vec<Sorter>,
}

impl Listing {
    fn parse<D: Dialect>(
        q: Query<ListParams, D>,
        filter_spec: FilterSpec<'_>,
        sort_fields: &[&str],
    ) -> Result<Self, ApiError> {
        let p = q.0;
        let page = Page::parse(p.limit.as_deref(), p.offset.as_deref(), p.count.as_deref())?;
        let filters = match p.filters.as_deref() {
            Some(f) => Filters::parse(f, filter_spec)?,
            None => Filters::default(),
        };
        let sorters = match p.sorters.as_deref() {
            Some(s) => parse_sorters(s, sort_fields)?,
            None => Vec::new(),
        };
        Ok(Self {
            page,
            filters,
            sorters,
        })
    }

    /// The page of `items` and, with `count=true`, the `X-Total-Count` header.
    fn finish<T>(&self, items: Vec<T>) -> (HeaderMap, Vec<T>) {
        let mut headers = HeaderMap::new();
        if self.page.count {
            headers.insert("x-total-count", HeaderValue::from(items.len()));
        }
        (headers, self.page.apply(items))
    }
}
