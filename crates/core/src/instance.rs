//! Tenancy. Every resource belongs to exactly one instance (a ZITADEL instance, a SailPoint
//! tenant); stores key every row by it so nothing can cross instances by accident.

use crate::ValidationError;
use std::fmt;

/// An instance identifier: 1..=200 characters of `[A-Za-z0-9._-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(String);

impl InstanceId {
    /// The instance used when a request names none.
    pub const DEFAULT: &'static str = "default";

    pub fn default_instance() -> Self {
        Self(Self::DEFAULT.to_string())
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok = !s.is_empty()
            && s.len() <= 200
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(ValidationError::new(
                "instance.id",
                "must be 1 to 200 characters of letters, digits, '.', '_' or '-'",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
