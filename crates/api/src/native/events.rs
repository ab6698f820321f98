//! `POST /v1/events`: publish a fire-and-forget event. The answer comes only after the event and
//! all its invocations are durable. `POST /v1/events/{id}/expunge`: erase one event's data for an
//! erasure request.

use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::auth::Scope;
use switchyard_delivery::{PublishError, PublishRequest, RoutingError};
use switchyard_store::queue::InvocationKind;
use switchyard_store::StoreError;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(
            Rule::scope(Scope::EventsPublish).producer(),
            routes!(publish),
        )
        // Erasing data is the instance administrator's call, not a producer's.
        .add(Rule::scope(Scope::Admin), routes!(expunge))
}

/// An event to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"type": "user.human.added", "payload": {"userId": "u-1"}}))]
pub struct PublishBody {
    /// Trigger id (`idn:identity-created`) or ZITADEL event type (`user.human.added`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's data: a JSON object, validated against the trigger's input schema.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Idempotency key: publishing again with the same id returns the first answer.
    pub id: Option<String>,
}

/// Publish an event; 202 once it is durable.
#[utoipa::path(post, path = "/v1/events", tag = "native", request_body = PublishBody,
    responses((status = 202, description = "accepted and durable", body = super::wire::PublishedOut),
              (status = 400, description = "unknown type or invalid payload")))]
async fn publish(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    body: Body<PublishBody, Native>,
) -> ApiResult<(StatusCode, Json<Value>), Native> {
    let body = body.into_inner();
    state.check_payload("payload", &body.payload)?;
    let published = state
        .engine
        .publish(PublishRequest {
            instance: tenant.instance,
            id: body.id,
            event_type: body.event_type,
            payload: body.payload,
            kind: InvocationKind::RealTime,
            only_subscriptions: None,
            include_disabled: false,
            content_json: None,
            with_secrets: false,
            expect_request_response: Some(false),
        })
        .await
        .map_err(publish_error)?;
    Ok((StatusCode::ACCEPTED, Json(published.response)))
}

/// Erase an event's data: its payload and metadata, the outputs of its invocations and the
/// response excerpts of their attempts, at once (for erasure requests). Ids, times, statuses,
/// attempt counts and errors stay, so the history still explains what happened. Only an event
/// whose invocations have all ended can be expunged (409 otherwise): wait for the live ones to
/// end, or end them by disabling or deleting their route. Its invocations cannot be replayed
/// afterwards. Expunging again answers the first time.
#[utoipa::path(post, path = "/v1/events/{id}/expunge", tag = "native",
    params(("id" = String, Path, description = "event id (the producer's or the generated one)")),
    responses((status = 200, description = "the event's data is erased", body = super::wire::ExpungedOut),
              (status = 404, description = "no such event in this instance"),
              (status = 409, description = "some of its invocations are still live (waiting, pending, in flight or awaiting a callback)")))]
async fn expunge(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<super::wire::ExpungedOut>, Native> {
    let now = state.clock.now();
    let done = state
        .store
        .expunge_event(&tenant.instance, &id, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("event '{id}' not found")),
            StoreError::Conflict(m) => {
                ApiError::from(StoreError::Conflict(m)).with_status(StatusCode::CONFLICT)
            }
            other => other.into(),
        })?;
    if done.at == now {
        state.retention.metrics().expunged();
    }
    Ok(Json(super::wire::ExpungedOut {
        event_id: id,
        expunged_at: done.at.rfc3339(),
        invocations: done.invocations,
        attempts: done.attempts,
    }))
}

/// Maps a publish failure to an API error. Whatever made the store fail while the event was
/// being routed or committed (unreachable, read-only, full, closed, shutting down), nothing was
/// accepted and the producer must simply try again: 503 with `Retry-After`, in every dialect
/// (SailPoint's invocation calls share this mapping). The cause goes to the log.
pub(crate) fn publish_error(e: PublishError) -> ApiError {
    const NOT_ACCEPTED: &str = "storage is unavailable; nothing was accepted, try again";
    match e {
        PublishError::Routing(RoutingError::Store(StoreError::NotFound)) => {
            ApiError::invalid("the event's routes changed while it was published; try again")
        }
        PublishError::Routing(RoutingError::Store(s)) => {
            ApiError::unavailable(NOT_ACCEPTED, Some(anyhow::Error::new(s)))
        }
        PublishError::Routing(r) => ApiError::invalid(r.to_string()),
        PublishError::Invalid(m) => ApiError::invalid(m),
        PublishError::Unavailable => ApiError::unavailable(
            "the server is shutting down; nothing was accepted, try again",
            None,
        ),
        PublishError::Store(m) => ApiError::unavailable(NOT_ACCEPTED, Some(anyhow::anyhow!(m))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::DialectKind;

    #[test]
    fn every_store_failure_of_a_publish_is_a_retryable_503_in_every_dialect() {
        let failures = || {
            vec![
                PublishError::Store("write failed: disk I/O error".into()),
                PublishError::Unavailable,
                PublishError::Routing(RoutingError::Store(StoreError::Unavailable(
                    "pool timed out".into(),
                ))),
                PublishError::Routing(RoutingError::Store(StoreError::Internal(anyhow::anyhow!(
                    "attempt to write a readonly database"
                )))),
            ]
        };
        for dialect in [
            DialectKind::Native,
            DialectKind::SailPoint,
            DialectKind::Connect,
            DialectKind::ZitadelRest,
        ] {
            for e in failures() {
                let shown = e.to_string();
                let resp = dialect.render(publish_error(e));
                assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE, "{shown}");
                assert_eq!(resp.headers()["retry-after"], "1", "{shown}");
            }
        }
    }
}
