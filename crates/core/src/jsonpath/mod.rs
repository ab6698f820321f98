//! RFC 9535 JSONPath with bounded work, for filters tenants write and Switchyard evaluates on
//! every event. General-purpose JSONPath crates trust their queries: their parsers recurse once
//! per nesting level (a crafted filter overflows the stack) and their evaluators have no budget
//! (nested filters, `..` chains and absolute queries inside filters take exponential or
//! polynomial time). Here every query is bounded three ways:
//!
//! - before parsing, a linear scan refuses text longer than [`Limits::max_chars`] or nesting
//!   brackets and parentheses deeper than [`Limits::max_nesting`] ([`scan`]), so the
//!   recursive-descent parser ([`parser`], [`filter`]) cannot recurse deeply;
//! - evaluation ([`eval`]) spends a [`Budget`] on every node it produces or visits, every test,
//!   every comparison and every byte a pattern scans, and stops with [`Exhausted`];
//! - the document it runs on is bounded by the publish limits (size and depth).

mod ast;
mod eval;
mod filter;
mod parser;
mod regex;
mod scan;

use serde_json::Value;
use std::fmt;

/// Structural limits checked before a query is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest query, in characters.
    pub max_chars: usize,
    /// Deepest nesting of brackets and parentheses.
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_chars: 2000,
            max_nesting: 16,
        }
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    TooLong {
        max: usize,
        got: usize,
    },
    TooDeep {
        max: usize,
    },
    /// Not RFC 9535 JSONPath; `at` is a character offset.
    Invalid {
        at: usize,
        reason: String,
    },
}

impl ParseError {
    /// True for the limits (as opposed to a syntax or type error).
    pub fn is_limit(&self) -> bool {
        !matches!(self, ParseError::Invalid { .. })
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong { max, got } => {
                write!(f, "the filter length limit is {max} characters (got {got})")
            }
            ParseError::TooDeep { max } => write!(
                f,
                "the filter nesting limit is {max} levels of brackets and parentheses"
            ),
            ParseError::Invalid { at, reason } => write!(f, "{reason} at position {at}"),
        }
    }
}

/// The default work budget of one evaluation: about 10–20 ms of one core at worst (see
/// BENCHMARKS.md); realistic filters need a few dozen units.
pub const DEFAULT_BUDGET: u64 = 1_000_000;

/// Units of evaluation work left. One unit is roughly one node visited or produced.
#[derive(Debug, Clone)]
pub struct Budget {
    left: u64,
}

/// The evaluation ran out of budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

impl fmt::Display for Exhausted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the filter evaluation budget was exhausted")
    }
}

impl std::error::Error for Exhausted {}

impl Budget {
    pub fn new(units: u64) -> Self {
        Self { left: units }
    }

    pub fn left(&self) -> u64 {
        self.left
    }

    fn spend(&mut self, units: u64) -> Result<(), Exhausted> {
        match self.left.checked_sub(units) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => {
                self.left = 0;
                Err(Exhausted)
            }
        }
    }
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct JsonPath {
    query: ast::Query,
}

impl JsonPath {
    /// Checks `src` against `limits`, then parses it.
    pub fn parse(src: &str, limits: &Limits) -> Result<Self, ParseError> {
        scan::check(src, limits)?;
        let query = parser::Parser::new(src, limits.max_nesting).parse_query()?;
        Ok(Self { query })
    }

    /// The nodes the query selects in `root`, in document order.
    pub fn query<'v>(
        &self,
        root: &'v Value,
        budget: &mut Budget,
    ) -> Result<Vec<&'v Value>, Exhausted> {
        eval::Evaluator::new(root, budget).query(&self.query, root)
    }

    /// Whether the query can select at most one node (RFC 9535 singular query: names and
    /// indexes only).
    pub fn is_singular(&self) -> bool {
        !self.query.relative && self.query.is_singular()
    }

    /// True when the query selects at least one node.
    pub fn matches(&self, root: &Value, budget: &mut Budget) -> Result<bool, Exhausted> {
        self.query(root, budget).map(|nodes| !nodes.is_empty())
    }
}

#[cfg(test)]
mod tests;
