//! Chain order, payload replacement by restCall, restWebhook ignoring its body, the target body
//! and signature, the call record, and best-match resolution.

use super::*;
use crate::support::TestServer;
use serde_json::json;
use switchyard_core::signing::verify_zitadel_signature;

#[tokio::test]
async fn targets_run_in_order_and_rest_call_answers_replace_the_request() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (a, key_a) = target(&s, "a", &r.url("/a"), webhook_kind(true), "5s").await;
    let (b, key_b) = target(&s, "b", &r.url("/b"), call_kind(true), "5s").await;
    let (c, _) = target(&s, "c", &r.url("/c"), call_kind(true), "5s").await;
    // The webhook's body must be ignored; b's replaces the request; c answers nothing.
    r.set("/a", Answer::json(200, json!({"name": "from-webhook"})));
    r.set(
        "/b",
        Answer::json(200, json!({"name": "from-b", "extra": 1})),
    );
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&a, &b, &c]).await;

    let (st, body, id) = call(
        &s,
        json!({"condition": {"request": {"method": ADD_HUMAN}}, "payload": {"name": "orig"},
               "context": {"orgID": "o1", "userID": "u1", "headers": {"x-request-id": ["r1"]}}}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, json!({"payload": {"name": "from-b", "extra": 1}}));
    assert_eq!(r.paths(), ["/a", "/b", "/c"]);
    let seen = r.seen();
    assert_eq!(seen[0].body["request"], json!({"name": "orig"}));
    assert_eq!(seen[1].body["request"], json!({"name": "orig"}));
    assert_eq!(
        seen[2].body["request"],
        json!({"name": "from-b", "extra": 1})
    );
    let first = &seen[0].body;
    assert_eq!(first["fullMethod"], ADD_HUMAN);
    assert_eq!(first["instanceID"], "default");
    assert_eq!(first["orgID"], "o1");
    assert_eq!(first["projectID"], "");
    assert_eq!(first["userID"], "u1");
    assert_eq!(first["headers"], json!({"x-request-id": ["r1"]}));
    assert!(first.get("response").is_none());
    assert_eq!(seen[0].headers["content-type"], "application/json");

    // Each target's own key signs its request.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let sig = |i: usize| {
        seen[i].headers["zitadel-signature"]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert!(verify_zitadel_signature(
        &sig(0),
        &key_a,
        &seen[0].raw,
        now,
        300
    ));
    assert!(verify_zitadel_signature(
        &sig(1),
        &key_b,
        &seen[1].raw,
        now,
        300
    ));
    assert!(!verify_zitadel_signature(
        &sig(1),
        &key_a,
        &seen[1].raw,
        now,
        300
    ));

    // The record lists every target call.
    assert!(!id.is_empty());
    let rec = record(&s, &id, 3).await;
    assert_eq!(rec["status"], 200);
    assert_eq!(rec["condition"], json!({"request": {"method": ADD_HUMAN}}));
    let attempts = rec["attempts"].as_array().unwrap();
    let targets: Vec<&str> = attempts
        .iter()
        .map(|a| a["targetId"].as_str().unwrap())
        .collect();
    assert_eq!(targets, [a.as_str(), b.as_str(), c.as_str()]);
    assert!(attempts.iter().all(|a| a["outcome"] == "succeeded"));
    assert_eq!(attempts[1]["status"], 200);
    assert!(attempts[1]["responseExcerpt"]
        .as_str()
        .unwrap()
        .contains("from-b"));
    let (st, _) = s.get("/v1/calls/nope").await;
    assert_eq!(st, 404);

    // The routes are documented.
    let (_, doc) = s.get("/openapi.json").await;
    for p in ["/v1/calls", "/v1/calls/{id}", "/v1/targets/{id}/health"] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from /openapi.json"
        );
    }
}

#[tokio::test]
async fn the_best_matching_execution_runs() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let mut ids = Vec::new();
    for (name, by) in [("method", "method"), ("service", "service"), ("all", "all")] {
        let (id, _) = target(&s, name, &r.url(&format!("/{name}")), call_kind(true), "5s").await;
        r.set(&format!("/{name}"), Answer::json(200, json!({"by": by})));
        ids.push(id);
    }
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&ids[0]]).await;
    execution(
        &s,
        json!({"request": {"service": "zitadel.user.v2.UserService"}}),
        &[&ids[1]],
    )
    .await;
    execution(&s, json!({"request": {"all": true}}), &[&ids[2]]).await;
    let by = |method: &'static str| {
        let s = &s;
        async move {
            let (st, body, _) = call(
                s,
                json!({"condition": {"request": {"method": method}}, "payload": {}}),
            )
            .await;
            assert_eq!(st, 200, "{body}");
            body["payload"]["by"].as_str().unwrap_or("").to_string()
        }
    };
    assert_eq!(by(ADD_HUMAN).await, "method");
    assert_eq!(
        by("/zitadel.user.v2.UserService/GetUserByID").await,
        "service"
    );
    assert_eq!(
        by("/zitadel.feature.v2.FeatureService/GetSystemFeatures").await,
        "all"
    );
    // Only the best match ran each time.
    assert_eq!(r.paths(), ["/method", "/service", "/all"]);

    // Nothing matches a response condition: the payload comes back unchanged, nothing is called.
    let (st, body, _) = call(
        &s,
        json!({"condition": {"response": {"method": ADD_HUMAN}}, "payload": {"userId": "1"}}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, json!({"payload": {"userId": "1"}}));
    assert_eq!(r.seen().len(), 3);

    // A routes change is seen by the next call (the cached chain is dropped).
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[]).await;
    assert_eq!(by(ADD_HUMAN).await, "service");
}

#[tokio::test]
async fn response_and_function_conditions() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (resp_t, _) = target(&s, "resp", &r.url("/resp"), call_kind(true), "5s").await;
    let (fun_t, _) = target(&s, "fun", &r.url("/fun"), call_kind(true), "5s").await;
    r.set(
        "/resp",
        Answer::json(200, json!({"userId": "1", "masked": true})),
    );
    let claims = json!({"append_claims": [{"key": "k", "value": "v"}]});
    r.set("/fun", Answer::json(200, claims.clone()));
    execution(
        &s,
        json!({"response": {"service": "zitadel.user.v2.UserService"}}),
        &[&resp_t],
    )
    .await;
    execution(&s, json!({"function": {"name": "preuserinfo"}}), &[&fun_t]).await;

    let (st, body, _) = call(
        &s,
        json!({"condition": {"response": {"method": "/zitadel.user.v2.UserService/GetUserByID"}},
               "payload": {"userId": "1"}, "context": {"request": {"userId": "1"}}}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], json!({"userId": "1", "masked": true}));
    let got = r.wait_for("/resp").await.body;
    assert_eq!(
        got["fullMethod"],
        "/zitadel.user.v2.UserService/GetUserByID"
    );
    assert_eq!(got["request"], json!({"userId": "1"}));
    assert_eq!(got["response"], json!({"userId": "1"}));

    let input = json!({"function": "preuserinfo", "userinfo": {"sub": "u1"}, "user": {"id": "u1"}});
    let (st, body, _) = call(
        &s,
        json!({"condition": {"function": {"name": "preuserinfo"}}, "payload": input}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["payload"], claims);
    assert_eq!(r.wait_for("/fun").await.body, input);
}
