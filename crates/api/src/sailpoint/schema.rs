//! OpenAPI schemas of the SailPoint wire shapes. The bodies themselves are built by
//! `switchyard_core::sailpoint` (`Subscription::to_wire`, `Trigger::to_wire`) and the handlers;
//! these types describe them for the document, field for field, and are checked against real
//! answers by the schemathesis run in CI.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Basic credentials; the password is never returned (`null`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BasicAuthConfig {
    pub user_name: String,
    pub password: Option<String>,
}

/// Bearer credentials; the token is never returned (`null`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BearerTokenAuthConfig {
    pub bearer_token: Option<String>,
}

/// Where and how an HTTP subscription is called.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HttpConfig {
    pub url: String,
    /// `SYNC`, `ASYNC` or `DYNAMIC`.
    pub http_dispatch_mode: String,
    /// `NO_AUTH`, `BASIC_AUTH` or `BEARER_TOKEN`.
    pub http_authentication_type: String,
    pub basic_auth_config: Option<BasicAuthConfig>,
    pub bearer_token_auth_config: Option<BearerTokenAuthConfig>,
}

/// The AWS EventBridge partner event source of a subscription.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventBridgeConfig {
    pub aws_account: String,
    pub aws_region: String,
}

/// A trigger subscription (secrets are `null`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub trigger_id: String,
    pub trigger_name: String,
    /// `HTTP` or `EVENTBRIDGE`.
    #[serde(rename = "type")]
    pub kind: String,
    /// ISO-8601 duration.
    pub response_deadline: String,
    pub http_config: Option<HttpConfig>,
    pub event_bridge_config: Option<EventBridgeConfig>,
    pub enabled: bool,
    pub filter: Option<String>,
}

/// A trigger of the catalog, schemas as JSON text (as SailPoint returns them).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub id: String,
    pub name: String,
    /// `FIRE_AND_FORGET` or `REQUEST_RESPONSE`.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    pub input_schema: String,
    #[schema(value_type = Object)]
    pub example_input: Value,
    pub output_schema: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub example_output: Option<Value>,
}

/// A started (or test) invocation, with the secret its callback must present.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub id: String,
    pub trigger_id: String,
    pub secret: String,
    #[schema(value_type = Object)]
    pub content_json: Value,
}

/// The answer of `validate-filter`.
#[derive(Serialize, ToSchema)]
pub struct ValidateFilterResponse {
    #[serde(rename = "isValid")]
    pub is_valid: bool,
    #[serde(rename = "isValidJSONPath")]
    pub is_valid_json_path: bool,
    #[serde(rename = "isPathExist")]
    pub is_path_exist: bool,
}

/// What started an invocation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartInvocationInput {
    pub trigger_id: String,
    #[schema(value_type = Object)]
    pub input: Value,
    #[schema(value_type = Object)]
    pub content_json: Value,
}

/// An invocation's status record.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvocationStatus {
    pub id: String,
    pub trigger_id: String,
    pub subscription_name: String,
    pub subscription_id: String,
    /// `REAL_TIME` or `TEST`.
    #[serde(rename = "type")]
    pub kind: String,
    pub created: String,
    pub completed: Option<String>,
    pub start_invocation_input: StartInvocationInput,
    /// `{output?, localizedError?}` once completed.
    #[schema(value_type = Option<Object>)]
    pub complete_invocation_input: Option<Value>,
}

/// A trigger in the native registry's shape, with whether it is built in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomTrigger {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schema(value_type = Object)]
    pub input_schema: Value,
    #[schema(value_type = Object)]
    pub example_input: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub example_output: Option<Value>,
    pub built_in: bool,
}

/// `GET /v1/triggers`.
#[derive(Serialize, ToSchema)]
pub struct CustomTriggerList {
    pub triggers: Vec<CustomTrigger>,
}

/// `basicAuthConfig` as sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicAuthRequest {
    pub user_name: Option<String>,
    pub password: Option<String>,
}

/// `bearerTokenAuthConfig` as sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BearerTokenRequest {
    pub bearer_token: Option<String>,
}

/// `httpConfig` as sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpConfigRequest {
    /// The receiver's URL (checked against outbound protection).
    pub url: Option<String>,
    /// `SYNC`, `ASYNC` or `DYNAMIC` (default `SYNC`).
    pub http_dispatch_mode: Option<String>,
    /// `NO_AUTH` (default), `BASIC_AUTH` or `BEARER_TOKEN`.
    pub http_authentication_type: Option<String>,
    pub basic_auth_config: Option<BasicAuthRequest>,
    pub bearer_token_auth_config: Option<BearerTokenRequest>,
}

/// `eventBridgeConfig` as sent.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventBridgeRequest {
    pub aws_account: Option<String>,
    pub aws_region: Option<String>,
}

/// A subscription as a client sends it (POST, PUT): every field may be left out so validation
/// can name what is missing; `id`, `triggerId` and `triggerName` may echo what was read.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"name": "new identities", "triggerId": "idn:identity-created",
    "type": "HTTP", "enabled": true,
    "httpConfig": {"url": "https://hooks.example.com/sailpoint", "httpDispatchMode": "SYNC"}}))]
pub struct SubscriptionRequest {
    pub id: Option<String>,
    /// Required on create: a trigger of the catalog.
    pub trigger_id: Option<String>,
    pub trigger_name: Option<String>,
    /// Required.
    pub name: Option<String>,
    pub description: Option<String>,
    /// `HTTP` (default) or `EVENTBRIDGE`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// ISO-8601 duration (request-response triggers).
    pub response_deadline: Option<String>,
    pub http_config: Option<HttpConfigRequest>,
    pub event_bridge_config: Option<EventBridgeRequest>,
    pub enabled: Option<bool>,
    /// A JSONPath filter the trigger's input must match.
    pub filter: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub workflow_config: Option<Value>,
}

/// One RFC 6902 operation.
#[derive(Serialize, ToSchema)]
pub struct JsonPatchOperation {
    /// `add`, `remove`, `replace`, `move`, `copy` or `test`.
    pub op: String,
    /// A JSON Pointer into a patchable field.
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A custom trigger to register.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"id": "acme:order-created", "name": "Order created",
    "type": "FIRE_AND_FORGET",
    "inputSchema": {"type": "object", "required": ["orderId"],
                    "properties": {"orderId": {"type": "string"}}},
    "exampleInput": {"orderId": "o-1"}}))]
pub struct TriggerDefinitionRequest {
    pub id: String,
    pub name: String,
    /// `FIRE_AND_FORGET` or `REQUEST_RESPONSE`.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: Option<String>,
    /// A JSON Schema the input must satisfy.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    #[schema(value_type = Object)]
    pub example_input: Value,
    #[schema(value_type = Option<Object>)]
    pub output_schema: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub example_output: Option<Value>,
}
