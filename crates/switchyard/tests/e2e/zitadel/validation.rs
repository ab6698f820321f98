//! Every rejection names the field and the rule, in each surface's error shape: per-field
//! target rules, duplicate names, wrong content type (415), malformed JSON, unknown fields.

use super::{make_target, target_body, CONNECT, V3};
use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

fn with(field: &str, value: Value) -> Value {
    let mut b = target_body("valid");
    b[field] = value;
    b
}

fn without(field: &str) -> Value {
    let mut b = target_body("valid");
    b.as_object_mut().unwrap().remove(field);
    b
}

#[tokio::test]
async fn target_fields_are_validated_on_every_surface() {
    let s = TestServer::start().await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (with("name", json!("")), "name", "empty"),
        (with("name", json!("x".repeat(1001))), "name", "1000"),
        (without("name"), "name", "required"),
        (with("endpoint", json!("")), "endpoint", "empty"),
        (
            with("endpoint", json!("not a url")),
            "endpoint",
            "whitespace",
        ),
        (
            with("endpoint", json!("ftp://example.com")),
            "endpoint",
            "http",
        ),
        (with("endpoint", json!("https://")), "endpoint", "host"),
        (
            with(
                "endpoint",
                json!(format!("https://e.com/{}", "a".repeat(2048))),
            ),
            "endpoint",
            "2048",
        ),
        (without("endpoint"), "endpoint", "required"),
        (with("timeout", json!("0s")), "timeout", "greater than 0"),
        (with("timeout", json!("271s")), "timeout", "270s"),
        (with("timeout", json!("ten")), "timeout", "duration"),
        (without("timeout"), "timeout", "required"),
        (without("restCall"), "restWebhook", "exactly one"),
        (with("restAsync", json!({})), "restWebhook", "only one"),
        (
            with("payloadType", json!("PAYLOAD_TYPE_XML")),
            "payloadType",
            "PAYLOAD_TYPE_JSON",
        ),
    ];
    for (body, field, rule) in cases {
        for (path, code) in [
            (format!("{CONNECT}/CreateTarget"), json!("invalid_argument")),
            ("/v2/actions/targets".to_string(), json!(3)),
            (format!("{V3}/targets"), json!(3)),
        ] {
            // v3alpha keeps the seed's 1000-character endpoints; v2 allows 2048.
            let rule = match rule {
                "2048" if path.starts_with(V3) => "1000",
                other => other,
            };
            let (st, err) = s.post(&path, body.clone()).await;
            assert_eq!(st, 400, "{path} {field}: {err}");
            assert_eq!(err["code"], code, "{path}: {err}");
            let msg = err["message"].as_str().unwrap();
            assert!(
                msg.contains(field) && msg.contains(rule),
                "{path} {field}/{rule}: {msg}"
            );
        }
    }
}

/// v2 allows endpoints of up to 2048 characters (ZITADEL's `action/v2` proto); v3alpha keeps the
/// seed's 1000.
#[tokio::test]
async fn endpoint_limit_is_the_surfaces_own() {
    let s = TestServer::start().await;
    let long = format!("https://e.com/{}", "a".repeat(2048 - 14));
    assert_eq!(long.len(), 2048);
    let (st, err) = s
        .post(&format!("{V3}/targets"), with("endpoint", json!(long)))
        .await;
    assert_eq!(st, 400, "{err}");
    assert!(err["message"].as_str().unwrap().contains("1000"), "{err}");
    for (i, path) in [
        format!("{CONNECT}/CreateTarget"),
        "/v2/actions/targets".into(),
    ]
    .iter()
    .enumerate()
    {
        let mut body = with("endpoint", json!(long));
        body["name"] = json!(format!("long-{i}"));
        let (st, created) = s.post(path, body).await;
        assert_eq!(st, 200, "{path}: {created}");
        let id = created["id"].as_str().unwrap();
        let (st, got) = s.get(&format!("/v2/actions/targets/{id}")).await;
        assert_eq!(st, 200, "{got}");
        assert_eq!(got["target"]["endpoint"], json!(long));
        // v3alpha still reads it; it only refuses to write one that long.
        let (st, got) = s.get(&format!("{V3}/targets/{id}")).await;
        assert_eq!(st, 200, "{got}");
        let (st, err) = s
            .call(
                Method::PATCH,
                &format!("{V3}/targets/{id}"),
                Some(json!({"endpoint": long})),
            )
            .await;
        assert_eq!(st, 400, "{err}");
    }
}

#[tokio::test]
async fn updates_are_validated_and_names_stay_unique() {
    let s = TestServer::start().await;
    let a = make_target(&s, "first").await;
    make_target(&s, "second").await;
    let (st, err) = s
        .post(&format!("{CONNECT}/CreateTarget"), target_body("first"))
        .await;
    assert_eq!(st, 409);
    assert_eq!(err["code"], "already_exists");
    assert!(err["message"].as_str().unwrap().contains("'first'"));
    let (st, err) = s.post(&format!("{V3}/targets"), target_body("first")).await;
    assert_eq!(st, 409);
    assert_eq!(err["code"], 6);
    let (st, _) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": a, "name": "second"}),
        )
        .await;
    assert_eq!(st, 409);

    for (patch, field) in [
        (json!({"timeout": "300s"}), "timeout"),
        (json!({"endpoint": "mailto:x@y"}), "endpoint"),
        (json!({"name": ""}), "name"),
        (
            json!({"expirationSigningKey": "700000s"}),
            "expirationSigningKey",
        ),
        (
            json!({"expirationSigningKey": "soon"}),
            "expirationSigningKey",
        ),
        (json!({"restCall": {}, "restWebhook": {}}), "restWebhook"),
    ] {
        let (st, err) = s
            .call(
                Method::PATCH,
                &format!("{V3}/targets/{a}"),
                Some(patch.clone()),
            )
            .await;
        assert_eq!(st, 400, "{patch}: {err}");
        assert!(
            err["message"].as_str().unwrap().contains(field),
            "{patch}: {err}"
        );
        let mut c = patch.clone();
        c["id"] = json!(a);
        let (st, _) = s.post(&format!("{CONNECT}/UpdateTarget"), c).await;
        assert_eq!(st, 400, "{patch}");
    }
    let (st, err) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": "missing", "name": "z"}),
        )
        .await;
    assert_eq!(st, 404);
    assert_eq!(err["code"], "not_found");
    let (st, _) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/missing"),
            Some(json!({"name": "z"})),
        )
        .await;
    assert_eq!(st, 404);
    let (st, err) = s.post(&format!("{CONNECT}/GetTarget"), json!({})).await;
    assert_eq!(st, 400);
    assert!(err["message"].as_str().unwrap().contains("id"));
    // Nothing changed by the rejected updates.
    let (_, got) = s
        .post(&format!("{CONNECT}/GetTarget"), json!({"id": a}))
        .await;
    assert_eq!(got["target"]["name"], "first");
    assert_eq!(got["target"]["timeout"], "10s");
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let s = TestServer::start().await;
    for (path, code) in [
        (format!("{CONNECT}/CreateTarget"), json!("invalid_argument")),
        ("/v2/actions/targets".to_string(), json!(3)),
        (format!("{V3}/targets"), json!(3)),
    ] {
        let body = target_body("x").to_string();
        let (st, err) = s.raw(Method::POST, &path, "text/plain", &body).await;
        assert_eq!(st, 415, "{path}");
        assert_eq!(err["code"], code);
        let (st, err) = s
            .raw(Method::POST, &path, "application/json", "{\"name\": ")
            .await;
        assert_eq!(st, 400, "{path}");
        assert!(
            err["message"].as_str().unwrap().contains("malformed JSON"),
            "{err}"
        );
        let mut unknown = target_body("x");
        unknown["colour"] = json!("red");
        let (st, err) = s.post(&path, unknown).await;
        assert_eq!(st, 400);
        assert!(err["message"].as_str().unwrap().contains("colour"), "{err}");
        let mut nested = target_body("x");
        nested["restCall"] = json!({"interruptOnError": true, "retries": 3});
        let (st, err) = s.post(&path, nested).await;
        assert_eq!(st, 400);
        assert!(
            err["message"].as_str().unwrap().contains("retries"),
            "{err}"
        );
    }
    let (st, err) = s
        .raw(Method::PUT, &format!("{V3}/executions"), "text/xml", "<x/>")
        .await;
    assert_eq!(st, 415, "{err}");
    let (st, err) = s
        .post(
            &format!("{CONNECT}/ListTargets"),
            json!({"sortingColumn": "NAME"}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(err["message"].as_str().unwrap().contains("sortingColumn"));
    let (st, err) = s
        .post(
            &format!("{CONNECT}/ListTargets"),
            json!({"filters": [{"targetNameFilter": {"targetName": "x", "method": "LIKE"}}]}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("filters[0].targetNameFilter.method"),
        "{err}"
    );
    let (st, err) = s
        .post(
            &format!("{CONNECT}/ListExecutions"),
            json!({"filters": [{"executionTypeFilter": {"executionType": "EXECUTION_TYPE_X"}}]}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(
        err["message"].as_str().unwrap().contains("executionType"),
        "{err}"
    );
    let (st, _) = s
        .post(
            &format!("{CONNECT}/ListExecutions"),
            json!({"filters": [{}]}),
        )
        .await;
    assert_eq!(st, 400);
}
