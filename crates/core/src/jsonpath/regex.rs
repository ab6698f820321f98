//! I-Regexp (RFC 9485), the pattern language of `match()` and `search()`, translated to the
//! `regex` crate's syntax. The translation also validates: a pattern that is not I-Regexp
//! (`\d`, `(?i)`, lazy quantifiers, …) yields `None`, which makes the function false, as RFC 9535
//! asks. `.` matches anything but CR and LF; `^` and `$` are ordinary characters. Compiled
//! programs are size-limited, so no pattern costs more than a bounded amount to build or run.

use regex::{Regex, RegexBuilder};

/// Largest compiled program (and lazy DFA cache) a pattern may need.
const PROGRAM_BYTES: usize = 256 << 10;

/// Compiles `pattern` for `match` (`whole`: the entire string must match) or `search`.
pub fn compile_pattern(pattern: &str, whole: bool) -> Option<Regex> {
    let body = translate(pattern)?;
    let full = if whole {
        format!(r"\A(?:{body})\z")
    } else {
        body
    };
    RegexBuilder::new(&full)
        .size_limit(PROGRAM_BYTES)
        .dfa_size_limit(PROGRAM_BYTES)
        .nest_limit(64)
        .build()
        .ok()
}

/// I-Regexp → `regex` syntax, or `None` when `pattern` is not I-Regexp.
fn translate(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    // Whether a quantifier may follow (an atom came last).
    let mut quantifiable = false;
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                out.push_str(r"[^\n\r]");
                quantifiable = true;
            }
            '^' | '$' => {
                out.push('\\');
                out.push(c);
                quantifiable = true;
            }
            '\\' => {
                escape(&mut chars, &mut out)?;
                quantifiable = true;
            }
            '[' => {
                class(&mut chars, &mut out)?;
                quantifiable = true;
            }
            '(' => {
                if chars.peek() == Some(&'?') {
                    return None;
                }
                out.push('(');
                quantifiable = false;
            }
            ')' => {
                out.push(')');
                quantifiable = true;
            }
            '|' => {
                out.push('|');
                quantifiable = false;
            }
            '*' | '+' | '?' if quantifiable => {
                out.push(c);
                quantifiable = false;
            }
            '{' if quantifiable => {
                out.push('{');
                range_quantifier(&mut chars, &mut out)?;
                quantifiable = false;
            }
            '*' | '+' | '?' | '{' | '}' | ']' => return None,
            c => {
                push_literal(&mut out, c);
                quantifiable = true;
            }
        }
    }
    Some(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After `\`: a single-character escape or a category escape `\p{..}` / `\P{..}`.
fn escape(chars: &mut Chars<'_>, out: &mut String) -> Option<()> {
    let c = chars.next()?;
    match c {
        '(' | ')' | '*' | '+' | '-' | '.' | '?' | '[' | '\\' | ']' | '^' | '{' | '|' | '}' => {
            out.push('\\');
            out.push(c);
        }
        'n' => out.push_str(r"\n"),
        'r' => out.push_str(r"\r"),
        't' => out.push_str(r"\t"),
        'p' | 'P' => {
            if chars.next()? != '{' {
                return None;
            }
            let mut name = String::new();
            loop {
                match chars.next()? {
                    '}' => break,
                    ch if ch.is_ascii_alphabetic() && name.len() < 2 => name.push(ch),
                    _ => return None,
                }
            }
            if !is_category(&name) {
                return None;
            }
            out.push('\\');
            out.push(c);
            out.push('{');
            out.push_str(&name);
            out.push('}');
        }
        _ => return None,
    }
    Some(())
}

/// The general categories I-Regexp names.
fn is_category(name: &str) -> bool {
    let mut it = name.chars();
    let (Some(major), minor) = (it.next(), it.next()) else {
        return false;
    };
    let allowed: &str = match major {
        'L' => "lmotu",
        'M' => "cen",
        'N' => "dlo",
        'P' => "cdefios",
        'Z' => "lps",
        'S' => "ckmo",
        'C' => "cfno",
        _ => return false,
    };
    minor.is_none_or(|m| allowed.contains(m))
}

/// After `[`: `[^]? ("-" / CCE1) *CCE1 ["-"] "]"`, with every literal escaped so the `regex`
/// crate's class set operators (`&&`, `--`, `~~`) and nested classes cannot appear.
fn class(chars: &mut Chars<'_>, out: &mut String) -> Option<()> {
    out.push('[');
    if chars.peek() == Some(&'^') {
        chars.next();
        out.push('^');
    }
    let mut first = true;
    loop {
        let c = chars.next()?;
        match c {
            ']' if !first => break,
            '-' if first || chars.peek() == Some(&']') => out.push_str(r"\-"),
            '[' | ']' | '-' => return None,
            '\\' => {
                escape(chars, out)?;
                range_end(chars, out)?;
            }
            c => {
                push_literal(out, c);
                range_end(chars, out)?;
            }
        }
        first = false;
    }
    out.push(']');
    Some(())
}

/// An optional `-x` closing a range inside a class.
fn range_end(chars: &mut Chars<'_>, out: &mut String) -> Option<()> {
    let mut ahead = chars.clone();
    if ahead.next() != Some('-') || matches!(ahead.peek(), Some(']') | None) {
        return Some(());
    }
    chars.next();
    out.push('-');
    match chars.next()? {
        '\\' => escape(chars, out),
        '[' | ']' | '-' => None,
        c => {
            push_literal(out, c);
            Some(())
        }
    }
}

/// After `{` of a quantifier: `digits ["," [digits]] "}"`.
fn range_quantifier(chars: &mut Chars<'_>, out: &mut String) -> Option<()> {
    let mut digits = 0;
    let mut comma = false;
    loop {
        match chars.next()? {
            d @ '0'..='9' => {
                if !comma {
                    digits += 1;
                }
                out.push(d);
            }
            ',' if !comma && digits > 0 => {
                comma = true;
                out.push(',');
            }
            '}' if digits > 0 => {
                out.push('}');
                return Some(());
            }
            _ => return None,
        }
    }
}

/// A literal character, escaped when the `regex` crate gives it a meaning.
fn push_literal(out: &mut String, c: char) {
    if regex_syntax_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

fn regex_syntax_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    ) || c.is_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_match(p: &str, s: &str) -> Option<bool> {
        compile_pattern(p, true).map(|r| r.is_match(s))
    }

    fn found(p: &str, s: &str) -> Option<bool> {
        compile_pattern(p, false).map(|r| r.is_match(s))
    }

    #[test]
    fn i_regexp_semantics() {
        assert_eq!(is_match("a.c", "abc"), Some(true));
        assert_eq!(is_match("a.c", "a\nc"), Some(false));
        assert_eq!(is_match("a.c", "a\rc"), Some(false));
        assert_eq!(is_match("ab", "xab"), Some(false));
        assert_eq!(found("ab", "xaby"), Some(true));
        assert_eq!(is_match("^a$", "^a$"), Some(true), "^ and $ are literal");
        assert_eq!(is_match("[a-c]+", "abcab"), Some(true));
        assert_eq!(is_match("[^a-c]", "d"), Some(true));
        assert_eq!(
            is_match("[a&&b]+", "a&&b"),
            Some(true),
            "no class set operators"
        );
        assert_eq!(is_match("[-a]", "-"), Some(true));
        assert_eq!(is_match("[a-]", "-"), Some(true));
        assert_eq!(is_match(r"\p{Lu}\p{Ll}*", "Hello"), Some(true));
        assert_eq!(is_match(r"\P{L}", "1"), Some(true));
        assert_eq!(is_match("a{2,3}", "aaa"), Some(true));
        assert_eq!(is_match("a{2,}", "aaaaa"), Some(true));
        assert_eq!(is_match("(ab|cd)*", "abcdab"), Some(true));
        assert_eq!(is_match(r"\.\*", ".*"), Some(true));
        assert_eq!(is_match("a b#c", "a b#c"), Some(true));
    }

    #[test]
    fn what_is_not_i_regexp_is_refused() {
        for p in [
            r"\d",
            r"\w+",
            "(?i)a",
            "a*?",
            "a**",
            "*a",
            "a{",
            "a{,2}",
            "a}",
            "]",
            "[a",
            "[[a]]",
            "[a-]b]",
            r"\p{Foo}",
            r"\p{Cs}x{",
            r"\b",
            "(?:a)",
            "a{2,3",
        ] {
            assert!(compile_pattern(p, true).is_none(), "{p}");
        }
    }

    #[test]
    fn huge_programs_are_refused_quickly() {
        let t0 = std::time::Instant::now();
        assert!(compile_pattern("((a{100}){100}){100}", true).is_none());
        assert!(t0.elapsed() < std::time::Duration::from_secs(1));
    }
}
