//! Finding deliveries: `GET /v1/invocations` and `GET /v1/events` (filters, newest first, an
//! opaque cursor) and `GET /v1/events/{id}` (the payload, its acceptance and its invocations).
//! The filters are parsed into the store's typed filter here, so a bad value is a 400 naming the
//! parameter, and every page is bounded.

use super::wire::{EventOut, EventPage, EventSummaryOut, InvocationPage, InvocationSummaryOut};
use crate::dialect::{DialectKind, Native};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use switchyard_core::auth::Scope;
use switchyard_core::Timestamp;
use switchyard_store::queue::{InvocationStatus, RouteKind};
use switchyard_store::search::{Cursor, EventFilter, InvocationFilter};
use switchyard_store::StoreError;
use utoipa::IntoParams;
use utoipa_axum::routes;

/// Rows per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 250;
/// The longest id a filter or cursor may name (ids are far shorter).
const MAX_ID: usize = 256;

pub fn routes() -> Routes {
    let read = Rule::scope(Scope::InvocationsRead);
    Routes::new(DialectKind::Native, "native")
        .add(read, routes!(list_invocations))
        .add(read, routes!(list_events))
        .add(read, routes!(get_event))
}

/// Filters of `GET /v1/invocations` (and, built from its body, of a bulk replay).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct InvocationQuery {
    /// Only invocations in this state.
    #[param(
        pattern = "^(waiting|pending|in_flight|delivered|awaiting_callback|completed|failed|cancelled)$"
    )]
    pub status: Option<String>,
    /// Only deliveries to SailPoint subscriptions (`subscription`) or ZITADEL targets (`target`).
    #[param(pattern = "^(subscription|target)$")]
    pub route_kind: Option<String>,
    /// Only deliveries to this subscription or target.
    #[param(max_length = 256)]
    pub route_id: Option<String>,
    /// Only invocations of this trigger id or ZITADEL event type.
    #[param(max_length = 256)]
    pub trigger_id: Option<String>,
    /// Only the invocations of this event.
    #[param(max_length = 256)]
    pub event_id: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(format = DateTime)]
    pub since: Option<String>,
    /// Created before this time (RFC 3339).
    #[param(format = DateTime)]
    pub until: Option<String>,
}

/// Paging of the lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page (1–250, default 50).
    #[param(minimum = 1, maximum = 250)]
    limit: Option<u32>,
    /// `nextCursor` of the previous page.
    #[param(max_length = 400)]
    cursor: Option<String>,
}

impl PageQuery {
    fn limit(&self) -> Result<u32, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid(format!(
                "limit: must be between 1 and {MAX_LIMIT}"
            ))),
        }
    }

    fn cursor(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(decode_cursor).transpose()
    }
}

/// The cursor as clients see it: `<millis>:<id>` in URL-safe base64, opaque by intent.
pub fn encode_cursor(c: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", c.created_at.millis(), c.id))
}

fn decode_cursor(text: &str) -> Result<Cursor, ApiError> {
    let bad = || ApiError::invalid("cursor: not a cursor this server handed out");
    if text.len() > 400 {
        return Err(bad());
    }
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (millis, id) = raw.split_once(':').ok_or_else(bad)?;
    let millis: i64 = millis.parse().map_err(|_| bad())?;
    if id.is_empty() || id.len() > MAX_ID {
        return Err(bad());
    }
    Ok(Cursor {
        created_at: Timestamp::from_millis(millis),
        id: id.to_string(),
    })
}

fn time(name: &str, v: &Option<String>) -> Result<Option<Timestamp>, ApiError> {
    v.as_deref()
        .map(|s| {
            Timestamp::parse_rfc3339(s)
                .ok_or_else(|| ApiError::invalid(format!("{name}: not an RFC 3339 time ('{s}')")))
        })
        .transpose()
}

fn id(name: &str, v: &Option<String>) -> Result<Option<String>, ApiError> {
    match v.as_deref() {
        Some(s) if s.is_empty() || s.len() > MAX_ID => Err(ApiError::invalid(format!(
            "{name}: must be 1 to {MAX_ID} characters"
        ))),
        other => Ok(other.map(String::from)),
    }
}

impl InvocationQuery {
    /// The store's filter; a 400 naming the parameter when one is not valid.
    pub fn filter(&self) -> Result<InvocationFilter, ApiError> {
        let status = self
            .status
            .as_deref()
            .map(|s| {
                InvocationStatus::parse(s).map_err(|_| {
                    let all: Vec<&str> = InvocationStatus::ALL.iter().map(|s| s.as_str()).collect();
                    ApiError::invalid(format!("status: must be one of {}", all.join(", ")))
                })
            })
            .transpose()?;
        let route_kind = self
            .route_kind
            .as_deref()
            .map(|s| {
                RouteKind::parse(s)
                    .map_err(|_| ApiError::invalid("routeKind: must be 'subscription' or 'target'"))
            })
            .transpose()?;
        Ok(InvocationFilter {
            status,
            route_kind,
            route_id: id("routeId", &self.route_id)?,
            trigger_id: id("triggerId", &self.trigger_id)?,
            event_id: id("eventId", &self.event_id)?,
            since: time("since", &self.since)?,
            until: time("until", &self.until)?,
        })
    }
}

/// Invocations (deliveries) newest first, filtered; page with `cursor`.
#[utoipa::path(get, path = "/v1/invocations", tag = "native",
    params(InvocationQuery, PageQuery),
    responses((status = 200, description = "one page of invocations, newest first", body = InvocationPage),
              (status = 400, description = "a filter, the limit or the cursor is not valid")))]
async fn list_invocations(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    q: Query<InvocationQuery, Native>,
    page: Query<PageQuery, Native>,
) -> ApiResult<Json<InvocationPage>, Native> {
    let (q, page) = (q.0, page.0);
    let filter = q.filter()?;
    let limit = page.limit()?;
    let after = page.cursor()?;
    let rows = state
        .store
        .list_invocations(&tenant.instance, &filter, after.as_ref(), limit)
        .await?;
    let next_cursor = (rows.len() as u32 == limit)
        .then(|| rows.last().map(|r| encode_cursor(&r.cursor())))
        .flatten();
    Ok(Json(InvocationPage {
        data: rows.into_iter().map(InvocationSummaryOut::from).collect(),
        next_cursor,
    }))
}

/// Filters of `GET /v1/events`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events of this trigger id or ZITADEL event type.
    #[serde(rename = "type")]
    #[param(rename = "type", max_length = 256)]
    event_type: Option<String>,
    /// Accepted at or after this time (RFC 3339).
    #[param(format = DateTime)]
    since: Option<String>,
    /// Accepted before this time (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
}

/// Accepted events newest first, filtered; page with `cursor`.
#[utoipa::path(get, path = "/v1/events", tag = "native",
    params(EventQuery, PageQuery),
    responses((status = 200, description = "one page of events, newest first", body = EventPage),
              (status = 400, description = "a filter, the limit or the cursor is not valid")))]
async fn list_events(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    q: Query<EventQuery, Native>,
    page: Query<PageQuery, Native>,
) -> ApiResult<Json<EventPage>, Native> {
    let (q, page) = (q.0, page.0);
    let filter = EventFilter {
        event_type: id("type", &q.event_type)?,
        since: time("since", &q.since)?,
        until: time("until", &q.until)?,
    };
    let limit = page.limit()?;
    let after = page.cursor()?;
    let rows = state
        .store
        .list_events(&tenant.instance, &filter, after.as_ref(), limit)
        .await?;
    let next_cursor = (rows.len() as u32 == limit)
        .then(|| rows.last().map(|r| encode_cursor(&r.cursor())))
        .flatten();
    Ok(Json(EventPage {
        data: rows
            .into_iter()
            .map(|e| EventSummaryOut {
                id: e.id,
                event_type: e.event_type,
                accepted_at: e.created_at.rfc3339(),
            })
            .collect(),
        next_cursor,
    }))
}

/// One accepted event: its payload, the answer the producer got, and its invocations.
#[utoipa::path(get, path = "/v1/events/{id}", tag = "native",
    params(("id" = String, Path, description = "event id")),
    responses((status = 200, description = "the event with its invocations", body = EventOut),
              (status = 404, description = "not found")))]
async fn get_event(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<EventOut>, Native> {
    match state.store.event(&tenant.instance, &id).await {
        Ok(e) => Ok(Json(e.into())),
        Err(StoreError::NotFound) => {
            Err(ApiError::not_found(format!("event '{id}' not found")).into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_text_is_refused() {
        let c = Cursor {
            created_at: Timestamp::from_millis(1_700_000_000_123),
            id: "ev:1/ä".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        for bad in [
            "",
            "!!",
            "bm9jb2xvbg",
            &URL_SAFE_NO_PAD.encode("x:1"),
            &"A".repeat(500),
        ] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_name_the_bad_parameter() {
        let q = |f: fn(&mut InvocationQuery)| {
            let mut q = InvocationQuery::default();
            f(&mut q);
            q.filter().map_err(|e| e.message)
        };
        assert!(q(|q| q.status = Some("lost".into()))
            .unwrap_err()
            .starts_with("status:"));
        assert!(q(|q| q.route_kind = Some("x".into()))
            .unwrap_err()
            .starts_with("routeKind:"));
        assert!(q(|q| q.since = Some("yesterday".into()))
            .unwrap_err()
            .starts_with("since:"));
        assert!(q(|q| q.route_id = Some(String::new()))
            .unwrap_err()
            .starts_with("routeId:"));
        let f = q(|q| {
            q.status = Some("failed".into());
            q.since = Some("2026-01-01T00:00:00Z".into());
        })
        .unwrap();
        assert_eq!(f.status, Some(InvocationStatus::Failed));
        assert!(f.since.is_some());
    }
}
