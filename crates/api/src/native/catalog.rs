//! `GET /v1/catalog/zitadel-events`: the event types and groups a ZITADEL `event` condition may
//! name. ZITADEL has List RPCs for functions, methods and services but none for events, so this
//! is where the "not a known event type" error points a user who guessed a name (often a
//! SailPoint trigger id).

use super::wire::ZitadelEventsOut;
use crate::dialect::{DialectKind, Native};
use crate::error::ApiResult;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::Json;
use std::collections::BTreeSet;
use switchyard_core::auth::Scope;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(Rule::scope(Scope::TargetsRead), routes!(zitadel_events))
}

/// ZITADEL event types and event groups for `event` conditions.
#[utoipa::path(get, path = "/v1/catalog/zitadel-events", tag = "native",
    responses((status = 200, description = "event types (`event.event`) and groups (`event.group`) an execution may name", body = ZitadelEventsOut)))]
async fn zitadel_events(
    State(state): State<AppState>,
    _tenant: Tenant<Native>,
) -> ApiResult<Json<ZitadelEventsOut>, Native> {
    let catalog = &state.zitadel_catalog;
    let events: Vec<String> = catalog.events().map(String::from).collect();
    let groups: BTreeSet<String> = events
        .iter()
        .flat_map(|e| {
            e.match_indices('.')
                .map(|(i, _)| e[..i].to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Json(ZitadelEventsOut {
        events,
        groups: groups.into_iter().collect(),
    }))
}
