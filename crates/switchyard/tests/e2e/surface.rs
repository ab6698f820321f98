//! The API surface as a whole: every route in the OpenAPI document enforces exactly the scope it
//! declares, requests no route serves are denied by default and answered in their surface's
//! dialect, and the metrics scope is server-wide.

use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// `/a/{id}/b` with every path parameter filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// A scope that neither is nor implies `needed`.
fn other_scope(needed: &str) -> &'static str {
    if needed == "triggers:read" {
        "targets:read"
    } else {
        "triggers:read"
    }
}

#[tokio::test]
async fn every_documented_route_enforces_its_declared_scope() {
    let s = TestServer::start().await;
    let (st, doc) = s.anon(Method::GET, "/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let scope = op["x-switchyard-scope"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no declared scope"));
            let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let url = concrete(path);
            let body = (m != Method::GET && m != Method::DELETE).then(|| json!({}));
            let (st, answer) = s.anon(m.clone(), &url, body.clone()).await;
            if scope == "public" {
                assert_ne!(st, StatusCode::UNAUTHORIZED, "{method} {path}: {answer}");
                checked += 1;
                continue;
            }
            assert_eq!(st, StatusCode::UNAUTHORIZED, "{method} {path}: {answer}");
            let wrong = s.token(other_scope(scope));
            let (st, answer) = s.call_as(Some(&wrong), m.clone(), &url, body.clone()).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
            assert!(
                answer.to_string().contains(&format!("'{scope}'")),
                "{method} {path}: {answer}"
            );
            let right = s.token(scope);
            let (st, answer) = s.call_as(Some(&right), m, &url, body).await;
            assert!(
                st != StatusCode::UNAUTHORIZED && st != StatusCode::FORBIDDEN,
                "{method} {path} with {scope}: {st} {answer}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 72, "only {checked} operations documented");
}

/// The not-found (or 405) shape of each surface.
fn assert_shape(what: &str, st: StatusCode, body: &Value, status: u16, dialect: &str) {
    assert_eq!(st.as_u16(), status, "{what}: {body}");
    match dialect {
        "connect" | "native" => {
            let code = if status == 404 {
                "not_found"
            } else {
                "unimplemented"
            };
            assert_eq!(body["code"], code, "{what}: {body}");
            assert!(body["message"].is_string(), "{what}: {body}");
        }
        "rest" => {
            let code = if status == 404 { 5 } else { 12 };
            assert_eq!(body["code"], code, "{what}: {body}");
            assert_eq!(body["details"], json!([]), "{what}: {body}");
        }
        "sailpoint" => {
            assert!(
                body["detailCode"]
                    .as_str()
                    .unwrap()
                    .starts_with(&status.to_string()),
                "{what}: {body}"
            );
            assert!(body["trackingId"].is_string(), "{what}: {body}");
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn unrouted_requests_are_denied_by_default_then_answered_in_their_dialect() {
    let s = TestServer::start().await;
    let unknown = [
        ("/zitadel.action.v2.ActionService/DropEverything", "connect"),
        ("/zitadel.user.v2.UserService/GetUser", "connect"),
        ("/v2/actions/nothing", "rest"),
        ("/resources/v3alpha/actions/nothing", "rest"),
        ("/triggers/v1/nothing", "sailpoint"),
        ("/beta/nothing", "sailpoint"),
        ("/v1/nothing", "native"),
        ("/nothing", "native"),
    ];
    let reader = s.token("targets:read");
    for (path, dialect) in unknown {
        let (st, _) = s.anon(Method::POST, path, Some(json!({}))).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}");
        let (st, body) = s
            .call_as(Some(&reader), Method::POST, path, Some(json!({})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{path}: {body}");
        let (st, body) = s.post(path, json!({})).await;
        assert_shape(path, st, &body, 404, dialect);
    }
    let wrong_method = [
        (Method::DELETE, "/v2/actions/executions", "rest", "PUT"),
        (
            Method::GET,
            "/zitadel.action.v2.ActionService/ListTargets",
            "connect",
            "POST",
        ),
        (
            Method::DELETE,
            "/trigger-subscriptions/v1",
            "sailpoint",
            "GET",
        ),
        (Method::DELETE, "/v1/events", "native", "POST"),
    ];
    for (m, path, dialect, allowed) in wrong_method {
        assert_eq!(
            s.anon(m.clone(), path, None).await.0,
            StatusCode::UNAUTHORIZED,
            "{m} {path}"
        );
        let resp = s.send_as(Some(&s.admin_token), m.clone(), path, None).await;
        let allow = resp.headers()["allow"].to_str().unwrap().to_string();
        assert!(allow.contains(allowed), "{m} {path}: Allow {allow}");
        let (st, body) = crate::support::read(resp).await;
        assert_shape(&format!("{m} {path}"), st, &body, 405, dialect);
    }
}

#[tokio::test]
async fn metrics_need_the_server_wide_scope_from_the_cli() {
    let s = TestServer::start().await;
    let dir = s.data_dir.to_str().unwrap();
    let token = crate::auth::cli(&["token", "--data-dir", dir, "--scopes", "metrics:read"]);
    let resp = s.send_as(Some(&token), Method::GET, "/metrics", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(resp.text().await.unwrap().contains("switchyard_"));
    // The scraper's token reads nothing else.
    let (st, _) = s
        .call_as(Some(&token), Method::GET, "/trigger-subscriptions/v1", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // An instance's admin does not see every instance's counters.
    let (st, body) = s
        .call_as(
            Some(&s.token_for("acme", "admin")),
            Method::GET,
            "/metrics",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("'metrics:read'"));
}
