//! JSON shapes shared by the v2 surfaces (Connect and REST carry the same proto messages) and
//! their conversion into core types. Request types reject unknown fields; every conversion
//! error names the field (`condition.request.method`, `pagination.limit`).

use serde::{Deserialize, Deserializer, Serialize};
use switchyard_core::zitadel::{
    Condition, Endpoint, EventSelector, ExecutionType, KeyExpiration, MethodSelector, Page,
    PayloadType, TargetConfig, TargetName, TargetPatch, TargetTimeout, TargetType, TextMatch,
    TypePatch,
};
use switchyard_core::ValidationError;
use switchyard_store::zitadel::{ExecutionFilter, TargetFilter};
use utoipa::ToSchema;

/// `{interruptOnError}` of restWebhook / restCall.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RestFlags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt_on_error: Option<bool>,
}

/// `restAsync: {}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// The target type oneof, as sent and returned.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TypeFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_webhook: Option<RestFlags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_call: Option<RestFlags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_async: Option<Empty>,
}

impl TypeFields {
    pub fn from_core(t: TargetType) -> Self {
        let flags = |i| {
            Some(RestFlags {
                interrupt_on_error: Some(i),
            })
        };
        match t {
            TargetType::Webhook { interrupt_on_error } => Self {
                rest_webhook: flags(interrupt_on_error),
                ..Self::default()
            },
            TargetType::Call { interrupt_on_error } => Self {
                rest_call: flags(interrupt_on_error),
                ..Self::default()
            },
            TargetType::Async => Self {
                rest_async: Some(Empty {}),
                ..Self::default()
            },
        }
    }
}

/// The settable fields of a target, all optional on the wire (create requires some).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"name": "audit-hook", "endpoint": "https://hooks.example.com/zitadel",
    "timeout": "10s", "restWebhook": {"interruptOnError": false}}))]
pub struct TargetFields {
    pub name: Option<String>,
    pub endpoint: Option<String>,
    pub timeout: Option<String>,
    pub payload_type: Option<String>,
    pub rest_webhook: Option<RestFlags>,
    pub rest_call: Option<RestFlags>,
    pub rest_async: Option<Empty>,
}

/// An update: the target fields plus the id (Connect) and the key rotation request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateFields {
    pub id: Option<String>,
    pub name: Option<String>,
    pub endpoint: Option<String>,
    pub timeout: Option<String>,
    pub payload_type: Option<String>,
    pub rest_webhook: Option<RestFlags>,
    pub rest_call: Option<RestFlags>,
    pub rest_async: Option<Empty>,
    pub expiration_signing_key: Option<String>,
}

impl UpdateFields {
    pub fn fields(&self) -> TargetFields {
        TargetFields {
            name: self.name.clone(),
            endpoint: self.endpoint.clone(),
            timeout: self.timeout.clone(),
            payload_type: self.payload_type.clone(),
            rest_webhook: self.rest_webhook.clone(),
            rest_call: self.rest_call.clone(),
            rest_async: self.rest_async.clone(),
        }
    }
}

fn required<'a>(field: &str, v: &'a Option<String>) -> Result<&'a str, ValidationError> {
    v.as_deref()
        .ok_or_else(|| ValidationError::new(field, "is required"))
}

impl TargetFields {
    fn type_patch(&self) -> Result<Option<TypePatch>, ValidationError> {
        TypePatch::from_oneof(
            self.rest_webhook.as_ref().map(|f| f.interrupt_on_error),
            self.rest_call.as_ref().map(|f| f.interrupt_on_error),
            self.rest_async.is_some(),
        )
    }

    /// A complete configuration; name, endpoint, timeout and the type are required. The
    /// endpoint may have at most `max_endpoint` characters (the surface's limit).
    pub fn to_config(&self, max_endpoint: usize) -> Result<TargetConfig, ValidationError> {
        let name = TargetName::parse(required("name", &self.name)?)?;
        let endpoint =
            Endpoint::parse_at_most(required("endpoint", &self.endpoint)?, max_endpoint)?;
        let timeout = TargetTimeout::parse(required("timeout", &self.timeout)?)?;
        let target_type = match self.type_patch()? {
            Some(p) => p.apply(None),
            None => TargetType::from_oneof(None, None, false)?,
        };
        let payload_type = self
            .payload_type
            .as_deref()
            .map(PayloadType::parse)
            .transpose()?
            .unwrap_or_default();
        Ok(TargetConfig {
            name,
            endpoint,
            timeout,
            target_type,
            payload_type,
        })
    }

    /// An update: absent fields stay unchanged.
    pub fn to_patch(&self, max_endpoint: usize) -> Result<TargetPatch, ValidationError> {
        Ok(TargetPatch {
            name: self.name.as_deref().map(TargetName::parse).transpose()?,
            endpoint: self
                .endpoint
                .as_deref()
                .map(|e| Endpoint::parse_at_most(e, max_endpoint))
                .transpose()?,
            timeout: self
                .timeout
                .as_deref()
                .map(TargetTimeout::parse)
                .transpose()?,
            target_type: self.type_patch()?,
            payload_type: self
                .payload_type
                .as_deref()
                .map(PayloadType::parse)
                .transpose()?,
        })
    }
}

/// Parses `expirationSigningKey` when present.
pub fn key_expiration(v: &Option<String>) -> Result<Option<KeyExpiration>, ValidationError> {
    v.as_deref().map(KeyExpiration::parse).transpose()
}

/// `{method | service | all}` of request/response conditions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MethodJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
}

/// `{name}` of function conditions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionJson {
    #[serde(default)]
    pub name: String,
}

/// `{event | group | all}` of event conditions.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
}

/// An execution condition: exactly one of request, response, function, event.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<MethodJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<MethodJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<EventJson>,
}

impl ConditionJson {
    /// The core condition; errors are reported under `field` (e.g. `condition`).
    pub fn to_core(&self, field: &str) -> Result<Condition, ValidationError> {
        let set = [
            self.request.is_some(),
            self.response.is_some(),
            self.function.is_some(),
            self.event.is_some(),
        ];
        if set.iter().filter(|b| **b).count() != 1 {
            return Err(ValidationError::new(
                field,
                "exactly one of request, response, function or event must be set",
            ));
        }
        let method = |m: &MethodJson, kind: &str| {
            MethodSelector::from_oneof(m.method.as_deref(), m.service.as_deref(), m.all)
                .map_err(|e| e.within(&format!("{field}.{kind}")))
        };
        if let Some(m) = &self.request {
            return method(m, "request").map(Condition::Request);
        }
        if let Some(m) = &self.response {
            return method(m, "response").map(Condition::Response);
        }
        if let Some(f) = &self.function {
            return Condition::function(&f.name)
                .map_err(|e| e.within(&format!("{field}.function")));
        }
        let e = self.event.as_ref().unwrap_or(&EventJson {
            event: None,
            group: None,
            all: None,
        });
        EventSelector::from_oneof(e.event.as_deref(), e.group.as_deref(), e.all)
            .map(Condition::Event)
            .map_err(|err| err.within(&format!("{field}.event")))
    }

    pub fn from_core(c: &Condition) -> Self {
        let method = |s: &MethodSelector| match s {
            MethodSelector::Method(m) => MethodJson {
                method: Some(m.clone()),
                ..Default::default()
            },
            MethodSelector::Service(v) => MethodJson {
                service: Some(v.clone()),
                ..Default::default()
            },
            MethodSelector::All => MethodJson {
                all: Some(true),
                ..Default::default()
            },
        };
        match c {
            Condition::Request(s) => Self {
                request: Some(method(s)),
                ..Default::default()
            },
            Condition::Response(s) => Self {
                response: Some(method(s)),
                ..Default::default()
            },
            Condition::Function(n) => Self {
                function: Some(FunctionJson { name: n.clone() }),
                ..Default::default()
            },
            Condition::Event(e) => Self {
                event: Some(match e {
                    EventSelector::Event(v) => EventJson {
                        event: Some(v.clone()),
                        ..Default::default()
                    },
                    EventSelector::Group(v) => EventJson {
                        group: Some(v.clone()),
                        ..Default::default()
                    },
                    EventSelector::All => EventJson {
                        all: Some(true),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            },
        }
    }
}

/// A uint64 in proto3 JSON: a string of digits or a number.
pub fn de_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        N(u64),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::N(n)) => Ok(Some(n)),
        Some(N::S(s)) => s
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("'{s}' is not an unsigned integer"))),
    }
}

/// The schema of a proto3 JSON uint64: a string of digits or a number (or `null`).
fn uint64_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
    Schema::OneOf(
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]{1,20}$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0)),
            )
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .build(),
    )
}

/// `{offset, limit, asc}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginationJson {
    #[serde(default, deserialize_with = "de_u64")]
    #[schema(schema_with = uint64_schema)]
    pub offset: Option<u64>,
    #[serde(default, deserialize_with = "de_u64")]
    #[schema(schema_with = uint64_schema)]
    pub limit: Option<u64>,
    #[serde(default)]
    pub asc: Option<bool>,
}

impl PaginationJson {
    pub fn to_page(&self) -> Result<Page, ValidationError> {
        Page::new(self.offset, self.limit, self.asc)
    }
}

/// `{totalResult, appliedLimit}` (uint64 as strings, as proto3 JSON writes them).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaginationResponse {
    pub total_result: String,
    pub applied_limit: String,
}

/// `{targetName, method}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetNameFilterJson {
    #[serde(default)]
    pub target_name: String,
    pub method: Option<String>,
}

/// `{targetIds}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetIdsFilterJson {
    #[serde(default)]
    pub target_ids: Vec<String>,
}

/// One target filter (oneof).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetSearchFilterJson {
    pub target_name_filter: Option<TargetNameFilterJson>,
    pub in_target_ids_filter: Option<TargetIdsFilterJson>,
}

impl TargetSearchFilterJson {
    pub fn to_store(&self, i: usize) -> Result<TargetFilter, ValidationError> {
        match (&self.target_name_filter, &self.in_target_ids_filter) {
            (Some(n), None) => TextMatch::parse(n.method.as_deref(), &n.target_name)
                .map(TargetFilter::Name)
                .map_err(|e| e.within(&format!("filters[{i}].targetNameFilter"))),
            (None, Some(ids)) => Ok(TargetFilter::Ids(ids.target_ids.clone())),
            _ => Err(ValidationError::new(
                format!("filters[{i}]"),
                "exactly one of targetNameFilter or inTargetIdsFilter must be set",
            )),
        }
    }
}

/// `{executionType}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecutionTypeFilterJson {
    #[serde(default)]
    pub execution_type: String,
}

/// `{conditions}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InConditionsFilterJson {
    #[serde(default)]
    pub conditions: Vec<ConditionJson>,
}

/// `{targetId}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TargetIdFilterJson {
    #[serde(default)]
    pub target_id: String,
}

/// `{include}` (v3alpha).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncludeFilterJson {
    #[serde(default)]
    pub include: ConditionJson,
}

/// One execution filter (oneof). `includeFilter` exists on v3alpha only but is harmless on v2.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecutionSearchFilterJson {
    pub execution_type_filter: Option<ExecutionTypeFilterJson>,
    pub in_conditions_filter: Option<InConditionsFilterJson>,
    pub target_filter: Option<TargetIdFilterJson>,
    pub include_filter: Option<IncludeFilterJson>,
}

impl ExecutionSearchFilterJson {
    /// `None` for a filter that matches everything (`EXECUTION_TYPE_UNSPECIFIED`).
    pub fn to_store(&self, i: usize) -> Result<Option<ExecutionFilter>, ValidationError> {
        let at = format!("filters[{i}]");
        let n = [
            self.execution_type_filter.is_some(),
            self.in_conditions_filter.is_some(),
            self.target_filter.is_some(),
            self.include_filter.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if n != 1 {
            return Err(ValidationError::new(
                at,
                "exactly one of executionTypeFilter, inConditionsFilter, targetFilter or includeFilter must be set",
            ));
        }
        if let Some(t) = &self.execution_type_filter {
            return ExecutionType::parse(&t.execution_type)
                .map(|t| t.map(ExecutionFilter::Type))
                .map_err(|e| e.within(&at));
        }
        if let Some(c) = &self.in_conditions_filter {
            let conds = c
                .conditions
                .iter()
                .enumerate()
                .map(|(j, c)| c.to_core(&format!("{at}.inConditionsFilter.conditions[{j}]")))
                .collect::<Result<_, _>>()?;
            return Ok(Some(ExecutionFilter::Conditions(conds)));
        }
        if let Some(t) = &self.target_filter {
            return Ok(Some(ExecutionFilter::Target(t.target_id.clone())));
        }
        let inc = self
            .include_filter
            .as_ref()
            .map(|f| f.include.clone())
            .unwrap_or_default();
        inc.to_core(&format!("{at}.includeFilter.include"))
            .map(|c| Some(ExecutionFilter::Include(c)))
    }
}
