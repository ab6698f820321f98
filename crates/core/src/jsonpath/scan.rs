//! The checks that run before parsing: a single linear pass over the text that measures its
//! length and how deeply brackets and parentheses nest (string literals skipped). The parser is
//! recursive descent, one level per bracket or parenthesis, so bounding the nesting here, without
//! recursion, is what keeps any input from overflowing the stack.

use super::{Limits, ParseError};

/// Refuses `src` when it is longer or nests deeper than `limits` allow.
pub fn check(src: &str, limits: &Limits) -> Result<(), ParseError> {
    // Every char is at least one byte: a short text is within the limit without counting.
    if src.len() > limits.max_chars {
        let got = src.chars().count();
        if got > limits.max_chars {
            return Err(ParseError::TooLong {
                max: limits.max_chars,
                got,
            });
        }
    }
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in src.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => {
                    depth += 1;
                    if depth > limits.max_nesting {
                        return Err(ParseError::TooDeep {
                            max: limits.max_nesting,
                        });
                    }
                }
                ']' | ')' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_chars: 50,
        max_nesting: 3,
    };

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        assert!(check("$[?(@.a[0])]", &LIMITS).is_ok());
        assert!(matches!(
            check("$[?(@.a[(0)])]", &LIMITS),
            Err(ParseError::TooDeep { max: 3 })
        ));
        assert!(check("$['[[[[[[']", &LIMITS).is_ok());
        assert!(check(r#"$["\"[[[[["]"#, &LIMITS).is_ok());
        assert!(
            check("$]]]]][[[", &LIMITS).is_ok(),
            "closing first never underflows"
        );
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check(&format!("$.{}", "é".repeat(48)), &LIMITS).is_ok());
        assert!(matches!(
            check(&format!("$.{}", "a".repeat(49)), &LIMITS),
            Err(ParseError::TooLong { max: 50, got: 51 })
        ));
    }

    #[test]
    fn the_crash_reproductions_are_refused_in_linear_time() {
        let limits = Limits::default();
        let parens = format!("$[?{}@.a==1{}]", "(".repeat(1000), ")".repeat(1000));
        assert!(matches!(
            check(
                &parens,
                &Limits {
                    max_chars: 1 << 20,
                    ..limits
                }
            ),
            Err(ParseError::TooDeep { .. })
        ));
        let filters = format!("${}{}", "[?@".repeat(200), "]".repeat(200));
        assert!(matches!(
            check(&filters, &limits),
            Err(ParseError::TooDeep { .. })
        ));
    }
}
