//! The parsed form of an RFC 9535 query. The parser only builds well-typed trees (function
//! arguments and comparison operands are checked), so the evaluator never meets a type error.

use regex::Regex;
use serde_json::Value;

/// A query: `$` or `@` followed by segments.
#[derive(Debug, Clone)]
pub struct Query {
    pub relative: bool,
    pub segments: Vec<Segment>,
}

impl Query {
    /// A singular query selects at most one node: only child segments of one name or index
    /// selector, written without blanks inside brackets (RFC 9535 `singular-query`).
    pub fn is_singular(&self) -> bool {
        self.segments.iter().all(|s| {
            !s.descendant
                && s.compact
                && matches!(
                    s.selectors.as_slice(),
                    [Selector::Name(_) | Selector::Index(_)]
                )
        })
    }
}

/// One segment: its selectors, applied to the input nodes (child) or to the input nodes and all
/// their descendants (descendant, `..`).
#[derive(Debug, Clone)]
pub struct Segment {
    pub descendant: bool,
    pub selectors: Vec<Selector>,
    /// Written as `.name`, `.*` or a bracket without blanks inside (matters for singularity).
    pub compact: bool,
}

#[derive(Debug, Clone)]
pub enum Selector {
    Name(String),
    Wildcard,
    Index(i64),
    Slice {
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
    },
    Filter(Box<Logical>),
}

/// A filter's logical expression.
#[derive(Debug, Clone)]
pub enum Logical {
    Or(Vec<Logical>),
    And(Vec<Logical>),
    Not(Box<Logical>),
    /// A query used as a test: true when it selects something.
    Exists(Query),
    /// A function returning a logical value (`match`, `search`).
    Test(Call),
    /// Both sides are literals, singular queries or value-typed calls.
    Compare(Operand, CompareOp, Operand),
}

/// What stands alone in a filter: a comparison side, a test, or a function argument. The
/// parser has checked it fits where it stands (singular where a value is needed).
#[derive(Debug, Clone)]
pub enum Operand {
    Literal(Value),
    Query(Query),
    Call(Call),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// The functions RFC 9535 defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Length,
    Count,
    Match,
    Search,
    Value,
}

/// The type system of function extensions (RFC 9535 2.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    Value,
    Logical,
    Nodes,
}

impl Function {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "length" => Self::Length,
            "count" => Self::Count,
            "match" => Self::Match,
            "search" => Self::Search,
            "value" => Self::Value,
            _ => return None,
        })
    }

    pub fn params(self) -> &'static [ParamType] {
        match self {
            Self::Length => &[ParamType::Value],
            Self::Count | Self::Value => &[ParamType::Nodes],
            Self::Match | Self::Search => &[ParamType::Value, ParamType::Value],
        }
    }

    pub fn result(self) -> ParamType {
        match self {
            Self::Length | Self::Count | Self::Value => ParamType::Value,
            Self::Match | Self::Search => ParamType::Logical,
        }
    }
}

/// A well-typed function call.
#[derive(Debug, Clone)]
pub struct Call {
    pub function: Function,
    pub args: Vec<Operand>,
    /// `match`/`search` with a literal pattern: compiled once, at parse time (`None` when the
    /// pattern is not a valid regular expression, which makes the test false).
    pub pattern: Option<Option<Regex>>,
}
