//! Listing rules shared by every surface: pagination with a bounded limit, the sortable columns
//! the SDK names, and text matching with the SDK's methods (equals, starts with, contains, ends
//! with, each optionally case-insensitive).

use crate::ValidationError;

/// Page size when the client asks for none.
pub const DEFAULT_LIMIT: u64 = 100;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u64 = 1000;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
    pub asc: bool,
}

impl Page {
    /// `limit` 0 or absent means [`DEFAULT_LIMIT`]; above [`MAX_LIMIT`] is an error.
    pub fn new(
        offset: Option<u64>,
        limit: Option<u64>,
        asc: Option<bool>,
    ) -> Result<Self, ValidationError> {
        let limit = match limit.unwrap_or(0) {
            0 => DEFAULT_LIMIT,
            l if l > MAX_LIMIT => {
                return Err(ValidationError::new(
                    "pagination.limit",
                    format!("must be at most {MAX_LIMIT} (got {l})"),
                ))
            }
            l => l,
        };
        Ok(Self {
            offset: offset.unwrap_or(0),
            limit,
            asc: asc.unwrap_or(false),
        })
    }

    /// Applies the page to an already sorted list.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(usize::try_from(self.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(self.limit).unwrap_or(usize::MAX))
            .collect()
    }
}

impl Default for Page {
    fn default() -> Self {
        Self {
            offset: 0,
            limit: DEFAULT_LIMIT,
            asc: false,
        }
    }
}

/// How text is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMethod {
    Equals,
    StartsWith,
    Contains,
    EndsWith,
}

/// A text filter: method, case sensitivity and the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub method: TextMethod,
    pub ignore_case: bool,
    pub value: String,
}

impl TextMatch {
    /// Parses the SDK's `TEXT_FILTER_METHOD_*` name (absent = equals).
    pub fn parse(method: Option<&str>, value: &str) -> Result<Self, ValidationError> {
        let (method, ignore_case) = match method.unwrap_or("TEXT_FILTER_METHOD_EQUALS") {
            "TEXT_FILTER_METHOD_EQUALS" => (TextMethod::Equals, false),
            "TEXT_FILTER_METHOD_EQUALS_IGNORE_CASE" => (TextMethod::Equals, true),
            "TEXT_FILTER_METHOD_STARTS_WITH" => (TextMethod::StartsWith, false),
            "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE" => (TextMethod::StartsWith, true),
            "TEXT_FILTER_METHOD_CONTAINS" => (TextMethod::Contains, false),
            "TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE" => (TextMethod::Contains, true),
            "TEXT_FILTER_METHOD_ENDS_WITH" => (TextMethod::EndsWith, false),
            "TEXT_FILTER_METHOD_ENDS_WITH_IGNORE_CASE" => (TextMethod::EndsWith, true),
            other => {
                return Err(ValidationError::new(
                    "method",
                    format!("'{other}' is not a TEXT_FILTER_METHOD_* value (EQUALS, STARTS_WITH, CONTAINS, ENDS_WITH, each with _IGNORE_CASE)"),
                ))
            }
        };
        Ok(Self {
            method,
            ignore_case,
            value: value.to_string(),
        })
    }

    pub fn matches(&self, text: &str) -> bool {
        let (hay, needle) = if self.ignore_case {
            (text.to_lowercase(), self.value.to_lowercase())
        } else {
            (text.to_string(), self.value.clone())
        };
        match self.method {
            TextMethod::Equals => hay == needle,
            TextMethod::StartsWith => hay.starts_with(&needle),
            TextMethod::Contains => hay.contains(&needle),
            TextMethod::EndsWith => hay.ends_with(&needle),
        }
    }
}

/// Sortable target columns (`TARGET_FIELD_NAME_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetSort {
    Id,
    #[default]
    CreationDate,
    ChangeDate,
    Name,
    TargetType,
    Url,
    Timeout,
    InterruptOnError,
}

impl TargetSort {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Ok(match s {
            "TARGET_FIELD_NAME_UNSPECIFIED" | "TARGET_FIELD_NAME_CREATED_DATE" => {
                Self::CreationDate
            }
            "TARGET_FIELD_NAME_ID" => Self::Id,
            "TARGET_FIELD_NAME_CHANGED_DATE" => Self::ChangeDate,
            "TARGET_FIELD_NAME_NAME" => Self::Name,
            "TARGET_FIELD_NAME_TARGET_TYPE" => Self::TargetType,
            "TARGET_FIELD_NAME_URL" => Self::Url,
            "TARGET_FIELD_NAME_TIMEOUT" => Self::Timeout,
            "TARGET_FIELD_NAME_INTERRUPT_ON_ERROR" => Self::InterruptOnError,
            other => {
                return Err(ValidationError::new(
                    "sortingColumn",
                    format!("'{other}' is not a TARGET_FIELD_NAME_* value"),
                ))
            }
        })
    }
}

/// Sortable execution columns (`EXECUTION_FIELD_NAME_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecutionSort {
    Id,
    #[default]
    CreationDate,
    ChangeDate,
}

impl ExecutionSort {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Ok(match s {
            "EXECUTION_FIELD_NAME_UNSPECIFIED" | "EXECUTION_FIELD_NAME_CREATED_DATE" => {
                Self::CreationDate
            }
            "EXECUTION_FIELD_NAME_ID" => Self::Id,
            "EXECUTION_FIELD_NAME_CHANGED_DATE" => Self::ChangeDate,
            other => {
                return Err(ValidationError::new(
                    "sortingColumn",
                    format!("'{other}' is not an EXECUTION_FIELD_NAME_* value"),
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded() {
        assert_eq!(Page::new(None, None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(
            Page::new(Some(2), Some(1000), Some(true)).unwrap().offset,
            2
        );
        assert!(Page::new(None, Some(1001), None)
            .unwrap_err()
            .rule
            .contains("1000"));
        let p = Page::new(Some(1), Some(2), None).unwrap();
        assert_eq!(p.slice(vec![1, 2, 3, 4]), vec![2, 3]);
    }

    #[test]
    fn text_methods() {
        let m = |method: &str, v: &str| TextMatch::parse(Some(method), v).unwrap();
        assert!(m("TEXT_FILTER_METHOD_EQUALS", "Hook").matches("Hook"));
        assert!(!m("TEXT_FILTER_METHOD_EQUALS", "hook").matches("Hook"));
        assert!(m("TEXT_FILTER_METHOD_EQUALS_IGNORE_CASE", "hook").matches("HOOK"));
        assert!(m("TEXT_FILTER_METHOD_STARTS_WITH", "ho").matches("hook"));
        assert!(m("TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE", "ÖK").matches("höök"));
        assert!(m("TEXT_FILTER_METHOD_ENDS_WITH", "ok").matches("hook"));
        assert!(!m("TEXT_FILTER_METHOD_ENDS_WITH", "ho").matches("hook"));
        assert!(TextMatch::parse(Some("LIKE"), "x").is_err());
    }

    #[test]
    fn sort_columns() {
        assert_eq!(
            TargetSort::parse("TARGET_FIELD_NAME_NAME").unwrap(),
            TargetSort::Name
        );
        assert!(TargetSort::parse("NAME").is_err());
        assert_eq!(
            ExecutionSort::parse("EXECUTION_FIELD_NAME_ID").unwrap(),
            ExecutionSort::Id
        );
    }
}
