//! Evaluating a parsed query against a JSON value, within a work budget. Every node a selector
//! produces, every descendant visited, every filter test, every node compared and every byte a
//! regular expression scans costs budget; when the budget runs out the evaluation stops with
//! [`Exhausted`]. That bounds both the time and the memory (intermediate node lists) of any query
//! on any input: nested filters, `..` chains and absolute queries inside filters, which cost
//! exponential or polynomial time in a naive evaluator, simply run out. Nothing here recurses
//! over the document (descendants and equality use explicit stacks); recursion follows only the
//! query's own nesting, which the parser bounded.

use super::ast::{Call, CompareOp, Function, Logical, Operand, Query, Segment, Selector};
use super::regex::compile_pattern;
use super::{Budget, Exhausted};
use regex::Regex;
use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::collections::HashMap;

type Nodes<'v> = Vec<&'v Value>;
type Eval<T> = Result<T, Exhausted>;

/// Patterns built from the document (`match(@.a, @.pattern)`) compiled during one evaluation.
const MAX_DYNAMIC_PATTERNS: usize = 64;
/// What compiling one dynamic pattern costs, on top of its length: a compile of a program at
/// the size limit takes over a millisecond, so the default budget allows ten.
const PATTERN_COST: u64 = 100_000;

pub(super) struct Evaluator<'v, 'b> {
    root: &'v Value,
    budget: &'b mut Budget,
    /// Compiled dynamic patterns, for `search` (0) and `match` (1).
    patterns: [HashMap<String, Option<Regex>>; 2],
}

/// A value-typed result: nothing (an empty node list), a node of the document or a literal of
/// the query (never copied), or a value computed by a function.
enum Val<'r> {
    Nothing,
    Node(&'r Value),
    Owned(Value),
}

impl Val<'_> {
    fn get(&self) -> Option<&Value> {
        match self {
            Val::Nothing => None,
            Val::Node(v) => Some(v),
            Val::Owned(v) => Some(v),
        }
    }
}

impl<'v, 'b> Evaluator<'v, 'b> {
    pub(super) fn new(root: &'v Value, budget: &'b mut Budget) -> Self {
        Self {
            root,
            budget,
            patterns: [HashMap::new(), HashMap::new()],
        }
    }

    pub(super) fn query(&mut self, q: &Query, current: &'v Value) -> Eval<Nodes<'v>> {
        self.budget.spend(1)?;
        let start = if q.relative { current } else { self.root };
        let mut nodes = vec![start];
        for segment in &q.segments {
            let mut next = Vec::new();
            for node in nodes {
                if segment.descendant {
                    self.descendants(segment, node, &mut next)?;
                } else {
                    self.select(segment, node, &mut next)?;
                }
            }
            nodes = next;
        }
        Ok(nodes)
    }

    /// Applies the segment's selectors to `node` and to every descendant, in document order
    /// (a node before its descendants, array elements in order).
    fn descendants(&mut self, seg: &Segment, node: &'v Value, out: &mut Nodes<'v>) -> Eval<()> {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            self.budget.spend(1)?;
            self.select(seg, n, out)?;
            match n {
                Value::Array(items) => stack.extend(items.iter().rev()),
                Value::Object(members) => {
                    let start = stack.len();
                    stack.extend(members.values());
                    stack[start..].reverse();
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn select(&mut self, seg: &Segment, node: &'v Value, out: &mut Nodes<'v>) -> Eval<()> {
        for selector in &seg.selectors {
            let before = out.len();
            match selector {
                Selector::Name(name) => {
                    if let Value::Object(members) = node {
                        // Key comparisons cost up to the name's length.
                        self.budget.spend(name.len() as u64 / 64)?;
                        out.extend(members.get(name));
                    }
                }
                Selector::Wildcard => match node {
                    Value::Array(items) => {
                        self.budget.spend(items.len() as u64)?;
                        out.extend(items.iter());
                    }
                    Value::Object(members) => {
                        self.budget.spend(members.len() as u64)?;
                        out.extend(members.values());
                    }
                    _ => {}
                },
                Selector::Index(i) => {
                    if let Value::Array(items) = node {
                        out.extend(normalize(*i, items.len()).and_then(|i| items.get(i)));
                    }
                }
                Selector::Slice { start, end, step } => {
                    if let Value::Array(items) = node {
                        self.slice(items, *start, *end, *step, out)?;
                    }
                }
                Selector::Filter(f) => self.filter(f, node, out)?,
            }
            self.budget.spend((out.len() - before) as u64 + 1)?;
        }
        Ok(())
    }

    /// RFC 9535 2.3.4.2.2: bounds normalized and clamped, stepping either way; step 0 selects
    /// nothing.
    fn slice(
        &mut self,
        items: &'v [Value],
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
        out: &mut Nodes<'v>,
    ) -> Eval<()> {
        let len = items.len() as i64;
        let step = step.unwrap_or(1);
        let norm = |i: i64| if i >= 0 { i } else { len + i };
        if step > 0 {
            let lower = norm(start.unwrap_or(0)).clamp(0, len);
            let upper = norm(end.unwrap_or(len)).clamp(0, len);
            let mut i = lower;
            while i < upper {
                self.budget.spend(1)?;
                out.push(&items[i as usize]);
                i += step;
            }
        } else if step < 0 {
            let upper = norm(start.unwrap_or(len - 1)).clamp(-1, len - 1);
            let lower = end.map_or(-1, |e| norm(e).clamp(-1, len - 1));
            let mut i = upper;
            while lower < i {
                self.budget.spend(1)?;
                out.push(&items[i as usize]);
                i += step;
            }
        }
        Ok(())
    }

    fn filter(&mut self, f: &Logical, node: &'v Value, out: &mut Nodes<'v>) -> Eval<()> {
        let children: Box<dyn Iterator<Item = &'v Value>> = match node {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => return Ok(()),
        };
        for child in children {
            self.budget.spend(1)?;
            if self.test(f, child)? {
                out.push(child);
            }
        }
        Ok(())
    }

    fn test(&mut self, e: &Logical, current: &'v Value) -> Eval<bool> {
        self.budget.spend(1)?;
        Ok(match e {
            Logical::Or(terms) => {
                for t in terms {
                    if self.test(t, current)? {
                        return Ok(true);
                    }
                }
                false
            }
            Logical::And(terms) => {
                for t in terms {
                    if !self.test(t, current)? {
                        return Ok(false);
                    }
                }
                true
            }
            Logical::Not(inner) => !self.test(inner, current)?,
            Logical::Exists(q) => !self.query(q, current)?.is_empty(),
            Logical::Test(call) => self.logical_call(call, current)?,
            Logical::Compare(left, op, right) => {
                let l = self.value(left, current)?;
                let r = self.value(right, current)?;
                self.compare(l.get(), *op, r.get())?
            }
        })
    }

    /// A value-typed operand (a singular query, a literal or a value-typed call).
    fn value<'r>(&mut self, o: &'r Operand, current: &'v Value) -> Eval<Val<'r>>
    where
        'v: 'r,
    {
        Ok(match o {
            Operand::Literal(v) => Val::Node(v),
            Operand::Query(q) => first(self.query(q, current)?),
            Operand::Call(call) => self.value_call(call, current)?,
        })
    }

    /// RFC 9535 2.3.5.2.2. `None` is "Nothing" (an empty node list).
    fn compare(&mut self, l: Option<&Value>, op: CompareOp, r: Option<&Value>) -> Eval<bool> {
        Ok(match op {
            CompareOp::Eq => self.equal(l, r)?,
            CompareOp::Ne => !self.equal(l, r)?,
            CompareOp::Lt => self.less(l, r)?,
            CompareOp::Gt => self.less(r, l)?,
            CompareOp::Le => self.less(l, r)? || self.equal(l, r)?,
            CompareOp::Ge => self.less(r, l)? || self.equal(l, r)?,
        })
    }

    /// `<`: numbers by value, strings by code point; anything else (and Nothing) is unordered.
    fn less(&mut self, l: Option<&Value>, r: Option<&Value>) -> Eval<bool> {
        Ok(match (l, r) {
            (Some(Value::Number(a)), Some(Value::Number(b))) => {
                number_order(a, b) == Some(Ordering::Less)
            }
            (Some(Value::String(a)), Some(Value::String(b))) => {
                self.budget.spend(a.len().min(b.len()) as u64 / 64)?;
                a < b
            }
            _ => false,
        })
    }

    /// Deep equality (numbers by value), with an explicit stack and one unit of budget per
    /// pair of values compared.
    fn equal(&mut self, l: Option<&Value>, r: Option<&Value>) -> Eval<bool> {
        let (l, r) = match (l, r) {
            (None, None) => return Ok(true),
            (Some(l), Some(r)) => (l, r),
            _ => return Ok(false),
        };
        let mut pairs = vec![(l, r)];
        while let Some((a, b)) = pairs.pop() {
            self.budget.spend(1)?;
            match (a, b) {
                (Value::Number(x), Value::Number(y)) => {
                    if number_order(x, y) != Some(Ordering::Equal) {
                        return Ok(false);
                    }
                }
                (Value::String(x), Value::String(y)) => {
                    self.budget.spend(x.len().min(y.len()) as u64 / 64)?;
                    if x != y {
                        return Ok(false);
                    }
                }
                (Value::Array(x), Value::Array(y)) => {
                    if x.len() != y.len() {
                        return Ok(false);
                    }
                    pairs.extend(x.iter().zip(y.iter()));
                }
                (Value::Object(x), Value::Object(y)) => {
                    if x.len() != y.len() {
                        return Ok(false);
                    }
                    for (k, xv) in x {
                        match y.get(k) {
                            Some(yv) => pairs.push((xv, yv)),
                            None => return Ok(false),
                        }
                    }
                }
                (a, b) => {
                    if a != b {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// `length`, `count`, `value`.
    fn value_call<'r>(&mut self, call: &'r Call, current: &'v Value) -> Eval<Val<'r>>
    where
        'v: 'r,
    {
        Ok(match call.function {
            Function::Length => {
                let arg = self.value(&call.args[0], current)?;
                let n = match arg.get() {
                    Some(Value::String(s)) => {
                        self.budget.spend(s.len() as u64 / 64)?;
                        Some(s.chars().count())
                    }
                    Some(Value::Array(a)) => Some(a.len()),
                    Some(Value::Object(o)) => Some(o.len()),
                    _ => None,
                };
                n.map_or(Val::Nothing, |n| Val::Owned(Value::from(n)))
            }
            Function::Count => {
                let nodes = self.nodes_arg(&call.args[0], current)?;
                Val::Owned(Value::from(nodes.len()))
            }
            Function::Value => {
                let nodes = self.nodes_arg(&call.args[0], current)?;
                if nodes.len() == 1 {
                    Val::Node(nodes[0])
                } else {
                    Val::Nothing
                }
            }
            Function::Match | Function::Search => Val::Nothing,
        })
    }

    /// `match`, `search`.
    fn logical_call(&mut self, call: &Call, current: &'v Value) -> Eval<bool> {
        let whole = call.function == Function::Match;
        let subject = self.value(&call.args[0], current)?;
        let Some(Value::String(subject)) = subject.get() else {
            return Ok(false);
        };
        let pattern = self.value(&call.args[1], current)?;
        let Some(Value::String(pattern)) = pattern.get() else {
            return Ok(false);
        };
        self.budget.spend(scan_cost(subject, pattern))?;
        if let Some(compiled) = &call.pattern {
            return Ok(compiled.as_ref().is_some_and(|r| r.is_match(subject)));
        }
        let slot = usize::from(whole);
        if let Some(compiled) = self.patterns[slot].get(pattern.as_str()) {
            return Ok(compiled.as_ref().is_some_and(|r| r.is_match(subject)));
        }
        self.budget.spend(PATTERN_COST + pattern.len() as u64)?;
        let compiled = compile_pattern(pattern, whole);
        let matched = compiled.as_ref().is_some_and(|r| r.is_match(subject));
        if self.patterns[slot].len() < MAX_DYNAMIC_PATTERNS {
            self.patterns[slot].insert(pattern.clone(), compiled);
        }
        Ok(matched)
    }

    fn nodes_arg(&mut self, arg: &Operand, current: &'v Value) -> Eval<Nodes<'v>> {
        match arg {
            Operand::Query(q) => self.query(q, current),
            // No standard function returns nodes; the parser allows nothing else here.
            _ => Ok(Vec::new()),
        }
    }
}

/// What running a pattern over a subject may cost: linear in the subject, weighted by the
/// pattern's size (an automaton's states grow with it).
fn scan_cost(subject: &str, pattern: &str) -> u64 {
    (subject.len() as u64 / 16 + 1) * (1 + pattern.len() as u64 / 8)
}

fn first(nodes: Nodes<'_>) -> Val<'_> {
    match nodes.as_slice() {
        [one] => Val::Node(one),
        _ => Val::Nothing,
    }
}

fn normalize(i: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if i < 0 { len + i } else { i };
    (0..len).contains(&i).then_some(i as usize)
}

/// Numbers compare exactly when both are integers, else as doubles.
fn number_order(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => Some(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => Some(x.cmp(&y)),
        (Some(_), None, _, Some(_)) => Some(Ordering::Less), // negative i64 vs u64 > i64::MAX
        (None, Some(_), Some(_), _) => Some(Ordering::Greater),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}
