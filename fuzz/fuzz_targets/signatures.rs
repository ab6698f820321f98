//! Signature headers: `ZITADEL-Signature` (`t=<ts>,v1=<hex>`) as a receiver verifies it, and
//! Standard Webhooks secrets (`whsec_<base64>`). Input: `<header>\n<key>\n<body>`. Nothing may
//! panic; what Switchyard signs verifies with the same key and body, and not with another body.

#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard_core::signing::{
    standard_webhooks_signature, verify_zitadel_signature, webhook_secret_bytes, zitadel_signature,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = s.splitn(3, '\n');
    let (header, key, body) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("").as_bytes(),
    );
    let now = 1_700_000_000;
    let _ = verify_zitadel_signature(header, key, body, now, 300);
    let signed = zitadel_signature(&[key], now, body);
    assert!(verify_zitadel_signature(&signed, key, body, now, 300));
    let mut other = body.to_vec();
    other.push(b'!');
    assert!(!verify_zitadel_signature(&signed, key, &other, now, 300));
    if let Some(bytes) = webhook_secret_bytes(key) {
        let sig = standard_webhooks_signature(&[bytes], header, now, body);
        assert!(sig.starts_with("v1,"));
    }
});
