//! `GET /triggers/v1` and `/beta/triggers`: catalog shape, paging, filters and sorters.

use super::assert_sp_error;
use crate::support::TestServer;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn catalog_lists_builtins_in_sailpoint_shape() {
    let s = TestServer::start().await;
    let (st, v) = s.get("/triggers/v1").await;
    assert_eq!(st, StatusCode::OK);
    let list = v.as_array().unwrap();
    assert!(list.len() >= 12, "{}", list.len());
    let ids: Vec<&str> = list.iter().map(|t| t["id"].as_str().unwrap()).collect();
    for id in [
        "idn:identity-created",
        "idn:identity-deleted",
        "idn:source-created",
        "idn:access-request-pre-approval",
        "idn:access-request-dynamic-approver",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    for t in list {
        let schema: Value =
            serde_json::from_str(t["inputSchema"].as_str().expect("stringified")).unwrap();
        assert!(schema.is_object());
        assert!(t["exampleInput"].is_object());
        match t["type"].as_str().unwrap() {
            "REQUEST_RESPONSE" => {
                let out: Value = serde_json::from_str(t["outputSchema"].as_str().unwrap()).unwrap();
                assert!(out["required"].is_array());
                assert!(t["exampleOutput"].is_object());
            }
            "FIRE_AND_FORGET" => assert!(t["outputSchema"].is_null()),
            other => panic!("{other}"),
        }
    }
    let (st, beta) = s.get("/beta/triggers").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(beta, v);
}

#[tokio::test]
async fn paging_count_filters_and_sorters() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(s.url("/triggers/v1?limit=2&offset=1&count=true"))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    let total: usize = resp.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let page: Vec<Value> = resp.json().await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(total >= 12);
    let (_, all) = s.get("/triggers/v1").await;
    assert_eq!(page[0]["id"], all[1]["id"]);
    let resp = s.client.get(s.url("/triggers/v1")).send().await.unwrap();
    assert!(resp.headers().get("x-total-count").is_none());

    let (st, v) = s
        .get("/triggers/v1?filters=id%20eq%20%22idn:identity-created%22")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["name"], "Identity Created");

    let (_, v) = s.get("/triggers/v1?sorters=-id").await;
    let ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(ids, sorted);
    let (_, v) = s.get("/triggers/v1?sorters=name").await;
    let names: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    let (_, v) = s.get("/triggers/v1?limit=0").await;
    assert_eq!(v.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bad_collection_parameters_are_400() {
    let s = TestServer::start().await;
    for (q, needle) in [
        ("limit=251", "limit"),
        ("limit=-1", "limit"),
        ("offset=x", "offset"),
        ("count=maybe", "count"),
        ("filters=name%20eq%20%22x%22", "'name'"),
        ("filters=id%20co%20%22x%22", "'co'"),
        ("filters=id%20eq", "expected a value"),
        ("sorters=type", "'type'"),
    ] {
        let (st, v) = s.get(&format!("/triggers/v1?{q}")).await;
        assert_sp_error(st, &v, 400, &[needle]);
    }
}

#[tokio::test]
async fn openapi_documents_every_sailpoint_route() {
    let s = TestServer::start().await;
    let (_, doc) = s.get("/openapi.json").await;
    let paths = &doc["paths"];
    for (path, methods) in [
        ("/triggers/v1", &["get"][..]),
        ("/beta/triggers", &["get"]),
        ("/trigger-subscriptions/v1", &["get", "post"]),
        (
            "/trigger-subscriptions/v1/{id}",
            &["get", "put", "patch", "delete"],
        ),
        ("/trigger-subscriptions/v1/validate-filter", &["post"]),
        ("/beta/trigger-subscriptions", &["get", "post"]),
        (
            "/beta/trigger-subscriptions/{id}",
            &["get", "put", "patch", "delete"],
        ),
        ("/beta/trigger-subscriptions/validate-filter", &["post"]),
        ("/v1/triggers", &["get", "post"]),
        ("/v1/triggers/{id}", &["get", "delete"]),
    ] {
        for m in methods {
            assert!(
                paths[path][m].is_object(),
                "{m} {path} missing from /openapi.json"
            );
        }
    }
}
