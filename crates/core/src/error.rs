//! The one validation error of the domain layer. Every rule violation names the field it concerns
//! and the rule it broke, so that each API dialect can render a message a user can act on.

use std::fmt;

/// A value was rejected: `field` is the JSON path of the offending input (`"timeout"`,
/// `"httpConfig.url"`), `rule` says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub rule: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The same error, reported under a parent field (`endpoint` → `config.endpoint`).
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_string()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

impl std::error::Error for ValidationError {}
