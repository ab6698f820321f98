//! JSON Patch (RFC 6902) of a subscription. Only SailPoint's patchable top-level fields may be
//! touched; the patch runs against the full stored document (secrets included, so a patch can
//! set a password) on a copy, and the caller validates the whole result like a PUT, so a patch
//! that fails at any point changes nothing. A patch is bounded: at most
//! [`MAX_OPERATIONS`] operations, applied one at a time with the document's size checked after
//! each, so `copy` and `add` cannot grow it (doubling per `copy`) past a small multiple of
//! [`MAX_DOCUMENT_BYTES`].

use super::subscription::{Subscription, SubscriptionDoc};
use crate::payload::fits_in;
use crate::ValidationError;
use json_patch::{Patch, PatchOperation};
use serde_json::Value;

/// The fields upstream allows a patch to touch.
pub const PATCHABLE: &[&str] = &[
    "name",
    "description",
    "enabled",
    "type",
    "filter",
    "responseDeadline",
    "httpConfig",
    "eventBridgeConfig",
    "workflowConfig",
];

/// Most operations in one patch (the SDKs send a handful).
pub const MAX_OPERATIONS: usize = 64;
/// Largest patched document, in bytes of compact JSON: about three times the largest valid
/// subscription (bounded name, description, filter, URL and secrets).
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;

/// The first reference token of a JSON Pointer, unescaped (`/httpConfig/url` → `httpConfig`).
fn top_field(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix('/')?;
    let first = rest.split('/').next().unwrap_or("");
    Some(first.replace("~1", "/").replace("~0", "~"))
}

fn check_pointer(index: usize, what: &str, pointer: &str) -> Result<(), ValidationError> {
    match top_field(pointer) {
        Some(f) if PATCHABLE.contains(&f.as_str()) => Ok(()),
        _ => Err(ValidationError::new(
            format!("[{index}].{what}"),
            format!(
                "'{pointer}' cannot be patched; patchable fields: {}",
                PATCHABLE.join(", ")
            ),
        )),
    }
}

/// Parses a patch body (a JSON array of operations) and checks every path against
/// [`PATCHABLE`].
pub fn parse(body: Value) -> Result<Patch, ValidationError> {
    if !body.is_array() {
        return Err(ValidationError::new(
            "body",
            "must be a JSON Patch array of operations",
        ));
    }
    let patch: Patch = serde_json::from_value(body)
        .map_err(|e| ValidationError::new("body", format!("is not a valid JSON Patch: {e}")))?;
    if patch.0.is_empty() {
        return Err(ValidationError::new(
            "body",
            "must contain at least one operation",
        ));
    }
    if patch.0.len() > MAX_OPERATIONS {
        return Err(ValidationError::new(
            "body",
            format!(
                "the patch operation limit is {MAX_OPERATIONS} operations (got {})",
                patch.0.len()
            ),
        ));
    }
    for (i, op) in patch.0.iter().enumerate() {
        check_pointer(i, "path", op.path().as_str())?;
        match op {
            PatchOperation::Move(m) => check_pointer(i, "from", m.from.as_str())?,
            PatchOperation::Copy(c) => check_pointer(i, "from", c.from.as_str())?,
            _ => {}
        }
    }
    Ok(patch)
}

/// Applies `patch` to `current`'s full document, one operation at a time, and returns the
/// resulting document, or the reason it failed. `current` is never modified.
pub fn apply(current: &Subscription, patch: &Patch) -> Result<SubscriptionDoc, ValidationError> {
    let mut doc = serde_json::to_value(current.to_doc())
        .map_err(|e| ValidationError::new("body", format!("cannot be applied: {e}")))?;
    for (i, op) in patch.0.iter().enumerate() {
        json_patch::patch(&mut doc, std::slice::from_ref(op)).map_err(|e| {
            ValidationError::new(
                format!("[{i}]"),
                format!("operation failed at '{}': {}", e.path, e.kind),
            )
        })?;
        if !fits_in(&doc, MAX_DOCUMENT_BYTES) {
            return Err(ValidationError::new(
                format!("[{i}]"),
                format!("the patched document size limit is {MAX_DOCUMENT_BYTES} bytes"),
            ));
        }
    }
    serde_json::from_value(doc).map_err(|e| {
        ValidationError::new("body", format!("the patched subscription is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sub() -> Subscription {
        let d: SubscriptionDoc = serde_json::from_value(
            json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x"}}),
        )
        .unwrap();
        Subscription::from_doc("s", "t", &d).unwrap()
    }

    fn run(ops: Value) -> Result<Subscription, ValidationError> {
        let s = sub();
        let p = parse(ops)?;
        let d = apply(&s, &p)?;
        Subscription::from_doc("s", "t", &d)
    }

    #[test]
    fn every_op_works() {
        assert_eq!(
            run(json!([{"op": "replace", "path": "/name", "value": "m"}]))
                .unwrap()
                .name,
            "m"
        );
        assert_eq!(
            run(json!([{"op": "add", "path": "/description", "value": "d"}]))
                .unwrap()
                .description
                .as_deref(),
            Some("d")
        );
        assert_eq!(run(json!([{"op": "add", "path": "/filter", "value": "$.a"}, {"op": "remove", "path": "/filter"}])).unwrap().filter, None);
        assert_eq!(
            run(json!([{"op": "copy", "from": "/name", "path": "/description"}]))
                .unwrap()
                .description
                .as_deref(),
            Some("n")
        );
        let s = run(json!([{"op": "add", "path": "/description", "value": "d"}, {"op": "move", "from": "/description", "path": "/name"}])).unwrap();
        assert_eq!((s.name.as_str(), s.description), ("d", None));
        assert!(!run(json!([{"op": "test", "path": "/name", "value": "n"}, {"op": "replace", "path": "/enabled", "value": false}])).unwrap().enabled);
    }

    #[test]
    fn failures_name_the_problem() {
        assert_eq!(
            run(json!([{"op": "replace", "path": "/id", "value": "x"}]))
                .unwrap_err()
                .field,
            "[0].path"
        );
        assert_eq!(
            run(json!([{"op": "replace", "path": "/triggerId", "value": "x"}]))
                .unwrap_err()
                .field,
            "[0].path"
        );
        assert_eq!(
            run(json!([{"op": "copy", "from": "/id", "path": "/name"}]))
                .unwrap_err()
                .field,
            "[0].from"
        );
        assert_eq!(
            run(json!([{"op": "replace", "path": "", "value": {}}]))
                .unwrap_err()
                .field,
            "[0].path"
        );
        let e = run(json!([{"op": "replace", "path": "/name", "value": "m"}, {"op": "test", "path": "/name", "value": "zz"}])).unwrap_err();
        assert_eq!(e.field, "[1]");
        assert_eq!(
            run(json!([{"op": "explode", "path": "/name"}]))
                .unwrap_err()
                .field,
            "body"
        );
        assert_eq!(run(json!({"op": "replace"})).unwrap_err().field, "body");
        assert_eq!(run(json!([])).unwrap_err().field, "body");
        assert_eq!(
            run(json!([{"op": "replace", "path": "/name", "value": 5}]))
                .unwrap_err()
                .field,
            "body"
        );
        assert_eq!(
            run(json!([{"op": "add", "path": "/httpConfig/bogus", "value": 5}]))
                .unwrap_err()
                .field,
            "body"
        );
        assert_eq!(
            run(json!([{"op": "replace", "path": "/responseDeadline", "value": "P9D"}]))
                .unwrap_err()
                .field,
            "responseDeadline"
        );
    }

    #[test]
    fn a_doubling_patch_stops_at_the_document_limit() {
        let ops: Vec<Value> = (0..22)
            .map(|i| json!({"op": "copy", "from": "/httpConfig", "path": format!("/httpConfig/c{i}")}))
            .collect();
        let e = run(Value::Array(ops)).unwrap_err();
        assert!(e.rule.contains("document size limit is 32768 bytes"), "{e}");
        let i: usize = e.field.trim_matches(['[', ']']).parse().unwrap();
        assert!(i < 12, "stopped only at operation {i}");
        let many: Vec<Value> = (0..65)
            .map(|_| json!({"op": "test", "path": "/name", "value": "n"}))
            .collect();
        let e = run(Value::Array(many)).unwrap_err();
        assert!(e.rule.contains("operation limit is 64"), "{e}");
        let big = json!([{"op": "replace", "path": "/description", "value": "x".repeat(40_000)}]);
        assert!(run(big).unwrap_err().rule.contains("size limit"));
    }
}
