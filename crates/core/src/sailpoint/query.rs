//! SailPoint's standard collection parameters, shared by every list endpoint: `limit` (0..=250,
//! default 250), `offset`, `count`, `filters` (`id eq "x"`, `type in ("HTTP","EVENTBRIDGE")`,
//! conditions joined by `and`) and `sorters` (`triggerId,-triggerName`). Each endpoint declares
//! which fields and operators it supports; anything else is rejected naming the offending part.

use crate::ValidationError;
use std::cmp::Ordering;

/// A comparison operator of the filter syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    In,
    Ge,
    Gt,
    Le,
    Lt,
    Sw,
    Co,
}

impl Op {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "in" => Op::In,
            "ge" => Op::Ge,
            "gt" => Op::Gt,
            "le" => Op::Le,
            "lt" => Op::Lt,
            "sw" => Op::Sw,
            "co" => Op::Co,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::Ge => "ge",
            Op::Gt => "gt",
            Op::Le => "le",
            Op::Lt => "lt",
            Op::Sw => "sw",
            Op::Co => "co",
        }
    }
}

/// One condition: `field op value` (or a list of values for `in`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub field: String,
    pub op: Op,
    pub values: Vec<String>,
}

impl Condition {
    /// Whether `actual` (the field's value; `None` when absent) satisfies the condition.
    pub fn matches(&self, actual: Option<&str>) -> bool {
        let Some(a) = actual else {
            return self.op == Op::Ne;
        };
        let v = self.values.first().map(String::as_str).unwrap_or("");
        match self.op {
            Op::Eq => a == v,
            Op::Ne => a != v,
            Op::In => self.values.iter().any(|x| x == a),
            Op::Ge => a >= v,
            Op::Gt => a > v,
            Op::Le => a <= v,
            Op::Lt => a < v,
            Op::Sw => a.starts_with(v),
            Op::Co => a.contains(v),
        }
    }
}

/// A parsed `filters` expression: a conjunction of conditions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(Vec<Condition>);

/// Which operators an endpoint supports on which field.
pub type FilterSpec<'a> = &'a [(&'a str, &'a [Op])];

impl Filters {
    /// Parses `source` and checks every field and operator against `spec`.
    pub fn parse(source: &str, spec: FilterSpec<'_>) -> Result<Self, ValidationError> {
        let err = |rule: String| ValidationError::new("filters", rule);
        let tokens = tokenize(source).map_err(err)?;
        let mut conditions = Vec::new();
        let mut i = 0;
        loop {
            let field = match tokens.get(i) {
                Some(Token::Word(w)) => w.clone(),
                Some(t) => return Err(err(format!("expected a field name, found {t}"))),
                None if conditions.is_empty() => return Err(err("must not be empty".into())),
                None => return Err(err("expected a condition after 'and'".into())),
            };
            let Some((_, ops)) = spec.iter().find(|(f, _)| *f == field) else {
                let supported: Vec<&str> = spec.iter().map(|(f, _)| *f).collect();
                return Err(err(format!(
                    "filtering on '{field}' is not supported; supported fields: {}",
                    supported.join(", ")
                )));
            };
            let op_word = match tokens.get(i + 1) {
                Some(Token::Word(w)) => w.clone(),
                _ => return Err(err(format!("expected an operator after '{field}'"))),
            };
            let op = Op::parse(&op_word)
                .ok_or_else(|| err(format!("'{op_word}' is not an operator")))?;
            if !ops.contains(&op) {
                let allowed: Vec<&str> = ops.iter().map(|o| o.as_str()).collect();
                return Err(err(format!(
                    "operator '{op_word}' is not supported on '{field}'; supported: {}",
                    allowed.join(", ")
                )));
            }
            i += 2;
            let values = if op == Op::In {
                parse_list(&tokens, &mut i).map_err(err)?
            } else {
                match tokens.get(i) {
                    Some(Token::Str(s)) | Some(Token::Word(s)) => {
                        i += 1;
                        vec![s.clone()]
                    }
                    _ => return Err(err(format!("expected a value after '{field} {op_word}'"))),
                }
            };
            conditions.push(Condition { field, op, values });
            match tokens.get(i) {
                None => break,
                Some(Token::Word(w)) if w == "and" => i += 1,
                Some(Token::Word(w)) if w == "or" || w == "not" => {
                    return Err(err(format!(
                        "'{w}' is not supported; combine conditions with 'and'"
                    )))
                }
                Some(t) => {
                    return Err(err(format!(
                        "unexpected {t}; combine conditions with 'and'"
                    )))
                }
            }
        }
        Ok(Self(conditions))
    }

    /// True when every condition holds; `get` returns a field's value.
    pub fn matches<'v>(&self, get: impl Fn(&str) -> Option<&'v str>) -> bool {
        self.0.iter().all(|c| c.matches(get(&c.field)))
    }

    pub fn conditions(&self) -> &[Condition] {
        &self.0
    }
}

fn parse_list(tokens: &[Token], i: &mut usize) -> Result<Vec<String>, String> {
    if tokens.get(*i) != Some(&Token::Open) {
        return Err("'in' expects a parenthesised list, e.g. (\"a\",\"b\")".into());
    }
    *i += 1;
    let mut values = Vec::new();
    loop {
        match tokens.get(*i) {
            Some(Token::Str(s)) | Some(Token::Word(s)) => values.push(s.clone()),
            _ => return Err("'in' list: expected a value".into()),
        }
        *i += 1;
        match tokens.get(*i) {
            Some(Token::Comma) => *i += 1,
            Some(Token::Close) => {
                *i += 1;
                return Ok(values);
            }
            _ => return Err("'in' list: expected ',' or ')'".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    Comma,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(w) => write!(f, "'{w}'"),
            Token::Str(s) => write!(f, "\"{s}\""),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Comma => f.write_str("','"),
        }
    }
}

fn tokenize(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e) => v.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some(x) => v.push(x),
                        None => return Err("unterminated string: missing closing '\"'".into()),
                    }
                }
                out.push(Token::Str(v));
            }
            _ => {
                let mut w = String::new();
                while let Some(&x) = chars.peek() {
                    if x.is_whitespace() || "(),\"".contains(x) {
                        break;
                    }
                    w.push(x);
                    chars.next();
                }
                out.push(Token::Word(w));
            }
        }
    }
    Ok(out)
}

/// One sort key of `sorters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sorter {
    pub field: String,
    pub descending: bool,
}

/// Parses `sorters` (`id,-name`), accepting only `allowed` fields.
pub fn parse_sorters(source: &str, allowed: &[&str]) -> Result<Vec<Sorter>, ValidationError> {
    let mut out = Vec::new();
    for part in source.split(',') {
        let part = part.trim();
        let (descending, field) = match part.strip_prefix('-') {
            Some(f) => (true, f),
            None => (false, part),
        };
        if field.is_empty() {
            return Err(ValidationError::new(
                "sorters",
                format!("'{source}' contains an empty sort field"),
            ));
        }
        if !allowed.contains(&field) {
            return Err(ValidationError::new(
                "sorters",
                format!(
                    "sorting by '{field}' is not supported; supported fields: {}",
                    allowed.join(", ")
                ),
            ));
        }
        out.push(Sorter {
            field: field.to_string(),
            descending,
        });
    }
    Ok(out)
}

/// Orders two items by `sorters`; `get` returns a field's value.
pub fn compare<'v, T>(
    a: &'v T,
    b: &'v T,
    sorters: &[Sorter],
    get: impl Fn(&'v T, &str) -> Option<&'v str>,
) -> Ordering {
    for s in sorters {
        let o = get(a, &s.field).cmp(&get(b, &s.field));
        let o = if s.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// `limit`, `offset` and `count` of a list request, parsed and range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: usize,
    pub offset: usize,
    pub count: bool,
}

impl Page {
    pub const MAX_LIMIT: usize = 250;

    pub fn parse(
        limit: Option<&str>,
        offset: Option<&str>,
        count: Option<&str>,
    ) -> Result<Self, ValidationError> {
        let limit = match limit {
            None => Self::MAX_LIMIT,
            Some(s) => s
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|l| *l <= Self::MAX_LIMIT)
                .ok_or_else(|| {
                    ValidationError::new("limit", format!("'{s}' must be an integer from 0 to 250"))
                })?,
        };
        let offset = match offset {
            None => 0,
            // Bounded like the int64 the OpenAPI document declares.
            Some(s) => s
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|o| usize::try_from(o).ok())
                .ok_or_else(|| {
                    ValidationError::new("offset", format!("'{s}' must be a non-negative integer"))
                })?,
        };
        let count = match count {
            None => false,
            Some(s) if s.eq_ignore_ascii_case("true") => true,
            Some(s) if s.eq_ignore_ascii_case("false") => false,
            Some(s) => {
                return Err(ValidationError::new(
                    "count",
                    format!("'{s}' must be true or false"),
                ))
            }
        };
        Ok(Self {
            limit,
            offset,
            count,
        })
    }

    /// The page's slice of `items`.
    pub fn apply<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: FilterSpec<'static> = &[("id", &[Op::Eq]), ("type", &[Op::Eq, Op::In])];

    #[test]
    fn parses_eq_in_and_conjunction() {
        let f = Filters::parse(r#"id eq "a b" and type in ("HTTP", "EVENTBRIDGE")"#, SPEC).unwrap();
        assert_eq!(f.conditions().len(), 2);
        assert_eq!(f.conditions()[0].values, vec!["a b"]);
        assert_eq!(f.conditions()[1].values, vec!["HTTP", "EVENTBRIDGE"]);
        let get = |k: &str| match k {
            "id" => Some("a b"),
            "type" => Some("HTTP"),
            _ => None,
        };
        assert!(f.matches(get));
        let f = Filters::parse(r#"id eq "x""#, SPEC).unwrap();
        assert!(!f.matches(get));
    }

    #[test]
    fn rejects_bad_filters_naming_the_part() {
        for (src, needle) in [
            (r#"name eq "x""#, "'name'"),
            (r#"id in ("x")"#, "'in'"),
            (r#"id eq"#, "expected a value"),
            (r#"id eq "x" or type eq "HTTP""#, "'or'"),
            (r#"id zz "x""#, "'zz'"),
            (r#"id eq "x"#, "unterminated"),
            ("", "empty"),
            (r#"type in "HTTP""#, "parenthesised"),
        ] {
            let e = Filters::parse(src, SPEC).unwrap_err();
            assert_eq!(e.field, "filters");
            assert!(e.rule.contains(needle), "{src}: {}", e.rule);
        }
    }

    #[test]
    fn sorters_parse_and_order() {
        let s = parse_sorters("id,-name", &["id", "name"]).unwrap();
        assert_eq!(
            s[1],
            Sorter {
                field: "name".into(),
                descending: true
            }
        );
        assert!(parse_sorters("bogus", &["id"])
            .unwrap_err()
            .rule
            .contains("'bogus'"));
        assert!(parse_sorters("id,", &["id"]).is_err());
        let mut v = vec![("a", "1"), ("b", "2"), ("a", "3")];
        let s = parse_sorters("id,-name", &["id", "name"]).unwrap();
        v.sort_by(|x, y| compare(x, y, &s, |t, f| Some(if f == "id" { t.0 } else { t.1 })));
        assert_eq!(v, vec![("a", "3"), ("a", "1"), ("b", "2")]);
    }

    #[test]
    fn page_limits() {
        assert_eq!(
            Page::parse(None, None, None).unwrap(),
            Page {
                limit: 250,
                offset: 0,
                count: false
            }
        );
        assert_eq!(
            Page::parse(Some("0"), Some("3"), Some("true"))
                .unwrap()
                .limit,
            0
        );
        assert_eq!(
            Page::parse(Some("251"), None, None).unwrap_err().field,
            "limit"
        );
        assert_eq!(
            Page::parse(Some("-1"), None, None).unwrap_err().field,
            "limit"
        );
        assert_eq!(
            Page::parse(None, Some("x"), None).unwrap_err().field,
            "offset"
        );
        assert_eq!(
            Page::parse(None, None, Some("yes")).unwrap_err().field,
            "count"
        );
        let p = Page::parse(Some("2"), Some("1"), None).unwrap();
        assert_eq!(p.apply(vec![1, 2, 3, 4]), vec![2, 3]);
    }
}
