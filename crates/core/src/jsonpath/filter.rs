//! Parsing filter expressions and function calls, with RFC 9535's well-typedness rules: a
//! comparison compares literals, singular queries and value-typed functions; a test is a query
//! or a logical-typed function; each argument must fit its parameter's type.

use super::ast::{Call, CompareOp, Function, Logical, Operand, ParamType, Query};
use super::parser::{Parsed, Parser};
use super::regex::compile_pattern;
use serde_json::Value;

impl Parser<'_> {
    /// `logical-or-expr = logical-and-expr *(S "||" S logical-and-expr)`.
    pub(super) fn logical_or(&mut self) -> Parsed<Logical> {
        self.joined("||", Self::logical_and, Logical::Or)
    }

    /// `logical-and-expr = basic-expr *(S "&&" S basic-expr)`.
    fn logical_and(&mut self) -> Parsed<Logical> {
        self.joined("&&", Self::basic, Logical::And)
    }

    /// `term *(S op S term)`, one term standing for itself.
    fn joined(
        &mut self,
        op: &str,
        term: fn(&mut Self) -> Parsed<Logical>,
        all: fn(Vec<Logical>) -> Logical,
    ) -> Parsed<Logical> {
        let mut terms = vec![term(self)?];
        loop {
            let before = self.pos;
            self.blank();
            if self.eat_str(op) {
                self.blank();
                terms.push(term(self)?);
            } else {
                self.pos = before;
                break;
            }
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            all(terms)
        })
    }

    /// `paren-expr / comparison-expr / test-expr`.
    fn basic(&mut self) -> Parsed<Logical> {
        if self.eat('!') {
            self.blank();
            let inner = if self.peek() == Some('(') {
                self.parenthesized()?
            } else {
                let primary = self.primary()?;
                self.test(primary)?
            };
            return Ok(Logical::Not(Box::new(inner)));
        }
        if self.peek() == Some('(') {
            return self.parenthesized();
        }
        let left = self.primary()?;
        let before = self.pos;
        self.blank();
        match self.comparison_op() {
            Some(op) => {
                let left = self.comparable(left)?;
                self.blank();
                let right = self.primary()?;
                let right = self.comparable(right)?;
                Ok(Logical::Compare(left, op, right))
            }
            None => {
                self.pos = before;
                self.test(left)
            }
        }
    }

    /// `"(" S logical-expr S ")"`.
    fn parenthesized(&mut self) -> Parsed<Logical> {
        self.expect('(')?;
        self.descend()?;
        self.blank();
        let inner = self.logical_or()?;
        self.blank();
        self.expect(')')?;
        self.ascend();
        Ok(inner)
    }

    fn comparison_op(&mut self) -> Option<CompareOp> {
        for (text, op) in [
            ("==", CompareOp::Eq),
            ("!=", CompareOp::Ne),
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
        ] {
            if self.eat_str(text) {
                return Some(op);
            }
        }
        None
    }

    /// A literal, a query (`$…`, `@…`) or a function call.
    fn primary(&mut self) -> Parsed<Operand> {
        match self.peek() {
            Some('$' | '@') => {
                let relative = self.peek() == Some('@');
                self.pos += 1;
                let segments = self.segments()?;
                Ok(Operand::Query(Query { relative, segments }))
            }
            Some('\'' | '"') => Ok(Operand::Literal(Value::String(self.string_literal()?))),
            Some('-' | '0'..='9') => Ok(Operand::Literal(self.number_literal()?)),
            Some('a'..='z') => {
                let start = self.pos;
                let word = self.word();
                if self.peek() == Some('(') {
                    let function = Function::from_name(word).ok_or_else(|| {
                        self.pos = start;
                        self.error(&format!("unknown function '{word}'"))
                    })?;
                    return Ok(Operand::Call(self.call(function)?));
                }
                match word {
                    "true" => Ok(Operand::Literal(Value::Bool(true))),
                    "false" => Ok(Operand::Literal(Value::Bool(false))),
                    "null" => Ok(Operand::Literal(Value::Null)),
                    _ => {
                        self.pos = start;
                        Err(self.error("expected a literal, a query or a function call"))
                    }
                }
            }
            _ => Err(self.error("expected a literal, a query or a function call")),
        }
    }

    /// An operand used as a side of a comparison.
    fn comparable(&self, p: Operand) -> Parsed<Operand> {
        match p {
            Operand::Query(q) if !q.is_singular() => {
                Err(self.error("only singular queries can be compared"))
            }
            Operand::Call(c) if c.function.result() != ParamType::Value => {
                Err(self.error(&format!(
                    "{:?} returns a logical value and cannot be compared",
                    c.function
                )))
            }
            ok => Ok(ok),
        }
    }

    /// An operand used as a test.
    fn test(&self, p: Operand) -> Parsed<Logical> {
        match p {
            Operand::Query(q) => Ok(Logical::Exists(q)),
            Operand::Call(c) if c.function.result() == ParamType::Logical => Ok(Logical::Test(c)),
            Operand::Call(c) => Err(self.error(&format!(
                "{:?} returns a value; compare it instead of testing it",
                c.function
            ))),
            Operand::Literal(_) => Err(self.error("a literal alone is not a test")),
        }
    }

    /// `function-name "(" S [arg *(S "," S arg)] S ")"`, type-checked.
    fn call(&mut self, function: Function) -> Parsed<Call> {
        self.expect('(')?;
        self.descend()?;
        self.blank();
        let params = function.params();
        let mut args = Vec::with_capacity(params.len());
        if self.peek() != Some(')') {
            loop {
                let param = params
                    .get(args.len())
                    .copied()
                    .ok_or_else(|| self.error("too many arguments"))?;
                args.push(self.argument(param)?);
                self.blank();
                if !self.eat(',') {
                    break;
                }
                self.blank();
            }
        }
        self.blank();
        self.expect(')')?;
        self.ascend();
        if args.len() != params.len() {
            return Err(self.error(&format!("{function:?} takes {} argument(s)", params.len())));
        }
        let pattern = match (function, args.get(1)) {
            (Function::Match, Some(Operand::Literal(Value::String(p)))) => {
                Some(compile_pattern(p, true))
            }
            (Function::Search, Some(Operand::Literal(Value::String(p)))) => {
                Some(compile_pattern(p, false))
            }
            _ => None,
        };
        Ok(Call {
            function,
            args,
            pattern,
        })
    }

    /// One argument of parameter type `param`: a literal, a query or a call, followed by `,` or
    /// `)`. Anything else would be a logical expression, which no standard function takes, so
    /// it is refused right there (never parsed twice: re-parsing nested arguments would take
    /// time exponential in their nesting).
    fn argument(&mut self, param: ParamType) -> Parsed<Operand> {
        let not_logical = |p: &Self| {
            p.error(&format!(
                "a logical expression does not fit a parameter of type {param:?}"
            ))
        };
        if matches!(self.peek(), Some('!' | '(')) {
            return Err(not_logical(self));
        }
        let arg = self.primary()?;
        let after = self.pos;
        self.blank();
        if !matches!(self.peek(), Some(',' | ')')) {
            return Err(not_logical(self));
        }
        self.pos = after;
        let fits = match (&arg, param) {
            (Operand::Literal(_), ParamType::Value) => true,
            (Operand::Query(q), ParamType::Value) => q.is_singular(),
            (Operand::Query(_), ParamType::Nodes | ParamType::Logical) => true,
            (Operand::Call(c), p) => match c.function.result() {
                ParamType::Value => p == ParamType::Value,
                ParamType::Logical => p == ParamType::Logical,
                ParamType::Nodes => p != ParamType::Value,
            },
            _ => false,
        };
        if fits {
            Ok(arg)
        } else {
            Err(self.error(&format!(
                "argument does not fit a parameter of type {param:?}"
            )))
        }
    }
}
