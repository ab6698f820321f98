//! `POST /v1/invocations`: start a request-response trigger. One invocation per matching
//! subscription is made durable, delivered by the engine, and completed by the subscriber's
//! answer (SYNC) or callback (ASYNC); with `wait` the call blocks (bounded) until every invocation
//! ended and answers with their outputs.

use super::wire::{OutcomeOut, StartedOut};
use crate::dialect::DialectKind;
use crate::dialect::Native;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::native::events::publish_error;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::auth::Scope;
use switchyard_core::wait::InvocationWait;
use switchyard_core::ValidationError;
use switchyard_delivery::{PublishRequest, Published};
use switchyard_store::queue::{InvocationKind, InvocationOutcome};
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native").add(
        Rule::scope(Scope::InvocationsStart).producer(),
        routes!(start),
    )
}

/// A request to start a request-response trigger.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartBody {
    /// A REQUEST_RESPONSE trigger id.
    pub trigger_id: String,
    /// The trigger input, validated against its input schema.
    #[schema(value_type = Object)]
    pub input: Value,
    /// Metadata kept with the invocation (SailPoint's `contentJson`).
    #[schema(value_type = Option<Object>)]
    pub content_json: Option<Value>,
    /// ISO-8601 duration (at most PT60S) to wait for the outputs.
    pub wait: Option<String>,
}

/// The ids of a publish's invocations, in fan-out order.
pub(crate) fn invocation_ids(published: &Published) -> Vec<String> {
    published.response["invocations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect()
}

fn outcome_wire(o: InvocationOutcome) -> OutcomeOut {
    OutcomeOut {
        output: o
            .output
            .as_deref()
            .and_then(|t| serde_json::from_str(t).ok()),
        id: o.id,
        subscription_id: o.route_id,
        status: o.status.to_string(),
        error: o.error,
    }
}

/// Start a request-response trigger; with `wait`, block until its invocations end.
#[utoipa::path(post, path = "/v1/invocations", tag = "native", request_body = StartBody,
    responses((status = 200, description = "every invocation's current result", body = StartedOut),
              (status = 400, description = "unknown or fire-and-forget trigger, invalid input or wait")))]
async fn start(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    body: Body<StartBody, Native>,
) -> ApiResult<Json<StartedOut>, Native> {
    let body = body.into_inner();
    state.check_payload("input", &body.input)?;
    if let Some(c) = &body.content_json {
        state.check_payload("contentJson", c)?;
    }
    let wait = body
        .wait
        .as_deref()
        .map(InvocationWait::parse)
        .transpose()?;
    let content_json = match body.content_json {
        None | Some(Value::Object(_)) => body.content_json,
        Some(_) => return Err(ValidationError::new("contentJson", "must be a JSON object").into()),
    };
    let published = state
        .engine
        .publish(PublishRequest {
            instance: tenant.instance.clone(),
            id: None,
            event_type: body.trigger_id,
            payload: body.input,
            kind: InvocationKind::RealTime,
            only_subscriptions: None,
            include_disabled: false,
            content_json,
            with_secrets: false,
            expect_request_response: Some(true),
        })
        .await
        .map_err(publish_error)?;
    let ids = invocation_ids(&published);
    let outcomes = match wait {
        Some(w) => state
            .engine
            .wait_for(&tenant.instance, &ids, w.duration())
            .await
            .map_err(ApiError::from)?,
        None => {
            state
                .store
                .invocation_outcomes(&tenant.instance, &ids)
                .await?
        }
    };
    Ok(Json(StartedOut {
        invocations: outcomes.into_iter().map(outcome_wire).collect(),
    }))
}
