//! Subscription CRUD, every validation rule, write-only secrets, per-trigger limits, list
//! parameters, validate-filter and instance isolation.

use super::{assert_sp_error, create, http_sub, SUBS};
use crate::support::TestServer;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn create_get_list_put_delete() {
    let s = TestServer::start().await;
    let v = create(&s, http_sub("idn:identity-created")).await;
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["triggerName"], "Identity Created");
    assert_eq!(v["enabled"], true);
    assert_eq!(v["responseDeadline"], "PT1H");
    assert_eq!(v["httpConfig"]["httpDispatchMode"], "SYNC");
    assert_eq!(v["httpConfig"]["httpAuthenticationType"], "NO_AUTH");
    assert!(v["filter"].is_null());

    let (st, got) = s.get(&format!("{SUBS}/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(got, v);
    let (st, list) = s.get(SUBS).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list, json!([v.clone()]));

    let put = json!({"name": "renamed", "type": "EVENTBRIDGE", "enabled": false, "responseDeadline": "PT5M",
        "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "us-west-1"}, "filter": "$.identity"});
    let (st, p) = s
        .call(Method::PUT, &format!("{SUBS}/{id}"), Some(put))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(p["name"], "renamed");
    assert_eq!(p["type"], "EVENTBRIDGE");
    assert_eq!(p["enabled"], false);
    assert_eq!(p["responseDeadline"], "PT5M");
    assert_eq!(p["filter"], "$.identity");
    assert_eq!(p["triggerId"], "idn:identity-created");
    assert!(p["description"].is_null());
    assert_eq!(s.get(&format!("{SUBS}/{id}")).await.1, p);

    // id and triggerId are immutable through PUT.
    let (st, e) = s.call(Method::PUT, &format!("{SUBS}/{id}"), Some(json!({"name": "x", "type": "HTTP", "triggerId": "idn:source-created", "httpConfig": {"url": "https://x.example"}}))).await;
    assert_sp_error(st, &e, 400, &["triggerId"]);
    let (st, e) = s.call(Method::PUT, &format!("{SUBS}/{id}"), Some(json!({"id": "other", "name": "x", "type": "HTTP", "httpConfig": {"url": "https://x.example"}}))).await;
    assert_sp_error(st, &e, 400, &["id"]);
    // Sending back what was read works.
    let (st, _) = s
        .call(Method::PUT, &format!("{SUBS}/{id}"), Some(p.clone()))
        .await;
    assert_eq!(st, StatusCode::OK);

    let (st, body) = s.call(Method::DELETE, &format!("{SUBS}/{id}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(body.is_null());
    let (st, e) = s.get(&format!("{SUBS}/{id}")).await;
    assert_sp_error(st, &e, 404, &[&id]);
    let (st, e) = s.call(Method::DELETE, &format!("{SUBS}/{id}"), None).await;
    assert_sp_error(st, &e, 404, &[]);
    let (st, e) = s
        .call(
            Method::PUT,
            &format!("{SUBS}/{id}"),
            Some(json!({"name": "x", "type": "HTTP", "httpConfig": {"url": "https://x.example"}})),
        )
        .await;
    assert_sp_error(st, &e, 404, &[]);
}

#[tokio::test]
async fn beta_paths_work_the_same() {
    let s = TestServer::start().await;
    let (st, v) = s
        .post(
            "/beta/trigger-subscriptions",
            http_sub("idn:source-created"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/beta/trigger-subscriptions/{id}")).await.1,
        v
    );
    assert_eq!(
        s.get("/beta/trigger-subscriptions").await.1,
        json!([v.clone()])
    );
    let (st, p) = s
        .raw(
            Method::PATCH,
            &format!("/beta/trigger-subscriptions/{id}"),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/name","value":"b"}]"#,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let (st, p) = s
        .call(
            Method::PUT,
            &format!("/beta/trigger-subscriptions/{id}"),
            Some(json!({"name": "c", "type": "HTTP", "httpConfig": {"url": "https://x.example"}})),
        )
        .await;
    assert_eq!((st, p["name"].as_str()), (StatusCode::OK, Some("c")));
    let (st, f) = s
        .post(
            "/beta/trigger-subscriptions/validate-filter",
            json!({"input": {"a": 1}, "filter": "$.a"}),
        )
        .await;
    assert_eq!((st, f["isValid"].as_bool()), (StatusCode::OK, Some(true)));
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/beta/trigger-subscriptions/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_rule_is_enforced_with_a_named_field() {
    let s = TestServer::start().await;
    let t = "idn:identity-created";
    let h = |extra: Value| {
        let mut http = json!({"url": "https://x.example"});
        for (k, v) in extra.as_object().unwrap() {
            http[k] = v.clone();
        }
        json!({"name": "n", "triggerId": t, "type": "HTTP", "httpConfig": http})
    };
    let with = |k: &str, v: Value| {
        let mut b = h(json!({}));
        b[k] = v;
        b
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"triggerId": t, "type": "HTTP", "httpConfig": {"url": "https://x.example"}}),
            "name",
        ),
        (with("name", json!("")), "name"),
        (with("name", json!("x".repeat(256))), "name"),
        (
            json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x.example"}}),
            "triggerId",
        ),
        (with("triggerId", json!("idn:nope")), "idn:nope"),
        (with("type", json!("SMTP")), "type"),
        (with("type", json!("WORKFLOW")), "type"),
        (json!({"name": "n", "triggerId": t}), "type"),
        (
            json!({"name": "n", "triggerId": t, "type": "HTTP"}),
            "httpConfig",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "EVENTBRIDGE"}),
            "eventBridgeConfig",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "1234", "awsRegion": "us-east-1"}}),
            "eventBridgeConfig.awsAccount",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "us-middle-1"}}),
            "eventBridgeConfig.awsRegion",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsRegion": "us-east-1"}}),
            "eventBridgeConfig.awsAccount",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "HTTP", "httpConfig": {}}),
            "httpConfig.url",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "HTTP", "httpConfig": {"url": "example.com"}}),
            "httpConfig.url",
        ),
        (
            json!({"name": "n", "triggerId": t, "type": "HTTP", "httpConfig": {"url": "mailto:a@b.c"}}),
            "httpConfig.url",
        ),
        (
            h(json!({"httpDispatchMode": "BATCH"})),
            "httpConfig.httpDispatchMode",
        ),
        (
            h(json!({"httpAuthenticationType": "API_KEY"})),
            "httpConfig.httpAuthenticationType",
        ),
        (
            h(json!({"httpAuthenticationType": "BASIC_AUTH"})),
            "httpConfig.basicAuthConfig",
        ),
        (
            h(
                json!({"httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "u"}}),
            ),
            "httpConfig.basicAuthConfig.password",
        ),
        (
            h(
                json!({"httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"password": "p"}}),
            ),
            "httpConfig.basicAuthConfig.userName",
        ),
        (
            h(json!({"httpAuthenticationType": "BEARER_TOKEN"})),
            "httpConfig.bearerTokenAuthConfig",
        ),
        (
            h(
                json!({"httpAuthenticationType": "BEARER_TOKEN", "bearerTokenAuthConfig": {"bearerToken": ""}}),
            ),
            "httpConfig.bearerTokenAuthConfig.bearerToken",
        ),
        (with("responseDeadline", json!("PT0S")), "responseDeadline"),
        (with("responseDeadline", json!("P8D")), "responseDeadline"),
        (
            with("responseDeadline", json!("one hour")),
            "responseDeadline",
        ),
        (with("filter", json!("$[?(@.a ==")), "filter"),
        (with("enabled", json!("yes")), "enabled"),
        (with("bogus", json!(1)), "bogus"),
        (with("id", json!("mine")), "id"),
        (with("workflowConfig", json!({"id": "w"})), "workflowConfig"),
    ];
    for (body, needle) in cases {
        let (st, v) = s.post(SUBS, body.clone()).await;
        assert_sp_error(st, &v, 400, &[needle]);
    }
    // Limits of the deadline are inclusive.
    for d in ["PT1S", "P7D"] {
        create(&s, with("responseDeadline", json!(d))).await;
    }
    // Wrong content type and malformed JSON.
    let (st, v) = s.raw(Method::POST, SUBS, "text/plain", "{}").await;
    assert_sp_error(st, &v, 415, &["content type"]);
    let (st, v) = s.raw(Method::POST, SUBS, "application/json", "{").await;
    assert_sp_error(st, &v, 400, &["malformed JSON"]);
    // Nothing invalid was stored.
    let (_, list) = s.get(SUBS).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn all_valid_variants_are_accepted() {
    let s = TestServer::start().await;
    for (mode, auth, extra) in [
        (
            "ASYNC",
            "BASIC_AUTH",
            json!({"basicAuthConfig": {"userName": "u", "password": "p"}}),
        ),
        (
            "DYNAMIC",
            "BEARER_TOKEN",
            json!({"bearerTokenAuthConfig": {"bearerToken": "t"}}),
        ),
        ("SYNC", "NO_AUTH", json!({})),
    ] {
        let mut http = json!({"url": "http://127.0.0.1:9/x?y=1", "httpDispatchMode": mode, "httpAuthenticationType": auth});
        for (k, v) in extra.as_object().unwrap() {
            http[k] = v.clone();
        }
        let v = create(&s, json!({"name": mode, "triggerId": "idn:identity-deleted", "type": "HTTP", "httpConfig": http, "filter": "$[?($.identity.name == \"john.doe\")]"})).await;
        assert_eq!(v["httpConfig"]["httpDispatchMode"], mode);
        assert_eq!(v["httpConfig"]["httpAuthenticationType"], auth);
    }
    let v = create(&s, json!({"name": "eb", "triggerId": "idn:identity-deleted", "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "eu-central-1"}})).await;
    assert_eq!(
        v["eventBridgeConfig"],
        json!({"awsAccount": "123456789012", "awsRegion": "eu-central-1"})
    );
    assert!(v["httpConfig"].is_null());
}

fn secrets_are_null(v: &Value) {
    let text = v.to_string();
    assert!(
        !text.contains("s3cr3t-pass") && !text.contains("t0ken-value"),
        "{text}"
    );
    let h = &v["httpConfig"];
    if !h["basicAuthConfig"].is_null() {
        assert!(h["basicAuthConfig"]["password"].is_null());
    }
    if !h["bearerTokenAuthConfig"].is_null() {
        assert!(h["bearerTokenAuthConfig"]["bearerToken"].is_null());
    }
}

fn db_bytes(s: &TestServer) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["switchyard.db", "switchyard.db-wal"] {
        if let Ok(b) = std::fs::read(s.data_dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn secrets_are_write_only_kept_and_sealed() {
    let s = TestServer::start().await;
    let body = json!({"name": "basic", "triggerId": "idn:identity-created", "type": "HTTP",
        "httpConfig": {"url": "https://x.example", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "svc", "password": "s3cr3t-pass"}}});
    let v = create(&s, body).await;
    secrets_are_null(&v);
    assert_eq!(v["httpConfig"]["basicAuthConfig"]["userName"], "svc");
    let id = v["id"].as_str().unwrap().to_string();
    secrets_are_null(&s.get(&format!("{SUBS}/{id}")).await.1);
    secrets_are_null(&s.get(SUBS).await.1);

    // PUT without the password keeps it (same auth type) ...
    let put = json!({"name": "basic2", "type": "HTTP", "httpConfig": {"url": "https://x.example", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "svc2", "password": null}}});
    let (st, p) = s
        .call(Method::PUT, &format!("{SUBS}/{id}"), Some(put))
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    secrets_are_null(&p);
    // ... proven by a PATCH `test` of the stored secret, which only passes if it was kept.
    let (st, p) = s.raw(Method::PATCH, &format!("{SUBS}/{id}"), "application/json-patch+json",
        r#"[{"op":"test","path":"/httpConfig/basicAuthConfig/password","value":"s3cr3t-pass"},{"op":"replace","path":"/name","value":"kept"}]"#).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    secrets_are_null(&p);
    // A PUT switching to BEARER_TOKEN without a token is rejected.
    let put = json!({"name": "b", "type": "HTTP", "httpConfig": {"url": "https://x.example", "httpAuthenticationType": "BEARER_TOKEN"}});
    let (st, e) = s
        .call(Method::PUT, &format!("{SUBS}/{id}"), Some(put))
        .await;
    assert_sp_error(st, &e, 400, &["httpConfig.bearerTokenAuthConfig"]);
    // A PATCH can set a new secret.
    let (st, p) = s.raw(Method::PATCH, &format!("{SUBS}/{id}"), "application/json-patch+json",
        r#"[{"op":"replace","path":"/httpConfig","value":{"url":"https://y.example","httpAuthenticationType":"BEARER_TOKEN","bearerTokenAuthConfig":{"bearerToken":"t0ken-value"}}}]"#).await;
    assert_eq!(st, StatusCode::OK, "{p}");
    secrets_are_null(&p);
    assert_eq!(p["httpConfig"]["httpAuthenticationType"], "BEARER_TOKEN");
    let (st, _) = s.raw(Method::PATCH, &format!("{SUBS}/{id}"), "application/json-patch+json",
        r#"[{"op":"test","path":"/httpConfig/bearerTokenAuthConfig/bearerToken","value":"t0ken-value"}]"#).await;
    assert_eq!(st, StatusCode::OK);

    let bytes = db_bytes(&s);
    assert!(contains(&bytes, "svc2"), "the test reads the right file");
    assert!(!contains(&bytes, "s3cr3t-pass"));
    assert!(!contains(&bytes, "t0ken-value"));
    assert!(
        !contains(&bytes, "whsec_"),
        "signing secrets are sealed too"
    );
}

#[tokio::test]
async fn per_trigger_limits() {
    let s = TestServer::start().await;
    for i in 0..50 {
        let mut b = http_sub("idn:source-deleted");
        b["name"] = json!(format!("s{i}"));
        create(&s, b).await;
    }
    let (st, v) = s.post(SUBS, http_sub("idn:source-deleted")).await;
    assert_sp_error(st, &v, 400, &["at most 50"]);
    // Other triggers and other instances are unaffected.
    create(&s, http_sub("idn:source-created")).await;
    let (st, _) = s
        .post(
            &format!("{SUBS}?instance.id=other"),
            http_sub("idn:source-deleted"),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);

    create(&s, http_sub("idn:access-request-pre-approval")).await;
    let (st, v) = s
        .post(SUBS, http_sub("idn:access-request-pre-approval"))
        .await;
    assert_sp_error(st, &v, 400, &["at most 1", "REQUEST_RESPONSE"]);
    let (st, _) = s
        .post(SUBS, http_sub("idn:access-request-dynamic-approver"))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    // Deleting frees the slot.
    let (_, list) = s
        .get(&format!(
            "{SUBS}?filters=triggerId%20eq%20%22idn:access-request-pre-approval%22"
        ))
        .await;
    let id = list[0]["id"].as_str().unwrap();
    s.call(Method::DELETE, &format!("{SUBS}/{id}"), None).await;
    create(&s, http_sub("idn:access-request-pre-approval")).await;
}

#[tokio::test]
async fn list_filters_sorters_paging() {
    let s = TestServer::start().await;
    let a = create(&s, http_sub("idn:source-created")).await;
    let b = create(&s, json!({"name": "eb", "triggerId": "idn:account-correlated", "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "us-east-1"}})).await;
    let c = create(&s, http_sub("idn:identity-created")).await;
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let q = |f: &str| {
        format!(
            "{SUBS}?filters={}",
            f.replace(' ', "%20").replace('"', "%22")
        )
    };
    assert_eq!(
        ids(&s
            .get(&q(&format!("id eq \"{}\"", a["id"].as_str().unwrap())))
            .await
            .1),
        ids(&json!([a]))
    );
    assert_eq!(
        ids(&s.get(&q("triggerId eq \"idn:account-correlated\"")).await.1),
        ids(&json!([b]))
    );
    assert_eq!(
        ids(&s.get(&q("type eq \"EVENTBRIDGE\"")).await.1),
        ids(&json!([b]))
    );
    assert_eq!(
        ids(&s.get(&q("type in (\"HTTP\",\"EVENTBRIDGE\")")).await.1).len(),
        3
    );
    assert_eq!(
        ids(&s
            .get(&q(
                "type eq \"HTTP\" and triggerId eq \"idn:identity-created\""
            ))
            .await
            .1),
        ids(&json!([c]))
    );
    assert_eq!(
        ids(&s.get(&format!("{SUBS}?sorters=triggerId")).await.1),
        ids(&json!([b, c, a]))
    );
    assert_eq!(
        ids(&s.get(&format!("{SUBS}?sorters=-triggerId")).await.1),
        ids(&json!([a, c, b]))
    );
    // Names: Account Correlated, Identity Created, Source Created.
    assert_eq!(
        ids(&s.get(&format!("{SUBS}?sorters=-triggerName")).await.1),
        ids(&json!([a, c, b]))
    );
    let resp = s
        .client
        .get(s.url(&format!(
            "{SUBS}?limit=1&offset=1&count=true&sorters=triggerId"
        )))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-total-count"], "3");
    let page: Value = resp.json().await.unwrap();
    assert_eq!(ids(&page), ids(&json!([c])));
    for (q, needle) in [
        ("filters=name%20eq%20%22x%22", "'name'"),
        ("filters=triggerId%20sw%20%22idn%22", "'sw'"),
        ("sorters=name", "'name'"),
        ("limit=300", "limit"),
    ] {
        let (st, v) = s.get(&format!("{SUBS}?{q}")).await;
        assert_sp_error(st, &v, 400, &[needle]);
    }
}

#[tokio::test]
async fn instances_are_isolated() {
    let s = TestServer::start().await;
    let v = create(&s, http_sub("idn:source-created")).await;
    let id = v["id"].as_str().unwrap();
    let (_, list) = s.get(&format!("{SUBS}?instance.id=other")).await;
    assert_eq!(list, json!([]));
    let (st, _) = s.get(&format!("{SUBS}/{id}?instance.id=other")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("{SUBS}/{id}?instance.id=other"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&format!("{SUBS}/{id}")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn validate_filter_answers() {
    let s = TestServer::start().await;
    let path = format!("{SUBS}/validate-filter");
    let input = json!({"identity": {"name": "john.doe"}, "changes": [{"attribute": "department"}]});
    for (filter, valid, valid_path, exists) in [
        ("$[?($.identity.name == \"john.doe\")]", true, true, true),
        ("$[?($.identity.name == \"jane.doe\")]", false, true, false),
        (
            "$.changes[?(@.attribute == \"department\")]",
            true,
            true,
            true,
        ),
        ("$.changes[?(@.attribute == \"email\")]", false, true, false),
        ("$.missing", false, true, false),
        ("$[?(", false, false, false),
        ("identity.name", false, false, false),
    ] {
        let (st, v) = s
            .post(&path, json!({"input": input, "filter": filter}))
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            v,
            json!({"isValid": valid, "isValidJSONPath": valid_path, "isPathExist": exists}),
            "{filter}"
        );
    }
    let (st, v) = s.post(&path, json!({"filter": "$.a"})).await;
    assert_sp_error(st, &v, 400, &["input"]);
    let (st, v) = s.post(&path, json!({"input": [1], "filter": "$.a"})).await;
    assert_sp_error(st, &v, 400, &["input"]);
}
