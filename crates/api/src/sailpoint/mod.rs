//! The SailPoint Event Triggers API (`/triggers/v1`, `/trigger-subscriptions/v1`, and the same
//! under `/beta/...`) plus Switchyard's own custom-trigger registry (`/v1/triggers`, native
//! dialect). Handlers translate between the wire and `switchyard_core::sailpoint`, which owns
//! every rule.

mod callbacks;
mod custom;
mod invocations;
mod patch;
mod subscriptions;
mod triggers;

use crate::dialect::Dialect;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue};
use serde::Deserialize;
use switchyard_core::sailpoint::query::{parse_sorters, FilterSpec, Filters, Page, Sorter};
use switchyard_core::sailpoint::TriggerCatalog;
use switchyard_core::InstanceId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every SailPoint route, current and beta, and the native custom-trigger routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(triggers::list_triggers))
        .routes(routes!(triggers::list_triggers_beta))
        .routes(routes!(subscriptions::create, subscriptions::list))
        .routes(routes!(
            subscriptions::create_beta,
            subscriptions::list_beta
        ))
        .routes(routes!(
            subscriptions::get_one,
            subscriptions::put,
            patch::patch,
            subscriptions::delete
        ))
        .routes(routes!(
            subscriptions::get_one_beta,
            subscriptions::put_beta,
            patch::patch_beta,
            subscriptions::delete_beta
        ))
        .routes(routes!(subscriptions::validate_filter))
        .routes(routes!(subscriptions::validate_filter_beta))
        .routes(routes!(custom::create, custom::list))
        .routes(routes!(custom::get_one, custom::delete))
        .merge(invocations::router())
        .merge(callbacks::router())
}

/// The triggers visible to `instance`: built-ins plus its custom triggers.
async fn catalog(state: &AppState, instance: &InstanceId) -> Result<TriggerCatalog, ApiError> {
    Ok(TriggerCatalog::with_custom(
        state.store.custom_triggers(instance).await?,
    ))
}

/// SailPoint's standard collection parameters. Other query parameters (the instance selector)
/// are ignored here.
#[derive(Debug, Deserialize)]
struct ListParams {
    limit: Option<String>,
    offset: Option<String>,
    count: Option<String>,
    filters: Option<String>,
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
