//! `switchyard rotate-master-key`: every secret stays readable through the API afterwards, none
//! is left sealed with the old key, and a running server's data directory is refused.

use crate::support::TestServer;
use serde_json::{json, Value};
use std::process::Command;

fn rotate(dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["rotate-master-key", "--data-dir"])
        .arg(dir)
        .env_remove("SWITCHYARD_DATABASE_URL")
        .output()
        .expect("runs")
}

fn key_ids(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("master.key"))
        .unwrap()
        .lines()
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

/// All bytes of the database files, WAL included.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    ["switchyard.db", "switchyard.db-wal"]
        .iter()
        .filter_map(|f| std::fs::read(dir.join(f)).ok())
        .flatten()
        .collect()
}

#[tokio::test]
async fn rotation_reseals_every_secret() {
    let s = TestServer::start().await;
    let dir = s.data_dir.clone();
    let (st, target) = s
        .post(
            "/v2/actions/targets",
            json!({"name": "t", "endpoint": "https://example.com/hook", "timeout": "5s", "restWebhook": {}}),
        )
        .await;
    assert_eq!(st, 200, "{target}");
    let target_id = target["id"].as_str().unwrap().to_string();
    let signing_key = target["signingKey"].as_str().unwrap().to_string();
    let (st, sub) = s
        .post(
            "/trigger-subscriptions/v1",
            json!({"name": "s", "triggerId": "idn:source-created", "type": "HTTP",
                   "httpConfig": {"url": "https://example.com/sp", "httpAuthenticationType": "BEARER_TOKEN",
                                  "bearerTokenAuthConfig": {"bearerToken": "tok-7f3e9a"}}}),
        )
        .await;
    assert_eq!(st, 201, "{sub}");
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let (_, secret) = s.get(&format!("/v1/subscriptions/{sub_id}/secret")).await;
    let whsec = secret["secret"].as_str().unwrap().to_string();

    // Refused while the server holds the data directory.
    let busy = rotate(&dir);
    assert!(!busy.status.success());
    assert!(
        String::from_utf8_lossy(&busy.stderr).contains("in use"),
        "{busy:?}"
    );

    let old = key_ids(&dir);
    let kept = s.stop().await;
    let out = rotate(&dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["previousMasterKeyId"], old[0].as_str());
    assert!(last["resealed"].as_u64().unwrap() >= 3, "{last}");
    let new = key_ids(&dir);
    assert_eq!(new.len(), 1, "the old key is gone from the file");
    assert_ne!(new[0], old[0]);
    let bytes = database_bytes(&dir);
    let old_marker = format!("v1:{}:", old[0]);
    assert!(
        !bytes
            .windows(old_marker.len())
            .any(|w| w == old_marker.as_bytes()),
        "a value sealed with the old key is left"
    );

    let s = TestServer::start_in(dir.clone(), |_| {}).await;
    let (st, got) = s.get(&format!("/v2/actions/targets/{target_id}")).await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["target"]["signingKey"], signing_key.as_str(), "{got}");
    let (_, after) = s.get(&format!("/v1/subscriptions/{sub_id}/secret")).await;
    assert_eq!(after["secret"], whsec.as_str());
    drop(kept);
}
