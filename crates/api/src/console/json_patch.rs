//! The RFC 6902 operations that turn one JSON document into another, for the console's edit
//! forms: the operator sees exactly the patch the API's `PATCH` will receive before it is sent.
//! `null` and a missing member are the same here (the API writes absent settings as `null`), so
//! setting one is `add`, clearing one is `remove`, changing one is `replace`; objects are
//! compared member by member so an edit touches only what changed.

use serde_json::{json, Value};

/// The operations turning `old` into `new` (both objects; other values are replaced whole).
pub fn diff(old: &Value, new: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    walk("", old, new, &mut ops);
    ops
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn walk(path: &str, old: &Value, new: &Value, ops: &mut Vec<Value>) {
    match (old, new) {
        (Value::Null, Value::Null) => {}
        (Value::Null, v) => ops.push(json!({"op": "add", "path": path, "value": v})),
        (_, Value::Null) => ops.push(json!({"op": "remove", "path": path})),
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                let child = format!("{path}/{}", escape(k));
                walk(&child, a.get(k).unwrap_or(&Value::Null), v, ops);
            }
            for (k, v) in a {
                if !b.contains_key(k) && !v.is_null() {
                    ops.push(json!({"op": "remove", "path": format!("{path}/{}", escape(k))}));
                }
            }
        }
        (a, b) if a == b => {}
        (_, b) => ops.push(json!({"op": "replace", "path": path, "value": b})),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changed_is_patched() {
        let old = json!({"name": "a", "filter": "$.x", "enabled": true,
            "httpConfig": {"url": "http://h/1", "basicAuthConfig": null}, "eventBridgeConfig": null});
        let new = json!({"name": "b", "filter": null, "enabled": true,
            "httpConfig": {"url": "http://h/1", "basicAuthConfig": {"userName": "u"}},
            "eventBridgeConfig": null, "responseDeadline": "PT1H"});
        assert_eq!(
            diff(&old, &new),
            vec![
                json!({"op": "remove", "path": "/filter"}),
                json!({"op": "add", "path": "/httpConfig/basicAuthConfig", "value": {"userName": "u"}}),
                json!({"op": "replace", "path": "/name", "value": "b"}),
                json!({"op": "add", "path": "/responseDeadline", "value": "PT1H"}),
            ]
        );
        assert!(diff(&old, &old).is_empty());
        assert_eq!(
            diff(&json!({"a/b": 1}), &json!({"a/b": 2}))[0]["path"],
            "/a~1b"
        );
    }
}
