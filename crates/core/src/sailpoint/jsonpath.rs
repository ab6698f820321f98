//! Subscription filters: RFC 9535 JSONPath evaluated on a trigger's input. An event matches when
//! the query selects at least one node, which is how SailPoint's idioms read:
//! `$[?($.identity.name == "john.doe")]` (an absolute query inside a filter selects every child
//! of the root when the condition holds) and `$.changes[?(@.attribute == "department")]`.

use crate::jsonpath::{Budget, Exhausted, JsonPath, Limits, ParseError};
use crate::ValidationError;
use serde_json::Value;
use std::fmt;

/// A parsed JSONPath filter; holds its source text for display and storage. Parsing enforces
/// the [`Limits`] (length, nesting) and evaluation runs within a [`Budget`], so no filter a
/// tenant writes can crash or stall the server (see [`crate::jsonpath`]).
#[derive(Clone)]
pub struct JsonPathFilter {
    source: String,
    path: JsonPath,
}

impl JsonPathFilter {
    /// Parses `source`; the error names the limit it broke or the parser's reason.
    pub fn parse(source: &str) -> Result<Self, ValidationError> {
        if source.trim().is_empty() {
            return Err(ValidationError::new(
                "filter",
                "must not be empty; omit it to receive every event",
            ));
        }
        Self::parse_typed(source).map_err(|e| {
            let shown: String = source.chars().take(100).collect();
            let more = if shown.len() < source.len() {
                "…"
            } else {
                ""
            };
            let what = if e.is_limit() {
                e.to_string()
            } else {
                format!("'{shown}{more}' is not a valid JSONPath expression: {e}")
            };
            ValidationError::new("filter", what)
        })
    }

    fn parse_typed(source: &str) -> Result<Self, ParseError> {
        JsonPath::parse(source, &Limits::default()).map(|path| Self {
            source: source.to_string(),
            path,
        })
    }

    /// True when the filter selects at least one node of `input`; `Err` when evaluating it
    /// would cost more than `budget`.
    pub fn matches(&self, input: &Value, budget: &mut Budget) -> Result<bool, Exhausted> {
        self.path.matches(input, budget)
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
    /// Checks `filter` on `input` within `budget` units. A syntax error is an answer (not a
    /// valid path); a broken limit (length, nesting, evaluation budget) is an error naming it.
    pub fn run(filter: &str, input: &Value, budget: u64) -> Result<Self, ValidationError> {
        let f = match JsonPathFilter::parse_typed(filter) {
            Ok(f) => f,
            Err(e) if e.is_limit() => return Err(ValidationError::new("filter", e.to_string())),
            Err(_) => {
                return Ok(Self {
                    valid_path: false,
                    path_exists: false,
                })
            }
        };
        let path_exists = f.matches(input, &mut Budget::new(budget)).map_err(|_| {
            ValidationError::new(
                "filter",
                format!("the filter evaluation budget is {budget} units; this filter needs more on the sample input"),
            )
        })?;
        Ok(Self {
            valid_path: true,
            path_exists,
        })
    }

    pub fn is_valid(self) -> bool {
        self.valid_path && self.path_exists
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(f: &JsonPathFilter, v: &Value) -> bool {
        f.matches(v, &mut Budget::new(10_000)).unwrap()
    }

    #[test]
    fn sailpoint_root_filter_idiom_parses_and_matches() {
        let f = JsonPathFilter::parse(r#"$[?($.identity.name == "john.doe")]"#).unwrap();
        assert!(m(
            &f,
            &json!({"identity": {"name": "john.doe"}, "attributes": {}})
        ));
        assert!(!m(
            &f,
            &json!({"identity": {"name": "jane.doe"}, "attributes": {}})
        ));
    }

    #[test]
    fn relative_filter_on_array_matches() {
        let f = JsonPathFilter::parse(r#"$.changes[?(@.attribute == "department")]"#).unwrap();
        assert!(m(
            &f,
            &json!({"changes": [{"attribute": "email"}, {"attribute": "department"}]})
        ));
        assert!(!m(&f, &json!({"changes": [{"attribute": "email"}]})));
        assert!(!m(&f, &json!({"other": 1})));
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
        let c = FilterCheck::run("$.identityId", &input, 1000).unwrap();
        assert!(c.valid_path && c.path_exists && c.is_valid());
        let c = FilterCheck::run("$.missing", &input, 1000).unwrap();
        assert!(c.valid_path && !c.path_exists && !c.is_valid());
        let c = FilterCheck::run("$$", &input, 1000).unwrap();
        assert!(!c.valid_path && !c.is_valid());
        let e = FilterCheck::run("$..*..*..*", &json!([[[[[[1]]]]]]), 10).unwrap_err();
        assert!(e.rule.contains("budget is 10 units"), "{e}");
        let e = FilterCheck::run(&"$.a".repeat(1000), &input, 1000).unwrap_err();
        assert!(e.rule.contains("length limit is 2000"), "{e}");
        let deep = format!("$[?{}@.a==1{}]", "(".repeat(100), ")".repeat(100));
        let e = FilterCheck::run(&deep, &input, 1000).unwrap_err();
        assert!(e.rule.contains("nesting limit"), "{e}");
    }
}
