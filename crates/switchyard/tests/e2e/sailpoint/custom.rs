//! Custom triggers (`/v1/triggers`, native dialect): registration rules, visibility per
//! instance in `/triggers/v1`, subscriptions to them, and deletion guarded by subscriptions.

use super::{assert_sp_error, create, http_sub, SUBS};
use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn order_created() -> Value {
    json!({
        "id": "acme:order-created",
        "name": "Order Created",
        "type": "FIRE_AND_FORGET",
        "description": "An order was placed.",
        "inputSchema": {"type": "object", "required": ["orderId"], "properties": {"orderId": {"type": "string"}}},
        "exampleInput": {"orderId": "o-1"},
    })
}

fn assert_native(st: StatusCode, v: &Value, status: u16, code: &str, needle: &str) {
    assert_eq!(st.as_u16(), status, "{v}");
    assert_eq!(v["code"], code, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains(needle),
        "'{needle}' not in {v}"
    );
}

#[tokio::test]
async fn register_list_get_subscribe_delete() {
    let s = TestServer::start().await;
    let (st, v) = s.post("/v1/triggers", order_created()).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["id"], "acme:order-created");
    assert_eq!(v["builtIn"], false);
    let (st, v) = s.post("/v1/triggers", order_created()).await;
    assert_native(st, &v, 409, "already_exists", "acme:order-created");

    let (_, list) = s.get("/v1/triggers").await;
    assert_eq!(list["triggers"].as_array().unwrap().len(), 1);
    let (st, one) = s.get("/v1/triggers/acme:order-created").await;
    assert_eq!(
        (st, one["name"].as_str()),
        (StatusCode::OK, Some("Order Created"))
    );
    let (st, v) = s.get("/v1/triggers/acme:nope").await;
    assert_native(st, &v, 404, "not_found", "acme:nope");

    // Visible in the SailPoint catalog of this instance only, schema stringified.
    let (_, v) = s
        .get("/triggers/v1?filters=id%20eq%20%22acme:order-created%22")
        .await;
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(v[0]["inputSchema"].as_str().unwrap().contains("orderId"));
    let (_, v) = s
        .get("/triggers/v1?filters=id%20eq%20%22acme:order-created%22&instance.id=other")
        .await;
    assert_eq!(v, json!([]));
    let (st, v) = s
        .post(
            &format!("{SUBS}?instance.id=other"),
            http_sub("acme:order-created"),
        )
        .await;
    assert_sp_error(st, &v, 400, &["acme:order-created"]);

    let sub = create(&s, http_sub("acme:order-created")).await;
    assert_eq!(sub["triggerName"], "Order Created");
    let (st, v) = s
        .call(Method::DELETE, "/v1/triggers/acme:order-created", None)
        .await;
    assert_native(st, &v, 409, "aborted", "subscription");
    s.call(
        Method::DELETE,
        &format!("{SUBS}/{}", sub["id"].as_str().unwrap()),
        None,
    )
    .await;
    let (st, _) = s
        .call(Method::DELETE, "/v1/triggers/acme:order-created", None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .call(Method::DELETE, "/v1/triggers/acme:order-created", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, v) = s
        .call(Method::DELETE, "/v1/triggers/idn:identity-created", None)
        .await;
    assert_native(st, &v, 400, "invalid_argument", "built-in");
}

#[tokio::test]
async fn request_response_custom_trigger_has_limit_one() {
    let s = TestServer::start().await;
    let def = json!({
        "id": "acme:approve-order", "name": "Approve Order", "type": "REQUEST_RESPONSE",
        "inputSchema": "{\"type\":\"object\",\"required\":[\"orderId\"]}",
        "exampleInput": {"orderId": "o-1"},
        "outputSchema": {"type": "object", "required": ["approved"], "properties": {"approved": {"type": "boolean"}}},
        "exampleOutput": {"approved": true},
    });
    let (st, v) = s.post("/v1/triggers", def).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (_, v) = s
        .get("/triggers/v1?filters=id%20eq%20%22acme:approve-order%22")
        .await;
    assert_eq!(v[0]["type"], "REQUEST_RESPONSE");
    assert!(v[0]["outputSchema"].as_str().unwrap().contains("approved"));
    create(&s, http_sub("acme:approve-order")).await;
    let (st, v) = s.post(SUBS, http_sub("acme:approve-order")).await;
    assert_sp_error(st, &v, 400, &["at most 1"]);
}

#[tokio::test]
async fn invalid_definitions_are_rejected() {
    let s = TestServer::start().await;
    let with = |k: &str, v: Value| {
        let mut d = order_created();
        d[k] = v;
        d
    };
    for (body, needle) in [
        (with("id", json!("idn:identity-created")), "built-in"),
        (with("id", json!("idn:my-own")), "reserved"),
        (with("id", json!("Has Spaces")), "id"),
        (with("name", json!("")), "name"),
        (with("type", json!("SOMETIMES")), "type"),
        (
            with("inputSchema", json!({"type": "objekt"})),
            "inputSchema",
        ),
        (with("inputSchema", json!("{not json")), "inputSchema"),
        (with("inputSchema", json!(42)), "inputSchema"),
        (with("exampleInput", json!({"orderId": 5})), "exampleInput"),
        (
            with("outputSchema", json!({"type": "object"})),
            "outputSchema",
        ),
        (with("extra", json!(1)), "extra"),
        (with("type", json!("REQUEST_RESPONSE")), "outputSchema"),
    ] {
        let (st, v) = s.post("/v1/triggers", body.clone()).await;
        assert!(
            st == StatusCode::BAD_REQUEST || st == StatusCode::CONFLICT,
            "{body}: {st} {v}"
        );
        assert!(
            v["message"].as_str().unwrap_or("").contains(needle),
            "'{needle}' not in {v}"
        );
    }
    let (_, list) = s.get("/v1/triggers").await;
    assert_eq!(list["triggers"], json!([]));
}
