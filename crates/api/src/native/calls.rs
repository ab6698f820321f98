//! `POST /v1/calls`: run the best-matching ZITADEL request, response or function execution as a
//! synchronous chain and answer with the final payload (or the error a target forwarded); and
//! `GET /v1/calls/{id}`: the record of a call, every target call with its outcome. The id comes
//! back in the `switchyard-call-id` header of every `/v1/calls` answer.

use super::wire::{CallAnswer, CallOut};
use crate::dialect::DialectKind;
use crate::dialect::{Dialect, Native};
use crate::error::{ApiError, ApiResult, Code};
use crate::extract::Body;
use crate::routes::{Routes, Rule};
use crate::state::AppState;
use crate::tenant::Tenant;
use crate::zitadel::wire::ConditionJson;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use switchyard_core::auth::Scope;
use switchyard_core::zitadel::Condition;
use switchyard_core::ValidationError;
use switchyard_delivery::calls::{CallContext, CallError, CallRequest};
use switchyard_store::StoreError;
use utoipa::ToSchema;
use utoipa_axum::routes;

/// The header carrying the id of a call's record.
pub const CALL_ID_HEADER: &str = "switchyard-call-id";

pub fn routes() -> Routes {
    Routes::new(DialectKind::Native, "native")
        .add(
            Rule::scope(Scope::InvocationsStart).producer(),
            routes!(call),
        )
        .add(
            Rule::scope(Scope::InvocationsRead).producer(),
            routes!(get_call),
        )
}

/// A call to run.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// A request, response or function condition in ZITADEL's JSON
    /// (`{"request": {"method": "/zitadel.user.v2.UserService/AddHumanUser"}}`).
    pub condition: ConditionJson,
    /// The request (request conditions), the response (response conditions) or the function
    /// input (`{function, userinfo, user, ...}`); a JSON object.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// What targets are told about the original call.
    #[serde(default)]
    pub context: Option<ContextJson>,
}

/// Optional context of the guarded call, passed to request/response targets.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextJson {
    /// Defaults to the condition's method.
    #[serde(rename = "fullMethod")]
    pub full_method: Option<String>,
    #[serde(rename = "orgID")]
    pub org_id: Option<String>,
    #[serde(rename = "projectID")]
    pub project_id: Option<String>,
    #[serde(rename = "userID")]
    pub user_id: Option<String>,
    /// The original call's headers, an object (`{"x-forwarded-for": ["1.2.3.4"]}`).
    #[schema(value_type = Option<Object>)]
    pub headers: Option<Value>,
    /// Response conditions: the request that produced the response.
    pub request: Option<Value>,
}

impl CallBody {
    fn parse(self, state: &AppState) -> Result<(Condition, Value, CallContext), ValidationError> {
        state.check_payload("payload", &self.payload)?;
        if let Some(ctx) = &self.context {
            for (field, v) in [
                ("context.headers", &ctx.headers),
                ("context.request", &ctx.request),
            ] {
                if let Some(v) = v {
                    state.check_payload(field, v)?;
                }
            }
        }
        let condition = self.condition.to_core("condition")?;
        if matches!(condition, Condition::Event(_)) {
            return Err(ValidationError::new(
                "condition.event",
                "event conditions are not called synchronously; publish the event with POST /v1/events",
            ));
        }
        if !self.payload.is_object() {
            return Err(ValidationError::new("payload", "must be a JSON object"));
        }
        let ctx = self.context.unwrap_or_default();
        if ctx.headers.as_ref().is_some_and(|h| !h.is_object()) {
            return Err(ValidationError::new(
                "context.headers",
                "must be a JSON object",
            ));
        }
        let context = CallContext {
            full_method: ctx.full_method,
            org_id: ctx.org_id.unwrap_or_default(),
            project_id: ctx.project_id.unwrap_or_default(),
            user_id: ctx.user_id.unwrap_or_default(),
            headers: ctx.headers,
            request: ctx.request,
        };
        Ok((condition, self.payload, context))
    }
}

/// Run a call chain; 200 `{payload}` with the final payload, or the failing target's error.
#[utoipa::path(post, path = "/v1/calls", tag = "native", request_body = CallBody,
    responses((status = 200, description = "the payload after every restCall target; header `switchyard-call-id`", body = CallAnswer),
              (status = 400, description = "invalid condition or payload, or a target forwarded 400"),
              (status = "4XX", description = "a target forwarded this status (`forwardedStatusCode`)"),
              (status = 502, description = "an interruptOnError target failed"),
              (status = 503, description = "an interruptOnError target's circuit is open"),
              (status = 504, description = "an interruptOnError target timed out")))]
async fn call(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    body: Body<CallBody, Native>,
) -> Response {
    let (condition, payload, context) = match body.into_inner().parse(&state) {
        Ok(p) => p,
        Err(e) => return Native::render(e.into()),
    };
    let result = state
        .calls
        .call(CallRequest {
            instance: tenant.instance,
            condition,
            payload,
            context,
        })
        .await;
    let mut resp = match result.outcome {
        Ok(payload) => (StatusCode::OK, Json(CallAnswer { payload })).into_response(),
        Err(e) => Native::render(call_error(e)),
    };
    if let Ok(v) = HeaderValue::from_str(&result.call_id) {
        resp.headers_mut().insert(CALL_ID_HEADER, v);
    }
    resp
}

/// A failed call in the native error shape, with the status the chain decided.
fn call_error(e: CallError) -> ApiError {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_GATEWAY);
    if let CallError::Store(s) = e {
        // The chain could not be read or recorded: transient for the caller, like a publish.
        return match s {
            StoreError::NotFound => ApiError::not_found("no such execution"),
            other => ApiError::unavailable(
                "storage is unavailable; try again",
                Some(anyhow::Error::new(other)),
            ),
        };
    }
    let code = match &e {
        CallError::Store(_) => Code::Internal,
        CallError::Forwarded { status, .. } => match status {
            401 => Code::Unauthenticated,
            403 => Code::PermissionDenied,
            404 => Code::NotFound,
            409 => Code::AlreadyExists,
            412 => Code::FailedPrecondition,
            429 => Code::ResourceExhausted,
            _ => Code::InvalidArgument,
        },
        CallError::TargetFailed {
            timed_out: true, ..
        } => Code::DeadlineExceeded,
        CallError::TargetFailed { .. } | CallError::CircuitOpen { .. } => Code::Unavailable,
    };
    ApiError::new(code, e.to_string()).with_status(status)
}

/// The record of a call: condition, outcome and every target call.
#[utoipa::path(get, path = "/v1/calls/{id}", tag = "native",
    params(("id" = String, Path, description = "call id (the `switchyard-call-id` header)")),
    responses((status = 200, description = "the call and every target call", body = CallOut),
              (status = 404, description = "no such call (records are written within milliseconds of the answer)")))]
async fn get_call(
    State(state): State<AppState>,
    tenant: Tenant<Native>,
    Path(id): Path<String>,
) -> ApiResult<Json<CallOut>, Native> {
    let record = state
        .store
        .call_record(&tenant.instance, &id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found(format!("call '{id}' not found")),
            other => other.into(),
        })?;
    let key = record.condition.clone();
    let out = CallOut::from_record(record).ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("stored call condition '{key}' is unknown"))
    })?;
    Ok(Json(out))
}
