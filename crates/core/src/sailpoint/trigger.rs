//! Triggers: what an event looks like (input JSON Schema + example) and, for request-response
//! triggers, what a subscriber must answer (output schema + example). Schemas are compiled once
//! when a trigger is built so the delivery engine can validate payloads cheaply, and a custom
//! trigger is only accepted when its schemas are valid JSON Schema and its examples satisfy them.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// Whether subscribers only receive events or must answer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriggerType {
    FireAndForget,
    RequestResponse,
}

impl TriggerType {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "FIRE_AND_FORGET" => Ok(Self::FireAndForget),
            "REQUEST_RESPONSE" => Ok(Self::RequestResponse),
            _ => Err(ValidationError::new(
                "type",
                format!("'{s}' must be FIRE_AND_FORGET or REQUEST_RESPONSE"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FireAndForget => "FIRE_AND_FORGET",
            Self::RequestResponse => "REQUEST_RESPONSE",
        }
    }

    /// Upstream's limit of subscriptions per trigger and instance.
    pub fn max_subscriptions(self) -> u32 {
        match self {
            Self::FireAndForget => 50,
            Self::RequestResponse => 1,
        }
    }
}

/// A trigger's stored definition (built-in JSON files and custom triggers share it). Schemas are
/// JSON values; on SailPoint's wire they are sent stringified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TriggerDefinition {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: TriggerType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: Value,
    pub example_input: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_output: Option<Value>,
}

/// A trigger with compiled validators. Cheap to clone.
#[derive(Clone)]
pub struct Trigger {
    def: Arc<TriggerDefinition>,
    input: Arc<jsonschema::Validator>,
    output: Option<Arc<jsonschema::Validator>>,
    builtin: bool,
}

impl std::fmt::Debug for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Trigger({})", self.def.id)
    }
}

/// A schema may arrive as an object or as a string holding JSON (SailPoint's wire form).
fn unstring(field: &str, v: Value) -> Result<Value, ValidationError> {
    match v {
        Value::String(s) => serde_json::from_str(&s)
            .map_err(|e| ValidationError::new(field, format!("is a string but not JSON: {e}"))),
        other => Ok(other),
    }
}

fn compile(field: &str, schema: &Value) -> Result<jsonschema::Validator, ValidationError> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err(ValidationError::new(
            field,
            "must be a JSON Schema (an object)",
        ));
    }
    if let Err(e) = jsonschema::meta::validate(schema) {
        return Err(ValidationError::new(
            field,
            format!("is not a valid JSON Schema: {e} (at {})", e.instance_path),
        ));
    }
    jsonschema::validator_for(schema)
        .map_err(|e| ValidationError::new(field, format!("cannot be compiled: {e}")))
}

fn check(validator: &jsonschema::Validator, value: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path.to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl Trigger {
    /// Compiles and checks a definition: schemas must be valid JSON Schema, examples must
    /// validate, request-response triggers need an output schema and example, fire-and-forget
    /// triggers must not have one.
    pub fn build(mut def: TriggerDefinition, builtin: bool) -> Result<Self, ValidationError> {
        def.input_schema = unstring("inputSchema", def.input_schema)?;
        def.output_schema = def
            .output_schema
            .map(|s| unstring("outputSchema", s))
            .transpose()?;
        let input = compile("inputSchema", &def.input_schema)?;
        check(&input, &def.example_input).map_err(|e| {
            ValidationError::new(
                "exampleInput",
                format!("does not match inputSchema: {}", e.join("; ")),
            )
        })?;
        let output = match (def.kind, &def.output_schema, &def.example_output) {
            (TriggerType::RequestResponse, Some(schema), Some(example)) => {
                let v = compile("outputSchema", schema)?;
                check(&v, example).map_err(|e| {
                    ValidationError::new(
                        "exampleOutput",
                        format!("does not match outputSchema: {}", e.join("; ")),
                    )
                })?;
                Some(Arc::new(v))
            }
            (TriggerType::RequestResponse, None, _) => {
                return Err(ValidationError::new(
                    "outputSchema",
                    "is required for REQUEST_RESPONSE triggers",
                ))
            }
            (TriggerType::RequestResponse, _, None) => {
                return Err(ValidationError::new(
                    "exampleOutput",
                    "is required for REQUEST_RESPONSE triggers",
                ))
            }
            (TriggerType::FireAndForget, None, None) => None,
            (TriggerType::FireAndForget, _, _) => return Err(ValidationError::new(
                "outputSchema",
                "FIRE_AND_FORGET triggers have no output; remove outputSchema and exampleOutput",
            )),
        };
        Ok(Self {
            def: Arc::new(def),
            input: Arc::new(input),
            output,
            builtin,
        })
    }

    /// Validates a custom trigger submitted by an instance: the id format and the reserved
    /// `idn:` namespace on top of [`Trigger::build`].
    pub fn custom(def: TriggerDefinition) -> Result<Self, ValidationError> {
        let id = def.id.as_str();
        let ok_chars = id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b":._-".contains(&b));
        if id.is_empty() || id.len() > 100 || !ok_chars || !id.as_bytes()[0].is_ascii_alphanumeric()
        {
            return Err(ValidationError::new(
                "id",
                "must be 1 to 100 characters of lowercase letters, digits, ':', '.', '_' or '-', starting with a letter or digit (e.g. \"acme:order-created\")",
            ));
        }
        if id.starts_with("idn:") {
            return Err(ValidationError::new(
                "id",
                "the 'idn:' namespace is reserved for built-in triggers",
            ));
        }
        if crate::operator::is_operator_event(id) {
            return Err(ValidationError::new(
                "id",
                "the 'switchyard:' namespace is reserved for Switchyard's own events",
            ));
        }
        crate::text::check_name("name", &def.name, 255)?;
        if let Some(d) = &def.description {
            crate::text::check_description("description", d, 2000)?;
        }
        Self::build(def, false)
    }

    pub fn id(&self) -> &str {
        &self.def.id
    }

    pub fn name(&self) -> &str {
        &self.def.name
    }

    pub fn kind(&self) -> TriggerType {
        self.def.kind
    }

    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    pub fn definition(&self) -> &TriggerDefinition {
        &self.def
    }

    /// Checks an event payload against the input schema; errors name the offending paths.
    pub fn validate_input(&self, input: &Value) -> Result<(), Vec<String>> {
        check(&self.input, input)
    }

    /// Checks a subscriber's answer against the output schema (fire-and-forget triggers accept
    /// nothing but an absent output, so any value is an error for them).
    pub fn validate_output(&self, output: &Value) -> Result<(), Vec<String>> {
        match &self.output {
            Some(v) => check(v, output),
            None => Err(vec![format!(
                "trigger '{}' is FIRE_AND_FORGET and takes no output",
                self.def.id
            )]),
        }
    }

    /// SailPoint's wire shape: schemas stringified, examples as objects.
    pub fn to_wire(&self) -> Value {
        let d = &self.def;
        serde_json::json!({
            "id": d.id,
            "name": d.name,
            "type": d.kind.as_str(),
            "description": d.description,
            "inputSchema": d.input_schema.to_string(),
            "exampleInput": d.example_input,
            "outputSchema": d.output_schema.as_ref().map(|s| s.to_string()),
            "exampleOutput": d.example_output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> TriggerDefinition {
        TriggerDefinition {
            id: "acme:order-created".into(),
            name: "Order Created".into(),
            kind: TriggerType::FireAndForget,
            description: None,
            input_schema: json!({"type": "object", "required": ["orderId"], "properties": {"orderId": {"type": "string"}}}),
            example_input: json!({"orderId": "1"}),
            output_schema: None,
            example_output: None,
        }
    }

    #[test]
    fn custom_trigger_validates_payloads() {
        let t = Trigger::custom(def()).unwrap();
        assert!(t.validate_input(&json!({"orderId": "2"})).is_ok());
        let errs = t.validate_input(&json!({"orderId": 2})).unwrap_err();
        assert!(errs[0].contains("/orderId"), "{errs:?}");
        assert!(t.validate_output(&json!({})).is_err());
    }

    #[test]
    fn schema_may_be_stringified() {
        let mut d = def();
        d.input_schema = Value::String(d.input_schema.to_string());
        assert!(Trigger::custom(d).is_ok());
    }

    #[test]
    fn rejects_bad_definitions() {
        let mut d = def();
        d.input_schema = json!({"type": "objekt"});
        assert_eq!(Trigger::custom(d).unwrap_err().field, "inputSchema");
        let mut d = def();
        d.example_input = json!({});
        assert_eq!(Trigger::custom(d).unwrap_err().field, "exampleInput");
        let mut d = def();
        d.id = "idn:mine".into();
        assert_eq!(Trigger::custom(d).unwrap_err().field, "id");
        let mut d = def();
        d.id = "Bad Id".into();
        assert_eq!(Trigger::custom(d).unwrap_err().field, "id");
        let mut d = def();
        d.kind = TriggerType::RequestResponse;
        assert_eq!(Trigger::custom(d).unwrap_err().field, "outputSchema");
        let mut d = def();
        d.output_schema = Some(json!({}));
        assert_eq!(Trigger::custom(d).unwrap_err().field, "outputSchema");
        let mut d = def();
        d.kind = TriggerType::RequestResponse;
        d.output_schema = Some(json!({"type": "object", "required": ["approved"]}));
        d.example_output = Some(json!({}));
        assert_eq!(Trigger::custom(d).unwrap_err().field, "exampleOutput");
    }
}
