//! `POST /v1/events`: publish a fire-and-forget event. The answer comes only after the event and
//! all its invocations are durable.

use crate::dialect::Native;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Body;
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use switchyard_delivery::{PublishError, PublishRequest, RoutingError};
use switchyard_store::queue::InvocationKind;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(publish))
}

/// An event to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishBody {
    /// Trigger id (`idn:identity-created`) or ZITADEL event type (`user.human.added`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's data: a JSON object, validated against the trigger's input schema.
    pub payload: Value,
    /// Idempotency key: publishing again with the same id returns the first answer.
    pub id: Option<String>,
}

/// Publish an event; 202 once it is durable.
#[utoipa::path(post, path = "/v1/events", tag = "native", request_body = PublishBody,
    responses((status = 202, description = "accepted: `{eventId, invocations}`"),
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

/// Maps a publish failure to an API error.
pub(crate) fn publish_error(e: PublishError) -> ApiError {
    match e {
        PublishError::Routing(RoutingError::Store(s)) => s.into(),
        PublishError::Routing(r) => ApiError::invalid(r.to_string()),
        PublishError::Invalid(m) => ApiError::invalid(m),
        PublishError::Unavailable => {
            ApiError::new(Code::Unavailable, "the server is shutting down")
        }
        PublishError::Store(m) => ApiError::internal(anyhow::anyhow!(m)),
    }
}
