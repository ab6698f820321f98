//! Recursive-descent parser for the RFC 9535 grammar: queries, segments and selectors here,
//! filter expressions and function calls in [`super::filter`]. Recursion only happens at a bracket
//! or a parenthesis, whose nesting [`super::scan`] has bounded, and a depth counter guards it
//! again. Positions in errors are character offsets into the query.

use super::ast::{Query, Segment, Selector};
use super::ParseError;
use serde_json::{Number, Value};

/// Largest index or slice bound RFC 9535 allows (I-JSON's exact integer range).
const MAX_INT: i64 = (1 << 53) - 1;

pub(super) struct Parser<'a> {
    src: &'a str,
    pub(super) pos: usize,
    depth: usize,
    max_depth: usize,
}

pub(super) type Parsed<T> = Result<T, ParseError>;

impl<'a> Parser<'a> {
    pub(super) fn new(src: &'a str, max_depth: usize) -> Self {
        Self {
            src,
            pos: 0,
            depth: 0,
            max_depth,
        }
    }

    /// A whole `jsonpath-query`: `$`, segments, end of input.
    pub(super) fn parse_query(mut self) -> Parsed<Query> {
        if !self.eat('$') {
            return Err(self.error("a query starts with '$'"));
        }
        let segments = self.segments()?;
        if self.peek().is_some() {
            return Err(self.error("unexpected character"));
        }
        Ok(Query {
            relative: false,
            segments,
        })
    }

    // ---- lexical helpers ----

    pub(super) fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<char> {
        self.src[self.pos..].chars().nth(n)
    }

    pub(super) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    pub(super) fn eat_str(&mut self, s: &str) -> bool {
        if self.src[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    pub(super) fn expect(&mut self, c: char) -> Parsed<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.error(&format!("expected '{c}'")))
        }
    }

    /// Skips blanks (space, tab, LF, CR); true when there were any.
    pub(super) fn blank(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.pos += 1;
        }
        self.pos > start
    }

    pub(super) fn error(&self, reason: &str) -> ParseError {
        ParseError::Invalid {
            at: self.src[..self.pos].chars().count(),
            reason: reason.to_string(),
        }
    }

    /// Enters one bracket or parenthesis level.
    pub(super) fn descend(&mut self) -> Parsed<()> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(ParseError::TooDeep {
                max: self.max_depth,
            });
        }
        Ok(())
    }

    pub(super) fn ascend(&mut self) {
        self.depth -= 1;
    }

    // ---- queries ----

    /// `*(S segment)`. Blanks not followed by a segment are left for the caller.
    pub(super) fn segments(&mut self) -> Parsed<Vec<Segment>> {
        let mut out = Vec::new();
        loop {
            let before = self.pos;
            self.blank();
            match (self.peek(), self.peek_at(1)) {
                (Some('['), _) => out.push(self.bracketed(false)?),
                (Some('.'), Some('.')) => {
                    self.pos += 2;
                    out.push(self.after_dot(true)?);
                }
                (Some('.'), _) => {
                    self.pos += 1;
                    out.push(self.after_dot(false)?);
                }
                _ => {
                    self.pos = before;
                    return Ok(out);
                }
            }
        }
    }

    /// What follows `.` or `..`: a wildcard, a member name, or (after `..`) a bracket.
    fn after_dot(&mut self, descendant: bool) -> Parsed<Segment> {
        let selector = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Selector::Wildcard
            }
            Some('[') if descendant => return self.bracketed(true),
            Some(c) if is_name_first(c) => Selector::Name(self.member_name()),
            _ => return Err(self.error("expected a member name or '*'")),
        };
        Ok(Segment {
            descendant,
            selectors: vec![selector],
            compact: true,
        })
    }

    fn member_name(&mut self) -> String {
        let start = self.pos;
        while let Some(c) = self
            .peek()
            .filter(|c| is_name_first(*c) || c.is_ascii_digit())
        {
            self.pos += c.len_utf8();
        }
        self.src[start..self.pos].to_string()
    }

    /// `"[" S selector *(S "," S selector) S "]"`.
    fn bracketed(&mut self, descendant: bool) -> Parsed<Segment> {
        self.expect('[')?;
        self.descend()?;
        let mut spaced = self.blank();
        let mut selectors = vec![self.selector()?];
        loop {
            spaced |= self.blank();
            if self.eat(',') {
                spaced = true;
                self.blank();
                selectors.push(self.selector()?);
            } else {
                break;
            }
        }
        self.expect(']')?;
        self.ascend();
        Ok(Segment {
            descendant,
            selectors,
            compact: !spaced,
        })
    }

    fn selector(&mut self) -> Parsed<Selector> {
        match self.peek() {
            Some('\'' | '"') => Ok(Selector::Name(self.string_literal()?)),
            Some('*') => {
                self.pos += 1;
                Ok(Selector::Wildcard)
            }
            Some('?') => {
                self.pos += 1;
                self.blank();
                Ok(Selector::Filter(Box::new(self.logical_or()?)))
            }
            _ => self.index_or_slice(),
        }
    }

    /// `index-selector` or `slice-selector` (`[start S] ":" S [end S] [":" [S step]]`).
    fn index_or_slice(&mut self) -> Parsed<Selector> {
        let start = self.maybe_int()?;
        let before_colon = self.pos;
        self.blank();
        if !self.eat(':') {
            self.pos = before_colon;
            return match start {
                Some(i) => Ok(Selector::Index(i)),
                None => Err(self.error("expected a selector")),
            };
        }
        self.blank();
        let end = self.maybe_int()?;
        let before_step = self.pos;
        self.blank();
        let step = if self.eat(':') {
            let before = self.pos;
            self.blank();
            let step = self.maybe_int()?;
            if step.is_none() {
                self.pos = before;
            }
            step
        } else {
            self.pos = before_step;
            None
        };
        Ok(Selector::Slice { start, end, step })
    }

    /// An `int` (`0` or an optionally negative number without leading zeros) if one starts here.
    fn maybe_int(&mut self) -> Parsed<Option<i64>> {
        let start = self.pos;
        let negative = self.eat('-');
        match self.peek() {
            Some('0') => {
                self.pos += 1;
                if negative || self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos = start;
                    return Err(self.error("integers have no leading zeros and no '-0'"));
                }
                Ok(Some(0))
            }
            Some('1'..='9') => {
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let n: Option<i64> = self.src[start..self.pos].parse().ok();
                match n.filter(|n| (-MAX_INT..=MAX_INT).contains(n)) {
                    Some(n) => Ok(Some(n)),
                    None => {
                        self.pos = start;
                        Err(self.error("integer out of range (at most 2^53-1)"))
                    }
                }
            }
            _ if negative => Err(self.error("expected a digit after '-'")),
            _ => Ok(None),
        }
    }

    // ---- literals ----

    /// A single- or double-quoted string literal with RFC 9535 escapes.
    pub(super) fn string_literal(&mut self) -> Parsed<String> {
        let quote = match self.peek() {
            Some(q @ ('\'' | '"')) => q,
            _ => return Err(self.error("expected a string literal")),
        };
        self.pos += 1;
        let mut out = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.error("unterminated string literal"))?;
            self.pos += c.len_utf8();
            match c {
                c if c == quote => return Ok(out),
                '\\' => out.push(self.escape(quote)?),
                c if (c as u32) < 0x20 => {
                    self.pos -= 1;
                    return Err(self.error("control characters must be escaped in strings"));
                }
                c => out.push(c),
            }
        }
    }

    fn escape(&mut self, quote: char) -> Parsed<char> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("unterminated escape"))?;
        self.pos += c.len_utf8();
        Ok(match c {
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '/' => '/',
            '\\' => '\\',
            c if c == quote => c,
            'u' => return self.unicode_escape(),
            _ => return Err(self.error("invalid escape")),
        })
    }

    /// `\uXXXX`, a surrogate pair written as two escapes included.
    fn unicode_escape(&mut self) -> Parsed<char> {
        let high = self.hex4()?;
        let code = match high {
            0xD800..=0xDBFF => {
                if !self.eat_str("\\u") {
                    return Err(self.error("a high surrogate must be followed by a low one"));
                }
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.error("expected a low surrogate"));
                }
                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.error("unpaired low surrogate")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid code point"))
    }

    fn hex4(&mut self) -> Parsed<u32> {
        let digits = self
            .src
            .get(self.pos..self.pos + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("expected four hex digits"))?;
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("expected four hex digits"))
    }

    /// `number = (int / "-0") [ frac ] [ exp ]`.
    pub(super) fn number_literal(&mut self) -> Parsed<Value> {
        let start = self.pos;
        self.eat('-');
        match self.peek() {
            Some('0') => self.pos += 1,
            Some('1'..='9') => self.digits(),
            _ => return Err(self.error("expected a number")),
        }
        if self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return Err(self.error("numbers have no leading zeros"));
        }
        let mut integer = true;
        if self.eat('.') {
            integer = false;
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error("expected digits after '.'"));
            }
            self.digits();
        }
        if self.eat('e') || self.eat('E') {
            integer = false;
            let _ = self.eat('+') || self.eat('-');
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(self.error("expected digits in the exponent"));
            }
            self.digits();
        }
        let text = &self.src[start..self.pos];
        if integer && text != "-0" {
            if let Ok(i) = text.parse::<i64>() {
                return Ok(Value::Number(Number::from(i)));
            }
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.error("number out of range"))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A run of `[a-z0-9_]` (function names and the keywords `true`, `false`, `null`).
    pub(super) fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }
}

/// `name-first = ALPHA / "_" / %x80-D7FF / %xE000-10FFFF`.
fn is_name_first(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (c as u32) >= 0x80
}
