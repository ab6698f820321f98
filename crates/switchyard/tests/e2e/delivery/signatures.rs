//! Signature checks written here from the specifications, independently of the server's
//! `switchyard_core::signing`, so a bug there cannot hide itself: Standard Webhooks (HMAC-SHA256
//! over `{id}.{timestamp}.{body}`, base64, key = base64-decoded part after `whsec_`) and ZITADEL
//! (`t=<ts>,v1=<hex HMAC-SHA256(key, "<ts>.<body>")>`, one `v1` per valid key). Subscription
//! secrets have no read endpoint yet, so they are read from the store and opened with the data
//! directory's master key.

use super::receiver::Recorded;
use crate::support::TestServer;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::{SailPointStore, SqliteStore};

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// For each signature in the header, in order, which of `secrets` (`whsec_...`) produced it
/// (`None`: no secret did). Panics if the headers are malformed or the timestamp is off by more
/// than the 5 minutes verifiers tolerate.
pub fn standard_webhooks_signers(req: &Recorded, secrets: &[&str]) -> Vec<Option<usize>> {
    let id = req.header("webhook-id");
    let ts = req.header("webhook-timestamp");
    assert!(!id.is_empty(), "webhook-id missing: {:?}", req.headers);
    let ts_n: i64 = ts
        .parse()
        .unwrap_or_else(|_| panic!("webhook-timestamp '{ts}' is not unix seconds"));
    assert!(
        (now_secs() - ts_n).abs() <= 300,
        "timestamp {ts_n} too far from now"
    );
    let mut signed = format!("{id}.{ts}.").into_bytes();
    signed.extend_from_slice(&req.body);
    let mut signers = Vec::new();
    for entry in req.header("webhook-signature").split(' ') {
        let (version, sig) = entry
            .split_once(',')
            .unwrap_or_else(|| panic!("signature entry '{entry}' is not 'v1,<b64>'"));
        assert_eq!(version, "v1", "only v1 (HMAC) signatures are expected");
        let sig = STANDARD.decode(sig).expect("signature is base64");
        let found = secrets.iter().position(|s| {
            let key = STANDARD
                .decode(s.strip_prefix("whsec_").expect("secret starts with whsec_"))
                .expect("secret is base64");
            hmac_sha256(&key, &signed) == sig
        });
        signers.push(found);
    }
    signers
}

/// The `ZITADEL-Signature` header split into its timestamp and `v1` values.
pub fn zitadel_parts(req: &Recorded) -> (String, Vec<String>) {
    let header = req.header("zitadel-signature");
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1.push(v.to_string()),
            _ => panic!("unexpected part '{part}' in ZITADEL-Signature '{header}'"),
        }
    }
    let t = t.unwrap_or_else(|| panic!("no t= in ZITADEL-Signature '{header}'"));
    let ts: i64 = t.parse().expect("t is unix seconds");
    assert!((now_secs() - ts).abs() <= 300, "t={ts} too far from now");
    (t, v1)
}

/// Whether one of the `v1` values of `req` is the HMAC of `"<t>.<body>"` with `key`.
pub fn zitadel_verifies(req: &Recorded, key: &str) -> bool {
    let (t, v1) = zitadel_parts(req);
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&req.body);
    let expected = hex::encode(hmac_sha256(key.as_bytes(), &signed));
    v1.contains(&expected)
}

/// The current `whsec_` secret of a subscription, read from the store and opened with the
/// master key of the server's data directory.
pub async fn subscription_secret(s: &TestServer, id: &str) -> String {
    let data = switchyard::data_dir::DataDir::open(&s.data_dir).unwrap();
    let store = SqliteStore::open(&data.database_path()).await.unwrap();
    let now = Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let keys = store
        .subscription_keys(&InstanceId::default_instance(), id, now)
        .await
        .unwrap();
    let current = keys
        .iter()
        .find(|k| k.expires_at.is_none())
        .expect("a current key");
    let secret = data.master_key.open_str(&current.sealed).unwrap();
    assert!(
        secret.starts_with("whsec_"),
        "stored secret has the whsec_ form"
    );
    secret
}
