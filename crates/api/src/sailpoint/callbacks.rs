//! Request-response invocations in SailPoint's shape: starting one
//! (`POST /trigger-invocations/v1/start`) and the subscriber's callback
//! (`POST /trigger-invocations/v1/{id}/complete`), also under `/beta/trigger-invocations`.
//! The callback path is public: the invocation secret (stored only hashed, compared in constant
//! time) is its authentication, so the invocation is found by its id alone, whatever instance the
//! caller names. Completion is one compare-and-set in the store, so a second callback, a late
//! one, or one racing the deadline sweep can never complete an invocation twice.

use super::catalog;
use crate::dialect::DialectKind;
use crate::dialect::SailPoint;
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Body;
use crate::native::events::publish_error;
use crate::native::start::invocation_ids;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::auth::Scope;
use switchyard_core::crypto::verify_secret;
use switchyard_core::ValidationError;
use switchyard_delivery::PublishRequest;
use switchyard_store::queue::{CompleteResult, InvocationKind, InvocationStatus, TIMED_OUT};
use switchyard_store::StoreError;
use utoipa::ToSchema;
use utoipa_axum::routes;

pub fn routes() -> Routes {
    let starts = Rule::scope(Scope::InvocationsStart);
    // The callback carries no token: the invocation secret authenticates it.
    Routes::new(DialectKind::SailPoint, "sailpoint")
        .add(starts, routes!(start))
        .add(starts, routes!(start_beta))
        .add(Rule::public(), routes!(complete))
        .add(Rule::public(), routes!(complete_beta))
}

/// SailPoint's StartInvocationInput.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartInvocation {
    /// A REQUEST_RESPONSE trigger id.
    trigger_id: String,
    /// The trigger input, validated against its input schema.
    #[schema(value_type = Object)]
    input: Value,
    /// Metadata handed back with the invocation (a JSON object).
    #[schema(value_type = Option<Object>)]
    content_json: Option<Value>,
}

async fn start_impl(
    tenant: Tenant<SailPoint>,
    state: AppState,
    body: StartInvocation,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    state.check_payload("input", &body.input)?;
    if let Some(c) = &body.content_json {
        state.check_payload("contentJson", c)?;
    }
    let content_json = match body.content_json {
        Some(v @ Value::Object(_)) => v,
        None => json!({}),
        Some(_) => return Err(ValidationError::new("contentJson", "must be a JSON object").into()),
    };
    let published = state
        .engine
        .publish(PublishRequest {
            instance: tenant.instance,
            id: None,
            event_type: body.trigger_id.clone(),
            payload: body.input,
            kind: InvocationKind::RealTime,
            only_subscriptions: None,
            include_disabled: false,
            content_json: Some(content_json.clone()),
            with_secrets: true,
            expect_request_response: Some(true),
        })
        .await
        .map_err(publish_error)?;
    debug_assert_eq!(invocation_ids(&published).len(), published.secrets.len());
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

/// Start a request-response trigger: one invocation per matching subscription.
#[utoipa::path(post, path = "/trigger-invocations/v1/start", tag = "SailPoint Trigger Invocations",
    request_body = StartInvocation,
    responses((status = 200, description = "one Invocation per matching subscription", body = Vec<super::schema::Invocation>),
              (status = 400, description = "unknown or fire-and-forget trigger, or invalid input")))]
pub async fn start(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<StartInvocation, SailPoint>,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    start_impl(tenant, state, body.into_inner()).await
}

/// Start a request-response trigger (beta path).
#[utoipa::path(post, path = "/beta/trigger-invocations/start", tag = "SailPoint Trigger Invocations",
    request_body = StartInvocation,
    responses((status = 200, description = "one Invocation per matching subscription", body = Vec<super::schema::Invocation>)))]
pub async fn start_beta(
    tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    body: Body<StartInvocation, SailPoint>,
) -> ApiResult<Json<Vec<Value>>, SailPoint> {
    start_impl(tenant, state, body.into_inner()).await
}

/// SailPoint's CompleteInvocation. `output` may be left out when `error` reports a failure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInvocation {
    /// The invocation's secret, as delivered.
    secret: String,
    /// The output, validated against the trigger's output schema.
    #[schema(value_type = Option<Object>)]
    output: Option<Value>,
    /// Fails the invocation with this message instead.
    error: Option<String>,
}

fn gone(id: &str) -> ApiError {
    ApiError::not_found(format!(
        "invocation '{id}' not found, already timed out, or not awaiting a response"
    ))
}

async fn complete_impl(
    state: AppState,
    id: String,
    body: CompleteInvocation,
) -> ApiResult<StatusCode, SailPoint> {
    if let Some(output) = &body.output {
        state.check_payload("output", output)?;
    }
    let now = state.clock.now();
    let target = match state.store.callback_target(&id).await {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Err(gone(&id).into()),
        Err(e) => return Err(ApiError::from(e).into()),
    };
    // Only request-response invocations (they have a deadline and a secret) take a completion.
    let (Some(deadline), Some(hash)) = (target.deadline_at, target.secret_hash.as_deref()) else {
        return Err(gone(&id).into());
    };
    if !verify_secret(&body.secret, hash) {
        return Err(ApiError::new(Code::Unauthenticated, "invalid invocation secret").into());
    }
    // The sweeper times invocations out at their deadline, so past it the invocation is gone
    // whether or not the sweep has run yet.
    if now >= deadline {
        return Err(gone(&id).into());
    }
    let already = |status: InvocationStatus| {
        ApiError::new(
            Code::Aborted,
            format!("invocation '{id}' has already ended (status {status})"),
        )
    };
    if target.status.is_final() {
        return Err(already(target.status).into());
    }
    let (output, error) = match (body.output, body.error) {
        (_, Some(e)) if e.trim().is_empty() => {
            return Err(ValidationError::new("error", "must not be empty").into())
        }
        (output, Some(e)) => (output.map(|o| o.to_string()), Some(e)),
        (None, None) => return Err(ValidationError::new("output", "is required").into()),
        (Some(output), None) => {
            let cat = catalog(&state, &target.instance).await?;
            let trigger = cat.get(&target.trigger_id).ok_or_else(|| {
                ApiError::invalid(format!(
                    "trigger '{}' of this invocation no longer exists",
                    target.trigger_id
                ))
            })?;
            trigger.validate_output(&output).map_err(|errors| {
                ApiError::invalid(format!(
                    "output does not match the output schema of '{}': {}",
                    target.trigger_id,
                    errors.join("; ")
                ))
            })?;
            (Some(output.to_string()), None)
        }
    };
    match state
        .store
        .complete(&id, output.as_deref(), error.as_deref(), now)
        .await?
    {
        CompleteResult::Done => {
            state.engine.ended(std::slice::from_ref(&id));
            Ok(StatusCode::NO_CONTENT)
        }
        // Lost a race with another callback or the deadline sweep.
        CompleteResult::AlreadyEnded => match state.store.callback_target(&id).await {
            Ok(t)
                if t.last_error.as_deref() == Some(TIMED_OUT) || state.clock.now() >= deadline =>
            {
                Err(gone(&id).into())
            }
            Ok(t) => Err(already(t.status).into()),
            Err(_) => Err(gone(&id).into()),
        },
    }
}

/// Complete a request-response invocation with its output (or an error). Authenticated by the
/// invocation secret, not a token.
#[utoipa::path(post, path = "/trigger-invocations/v1/{id}/complete", tag = "SailPoint Trigger Invocations",
    params(("id" = String, Path, description = "invocation id")),
    request_body = CompleteInvocation,
    responses((status = 204, description = "completed"),
              (status = 400, description = "output does not match the trigger's output schema"),
              (status = 401, description = "wrong secret"),
              (status = 404, description = "unknown invocation or deadline passed"),
              (status = 409, description = "already completed"),
              (status = 503, description = "storage unavailable; retry")))]
pub async fn complete(
    // The callback carries no token; the tenant is resolved only to keep every handler uniform,
    // the invocation is found by its (globally unique) id and authenticated by its secret.
    _tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body<CompleteInvocation, SailPoint>,
) -> ApiResult<StatusCode, SailPoint> {
    complete_impl(state, id, body.into_inner()).await
}

/// Complete a request-response invocation (beta path).
#[utoipa::path(post, path = "/beta/trigger-invocations/{id}/complete", tag = "SailPoint Trigger Invocations",
    params(("id" = String, Path, description = "invocation id")),
    request_body = CompleteInvocation,
    responses((status = 204, description = "completed"),
              (status = 400, description = "output does not match the trigger's output schema"),
              (status = 401, description = "wrong secret"),
              (status = 404, description = "unknown invocation or deadline passed"),
              (status = 409, description = "already completed"),
              (status = 503, description = "storage unavailable; retry")))]
pub async fn complete_beta(
    _tenant: Tenant<SailPoint>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Body<CompleteInvocation, SailPoint>,
) -> ApiResult<StatusCode, SailPoint> {
    complete_impl(state, id, body.into_inner()).await
}
