//! Outbound signatures. Subscriptions and native routes are signed the Standard Webhooks way
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`); ZITADEL targets get
//! `ZITADEL-Signature: t=<ts>,v1=<hex>`. During a rotation grace period every valid key signs,
//! so a receiver that knows either key accepts the request.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Prefix of Standard Webhooks secrets.
pub const WHSEC_PREFIX: &str = "whsec_";

/// A fresh Standard Webhooks secret: `whsec_` + base64 of 32 random bytes.
pub fn new_webhook_secret() -> String {
    format!(
        "{WHSEC_PREFIX}{}",
        STANDARD.encode(crate::crypto::random_bytes(32))
    )
}

/// The HMAC key bytes of a `whsec_...` secret.
pub fn webhook_secret_bytes(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(WHSEC_PREFIX).unwrap_or(secret))
        .ok()
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `webhook-signature` value: `v1,<sig>` per key, space-separated. Keys are raw HMAC key bytes.
pub fn standard_webhooks_signature(
    keys: &[Vec<u8>],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let ts = timestamp.to_string();
    keys.iter()
        .map(|k| {
            let sig = hmac(k, &[msg_id.as_bytes(), b".", ts.as_bytes(), b".", body]);
            format!("v1,{}", STANDARD.encode(sig))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `ZITADEL-Signature` value: `t=<ts>,v1=<hex>` with one `v1` per key.
pub fn zitadel_signature(keys: &[&str], timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    let mut out = format!("t={ts}");
    for k in keys {
        let sig = hmac(k.as_bytes(), &[ts.as_bytes(), b".", body]);
        out.push_str(",v1=");
        out.push_str(&hex::encode(sig));
    }
    out
}

/// Verifies a `ZITADEL-Signature` header against one key, with a timestamp tolerance in seconds.
/// Used by tests and by anyone writing a receiver in Rust.
pub fn verify_zitadel_signature(
    header: &str,
    key: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> bool {
    let mut ts = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => ts = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v),
            _ => {}
        }
    }
    let Some(ts) = ts else { return false };
    if (now - ts).abs() > tolerance {
        return false;
    }
    let expected = hex::encode(hmac(
        key.as_bytes(),
        &[ts.to_string().as_bytes(), b".", body],
    ));
    sigs.iter()
        .any(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_matches_reference_vector() {
        // Test vector from the Standard Webhooks specification's reference libraries.
        let key = webhook_secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = standard_webhooks_signature(
            &[key],
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn every_key_signs_during_rotation() {
        let sig = standard_webhooks_signature(&[b"a".to_vec(), b"b".to_vec()], "id", 1, b"{}");
        assert_eq!(sig.split(' ').count(), 2);
        let z = zitadel_signature(&["k1", "k2"], 100, b"{}");
        assert!(z.starts_with("t=100,v1="));
        assert_eq!(z.matches("v1=").count(), 2);
        assert!(verify_zitadel_signature(&z, "k1", b"{}", 100, 300));
        assert!(verify_zitadel_signature(&z, "k2", b"{}", 100, 300));
        assert!(!verify_zitadel_signature(&z, "k3", b"{}", 100, 300));
        assert!(!verify_zitadel_signature(&z, "k1", b"{} ", 100, 300));
        assert!(!verify_zitadel_signature(&z, "k1", b"{}", 1000, 300));
    }

    #[test]
    fn new_secrets_have_the_prefix_and_32_bytes() {
        let s = new_webhook_secret();
        assert!(s.starts_with("whsec_"));
        assert_eq!(webhook_secret_bytes(&s).unwrap().len(), 32);
    }
}
