//! Bounds on the JSON documents producers and subscribers hand over: event payloads, invocation
//! inputs and outputs, call payloads. The request body limit bounds bytes on the wire; these
//! bound the document itself, so everything that walks it afterwards (schema validation,
//! filters, signing, delivery to every subscriber) works on a document of known size and depth.
//! Both checks are linear, stop at the limit, and never recurse.

use crate::ValidationError;
use serde_json::Value;
use std::io::Write;

/// Largest and deepest accepted document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLimits {
    /// Serialized (compact JSON) size in bytes.
    pub max_bytes: usize,
    /// Nesting of arrays and objects; a scalar is depth 0, `{}` depth 1.
    pub max_depth: usize,
}

impl Default for PayloadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 512 * 1024,
            max_depth: 64,
        }
    }
}

impl PayloadLimits {
    /// Refuses `value` (reported as `field`) when it is too deep or too large, naming the limit.
    pub fn check(&self, field: &str, value: &Value) -> Result<(), ValidationError> {
        let depth = depth_up_to(value, self.max_depth + 1);
        if depth > self.max_depth {
            return Err(ValidationError::new(
                field,
                format!(
                    "the payload depth limit is {} levels of nesting",
                    self.max_depth
                ),
            ));
        }
        if !fits_in(value, self.max_bytes) {
            return Err(ValidationError::new(
                field,
                format!("the payload size limit is {} bytes", self.max_bytes),
            ));
        }
        Ok(())
    }
}

/// True when `value` serializes (compact) to at most `max_bytes`; stops counting at the limit.
pub fn fits_in(value: &Value, max_bytes: usize) -> bool {
    let mut counter = Counter { left: max_bytes };
    serde_json::to_writer(&mut counter, value).is_ok()
}

/// The nesting depth of `v`, counting no further than `cap`.
fn depth_up_to(v: &Value, cap: usize) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        let d = d + 1;
        deepest = deepest.max(d);
        if deepest >= cap {
            return deepest;
        }
        stack.extend(children.map(|c| (c, d)));
    }
    deepest
}

/// A writer that only counts, failing once more than `left` bytes were written.
struct Counter {
    left: usize,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.left = self
            .left
            .checked_sub(buf.len())
            .ok_or_else(|| std::io::Error::other("size limit"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let limits = PayloadLimits {
            max_bytes: 20,
            max_depth: 3,
        };
        assert!(limits.check("payload", &nested(3)).is_ok());
        let e = limits.check("payload", &nested(4)).unwrap_err();
        assert_eq!(e.field, "payload");
        assert!(e.rule.contains("depth limit is 3"), "{e}");
        assert!(limits.check("input", &json!({"a": "x".repeat(12)})).is_ok());
        let e = limits
            .check("input", &json!({"a": "x".repeat(13)}))
            .unwrap_err();
        assert!(e.rule.contains("size limit is 20 bytes"), "{e}");
        assert!(limits.check("p", &json!([[], [[]], {"a": [1]}])).is_ok());
        assert!(limits.check("p", &json!([[], [[[]]]])).is_err());
    }

    #[test]
    fn scalars_have_depth_zero() {
        assert_eq!(depth_up_to(&json!(1), 10), 0);
        assert_eq!(depth_up_to(&json!([]), 10), 1);
        assert_eq!(depth_up_to(&nested(100), 10), 10);
    }
}
