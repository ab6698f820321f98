//! JSON Patch of a subscription with the patchable-field rules. Input: a JSON Patch document.
//! Nothing may panic; a patch that applies yields a document within the size limit, and a
//! result that validates round-trips through the stored form.

#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use switchyard_core::payload::fits_in;
use switchyard_core::sailpoint::patch::{self, MAX_DOCUMENT_BYTES};
use switchyard_core::sailpoint::{Subscription, SubscriptionDoc};

fn subscription() -> Subscription {
    let doc: SubscriptionDoc = serde_json::from_value(json!({
        "name": "n", "description": "d", "type": "HTTP", "filter": "$.a",
        "httpConfig": {"url": "https://example.com/h", "httpAuthenticationType": "BASIC_AUTH",
                       "basicAuthConfig": {"userName": "u", "password": "p"}}
    }))
    .expect("valid document");
    Subscription::from_doc("s", "idn:identity-created", &doc).expect("valid subscription")
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(ops) = patch::parse(body) else {
        return;
    };
    let current = subscription();
    let Ok(doc) = patch::apply(&current, &ops) else {
        return;
    };
    let value = serde_json::to_value(&doc).expect("serializable");
    assert!(fits_in(&value, 2 * MAX_DOCUMENT_BYTES));
    if let Ok(sub) = Subscription::from_doc("s", "idn:identity-created", &doc) {
        let again = Subscription::from_doc("s", "idn:identity-created", &sub.to_doc())
            .expect("a valid subscription's document is valid");
        assert_eq!(sub, again);
    }
});
