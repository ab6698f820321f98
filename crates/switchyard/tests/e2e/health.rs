//! Health, readiness, OpenAPI and the generic error paths.

use crate::support::TestServer;
use reqwest::StatusCode;

#[tokio::test]
async fn health_ready_and_openapi() {
    let s = TestServer::start().await;
    let (st, body) = s.get("/healthz").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (st, body) = s.get("/readyz").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["status"], "ready");
    let (st, doc) = s.get("/openapi.json").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/healthz"]["get"].is_object());
    assert!(doc["paths"]["/readyz"]["get"].is_object());
}

#[tokio::test]
async fn data_dir_has_private_master_key_and_database() {
    let s = TestServer::start().await;
    let key = s.data_dir.join("master.key");
    assert!(s.data_dir.join("switchyard.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[tokio::test]
async fn unknown_route_is_404() {
    let s = TestServer::start().await;
    let (st, _) = s.get("/no/such/route").await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}
