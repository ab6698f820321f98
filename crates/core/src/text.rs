//! Rules for the free text tenants give names and descriptions. Control characters (NUL,
//! escape sequences, …) in a name break logs, terminals, CSV exports and HTTP headers, and are
//! never meant, so names refuse them all; descriptions allow line breaks and tabs only.

use crate::ValidationError;

/// A required name: not blank, at most `max_chars`, no control characters.
pub fn check_name(field: &str, s: &str, max_chars: usize) -> Result<(), ValidationError> {
    if s.trim().is_empty() {
        return Err(ValidationError::new(field, "must not be empty or blank"));
    }
    check_chars(field, s, max_chars, |c| c.is_control())
}

/// Free text: at most `max_chars`, no control characters but line breaks and tabs.
pub fn check_description(field: &str, s: &str, max_chars: usize) -> Result<(), ValidationError> {
    check_chars(field, s, max_chars, |c| {
        c.is_control() && !matches!(c, '\n' | '\r' | '\t')
    })
}

fn check_chars(
    field: &str,
    s: &str,
    max_chars: usize,
    forbidden: impl Fn(char) -> bool,
) -> Result<(), ValidationError> {
    let n = s.chars().count();
    if n > max_chars {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max_chars} characters (got {n})"),
        ));
    }
    match s.chars().position(&forbidden) {
        Some(at) => Err(ValidationError::new(
            field,
            format!(
                "must not contain control characters (U+{:04X} at position {at})",
                s.chars().nth(at).map_or(0, u32::from)
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_control_characters() {
        assert!(check_name("name", "hook é ✓", 10).is_ok());
        for bad in ["a\0b", "a\u{1b}[31m", "a\nb", "a\tb", "\u{7f}", "\u{85}x"] {
            let e = check_name("name", bad, 10).unwrap_err();
            assert!(e.rule.contains("control characters"), "{bad:?}: {e}");
        }
        assert!(check_name("name", "  ", 10)
            .unwrap_err()
            .rule
            .contains("blank"));
        assert!(check_name("name", &"é".repeat(11), 10)
            .unwrap_err()
            .rule
            .contains("at most 10"));
    }

    #[test]
    fn descriptions_allow_line_breaks_only() {
        assert!(check_description("d", "line 1\r\nline 2\tend", 100).is_ok());
        assert!(check_description("d", "", 100).is_ok());
        assert!(check_description("d", "nul\0", 100).is_err());
        assert!(check_description("d", "bell\u{7}", 100).is_err());
    }
}
