//! Contract tests for re-sealing secrets at rest (`switchyard rotate-master-key`): every signing
//! key and every sealed subscription field is rewritten in one transaction, all or nothing.

use crate::catalog::{inst, key, sub, target};
use std::sync::Arc;
use switchyard_core::Timestamp;
use switchyard_store::keys::SealedKey;
use switchyard_store::Store;

crate::contract!(reseal_rewrites_every_secret_or_none);

/// `v1:…` becomes `v2:…`; anything else is already current.
fn to_v2(sealed: &str) -> Result<Option<String>, String> {
    Ok(sealed.strip_prefix("v1:").map(|rest| format!("v2:{rest}")))
}

fn sealed(keys: &[SealedKey]) -> Vec<&str> {
    keys.iter().map(|k| k.sealed.as_str()).collect()
}

async fn bearer_token(s: &Arc<dyn Store>, id: &str) -> String {
    let doc = serde_json::to_value(s.subscription(&inst("a"), id).await.unwrap().to_doc()).unwrap();
    doc.pointer("/httpConfig/bearerTokenAuthConfig/bearerToken")
        .and_then(|v| v.as_str())
        .unwrap()
        .to_string()
}

pub async fn reseal_rewrites_every_secret_or_none(s: Arc<dyn Store>) {
    let (a, now) = (inst("a"), Timestamp(10));
    s.create_target(&a, "t1", &target("one", false), &key("k1", 1), now)
        .await
        .unwrap();
    s.create_subscription(
        &a,
        &sub("s1", "idn:identity-created"),
        5,
        &key("k2", 2),
        now,
    )
    .await
    .unwrap();

    // A value that cannot be opened aborts the whole run: nothing changes.
    let refuse = |v: &str| -> Result<Option<String>, String> {
        if v == "v1:k:sealed" {
            Err("cannot open".into())
        } else {
            to_v2(v)
        }
    };
    assert!(s.reseal_secrets(&refuse).await.is_err());
    let keys = s.target_signing_keys(&a, "t1", now).await.unwrap();
    assert_eq!(sealed(&keys), ["v1:k:k1"]);

    // Two signing keys and the subscription's bearer token.
    assert_eq!(s.reseal_secrets(&to_v2).await.unwrap(), 3);
    let keys = s.target_signing_keys(&a, "t1", now).await.unwrap();
    assert_eq!(sealed(&keys), ["v2:k:k1"]);
    let keys = s.subscription_keys(&a, "s1", now).await.unwrap();
    assert_eq!(sealed(&keys), ["v2:k:k2"]);
    assert_eq!(bearer_token(&s, "s1").await, "v2:k:sealed");
    assert_eq!(
        s.reseal_secrets(&to_v2).await.unwrap(),
        0,
        "all current now"
    );
}
