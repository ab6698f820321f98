//! Subscription filters: RFC 9535 JSONPath evaluated on a trigger's input. An event matches when
//! the query selects at least one node, which is how SailPoint's idioms read:
//! `$[?($.identity.name == "john.doe")]` (an absolute query inside a filter selects every child
//! of the root when the condition holds) and `$.changes[?(@.attribute == "department")]`.

use crate::ValidationError;
use serde_json::Value;
use serde_json_path::JsonPath;
use std::fmt;

/// A parsed JSONPath filter; holds its source text for display and storage.
#[derive(Clone)]
pub struct JsonPathFilter {
    source: String,
    path: JsonPath,
}

impl JsonPathFilter {
    /// Parses `source`; the error carries the parser's reason.
    pub fn parse(source: &str) -> Result<Self, ValidationError> {
        if source.trim().is_empty() {
            return Err(ValidationError::new(
                "filter",
                "must not be empty; omit it to receive every event",
            ));
        }
        JsonPath::parse(source)
            .map(|path| Self {
                source: source.to_string(),
                path,
            })
            .map_err(|e| {
                ValidationError::new(
                    "filter",
                    format!("'{source}' is not a valid JSONPath expression: {e}"),
                )
            })
    }

    /// True when the filter selects at least one node of `input`.
    pub fn matches(&self, input: &Value) -> bool {
        !self.path.query(input).is_empty()
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for JsonPathFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonPathFilter({:?})", self.source)
    }
}

impl PartialEq for JsonPathFilter {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// The answer of `validate-filter`: whether the expression parses and whether it selects
/// something in the sample input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterCheck {
    pub valid_path: bool,
    pub path_exists: bool,
}

impl FilterCheck {
    pub fn run(filter: &str, input: &Value) -> Self {
        match JsonPathFilter::parse(filter) {
            Ok(f) => Self {
                valid_path: true,
                path_exists: f.matches(input),
            },
            Err(_) => Self {
                valid_path: false,
                path_exists: false,
            },
        }
    }

    pub fn is_valid(self) -> bool {
        self.valid_path && self.path_exists
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sailpoint_root_filter_idiom_parses_and_matches() {
        let f = JsonPathFilter::parse(r#"$[?($.identity.name == "john.doe")]"#).unwrap();
        assert!(f.matches(&json!({"identity": {"name": "john.doe"}, "attributes": {}})));
        assert!(!f.matches(&json!({"identity": {"name": "jane.doe"}, "attributes": {}})));
    }

    #[test]
    fn relative_filter_on_array_matches() {
        let f = JsonPathFilter::parse(r#"$.changes[?(@.attribute == "department")]"#).unwrap();
        assert!(
            f.matches(&json!({"changes": [{"attribute": "email"}, {"attribute": "department"}]}))
        );
        assert!(!f.matches(&json!({"changes": [{"attribute": "email"}]})));
        assert!(!f.matches(&json!({"other": 1})));
    }

    #[test]
    fn invalid_filter_reports_reason() {
        let e = JsonPathFilter::parse("$[?(").unwrap_err();
        assert_eq!(e.field, "filter");
        assert!(e.rule.contains("not a valid JSONPath"), "{}", e.rule);
        assert!(JsonPathFilter::parse("  ").is_err());
        assert!(JsonPathFilter::parse("identity.name").is_err());
    }

    #[test]
    fn filter_check() {
        let input = json!({"identityId": "abc"});
        let c = FilterCheck::run("$.identityId", &input);
        assert!(c.valid_path && c.path_exists && c.is_valid());
        let c = FilterCheck::run("$.missing", &input);
        assert!(c.valid_path && !c.path_exists && !c.is_valid());
        let c = FilterCheck::run("$$", &input);
        assert!(!c.valid_path && !c.is_valid());
    }
}
