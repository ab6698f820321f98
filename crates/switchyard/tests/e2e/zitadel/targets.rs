//! Target lifecycle on every surface: create, get, update/patch (type switch, key rotation with
//! and without grace), search (filters, sort, paging), delete, and instance isolation.

use super::{make_target, target_body, CONNECT, V3};
use crate::support::TestServer;
use reqwest::Method;
use serde_json::json;

fn is_rfc3339_utc(v: &serde_json::Value) -> bool {
    v.as_str()
        .is_some_and(|s| s.ends_with('Z') && s.contains('T'))
}

#[tokio::test]
async fn v3alpha_target_lifecycle() {
    let s = TestServer::start().await;
    let (st, created) = s.post(&format!("{V3}/targets"), target_body("t1")).await;
    assert_eq!(st, 201, "{created}");
    let id = created["details"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["details"]["owner"],
        json!({"type": "OWNER_TYPE_INSTANCE", "id": "default"})
    );
    assert!(is_rfc3339_utc(&created["details"]["created"]));
    let key = created["signingKey"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 32);

    let (st, got) = s.get(&format!("{V3}/targets/{id}")).await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(got["target"]["config"]["name"], "t1");
    assert_eq!(
        got["target"]["config"]["restCall"],
        json!({"interruptOnError": false})
    );
    assert_eq!(got["target"]["config"]["timeout"], "10s");
    assert_eq!(got["target"]["signingKey"], key);

    // Patch: switch type, keep everything else; no rotation → no signingKey in the answer.
    let (st, patched) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"restWebhook": {"interruptOnError": true}, "timeout": "1.5s"})),
        )
        .await;
    assert_eq!(st, 200, "{patched}");
    assert!(patched.get("signingKey").is_none(), "{patched}");
    let (_, got) = s.get(&format!("{V3}/targets/{id}")).await;
    let cfg = &got["target"]["config"];
    assert_eq!(cfg["restWebhook"], json!({"interruptOnError": true}));
    assert!(cfg.get("restCall").is_none());
    assert_eq!(cfg["timeout"], "1.500s");
    assert_eq!(cfg["name"], "t1");

    // interruptOnError alone changes independently of the type.
    s.call(
        Method::PATCH,
        &format!("{V3}/targets/{id}"),
        Some(json!({"restWebhook": {"interruptOnError": false}})),
    )
    .await;
    let (_, got) = s.get(&format!("{V3}/targets/{id}")).await;
    assert_eq!(
        got["target"]["config"]["restWebhook"],
        json!({"interruptOnError": false})
    );

    // Immediate rotation: new key returned and current.
    let (st, rotated) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"expirationSigningKey": "0s"})),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let new_key = rotated["signingKey"].as_str().unwrap();
    assert_ne!(new_key, key);
    let (_, got) = s.get(&format!("{V3}/targets/{id}")).await;
    assert_eq!(got["target"]["signingKey"], new_key);

    let (st, del) = s
        .call(Method::DELETE, &format!("{V3}/targets/{id}"), None)
        .await;
    assert_eq!(st, 200, "{del}");
    assert_eq!(del["details"]["id"], id.as_str());
    let (st, err) = s.get(&format!("{V3}/targets/{id}")).await;
    assert_eq!(st, 404);
    assert_eq!(err["code"], 5);
    // Idempotent, as on every ZITADEL surface.
    let (st, again) = s
        .call(Method::DELETE, &format!("{V3}/targets/{id}"), None)
        .await;
    assert_eq!(st, 200, "{again}");
    assert_eq!(again["details"]["id"], id.as_str());
}

#[tokio::test]
async fn v2_rest_target_lifecycle() {
    let s = TestServer::start().await;
    let (st, created) = s.post("/v2/actions/targets", target_body("rest")).await;
    assert_eq!(st, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(is_rfc3339_utc(&created["creationDate"]));
    assert!(created["signingKey"].is_string());

    let (st, upd) = s
        .post(
            &format!("/v2/actions/targets/{id}"),
            json!({"name": "rest2", "restAsync": {}}),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    assert!(is_rfc3339_utc(&upd["changeDate"]));
    assert!(upd.get("signingKey").is_none());

    let (st, got) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(got["target"]["name"], "rest2");
    assert_eq!(got["target"]["restAsync"], json!({}));
    assert_eq!(got["target"]["payloadType"], "PAYLOAD_TYPE_JSON");

    let (st, list) = s
        .post(
            "/v2/actions/targets/search",
            json!({"filters": [{"inTargetIdsFilter": {"targetIds": [id]}}]}),
        )
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["pagination"]["totalResult"], "1");

    let (st, del) = s
        .call(Method::DELETE, &format!("/v2/actions/targets/{id}"), None)
        .await;
    assert_eq!(st, 200);
    assert!(is_rfc3339_utc(&del["deletionDate"]));
    // Idempotent.
    let (st, _) = s
        .call(Method::DELETE, &format!("/v2/actions/targets/{id}"), None)
        .await;
    assert_eq!(st, 200);
    let (st, err) = s.get(&format!("/v2/actions/targets/{id}")).await;
    assert_eq!(st, 404);
    assert_eq!(err["code"], 5);
    assert!(err["message"].as_str().unwrap().contains(&id));
}

#[tokio::test]
async fn connect_target_lifecycle_and_grace_rotation() {
    let s = TestServer::start().await;
    let id = make_target(&s, "c1").await;
    let (st, got) = s
        .post(&format!("{CONNECT}/GetTarget"), json!({"id": id}))
        .await;
    assert_eq!(st, 200);
    let old_key = got["target"]["signingKey"].as_str().unwrap().to_string();
    assert_eq!(
        got["target"]["restWebhook"],
        json!({"interruptOnError": true})
    );

    let (st, upd) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": id, "expirationSigningKey": "3600s", "payloadType": "PAYLOAD_TYPE_JWT"}),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    let new_key = upd["signingKey"].as_str().unwrap().to_string();
    assert_ne!(new_key, old_key);
    let (_, got) = s
        .post(&format!("{CONNECT}/GetTarget"), json!({"id": id}))
        .await;
    assert_eq!(got["target"]["signingKey"], new_key.as_str());
    assert_eq!(got["target"]["payloadType"], "PAYLOAD_TYPE_JWT");

    let (st, del) = s
        .post(&format!("{CONNECT}/DeleteTarget"), json!({"id": id}))
        .await;
    assert_eq!(st, 200);
    assert!(del["deletionDate"].is_string());
    let (st, err) = s
        .post(&format!("{CONNECT}/GetTarget"), json!({"id": id}))
        .await;
    assert_eq!(st, 404);
    assert_eq!(err["code"], "not_found");
}

#[tokio::test]
async fn search_filters_sorts_and_pages() {
    let s = TestServer::start().await;
    for n in ["alpha-hook", "Beta-hook", "gamma", "ALPHA-two"] {
        make_target(&s, n).await;
    }
    let names = |v: &serde_json::Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                t.get("name")
                    .or_else(|| t["config"].get("name"))
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (st, list) = s
        .post(&format!("{CONNECT}/ListTargets"), json!({"filters": [{"targetNameFilter": {"targetName": "alpha", "method": "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE"}}], "sortingColumn": "TARGET_FIELD_NAME_NAME", "pagination": {"asc": true}}))
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(names(&list, "targets"), vec!["ALPHA-two", "alpha-hook"]);
    assert_eq!(list["pagination"]["totalResult"], "2");

    let (_, list) = s
        .post(&format!("{CONNECT}/ListTargets"), json!({"filters": [{"targetNameFilter": {"targetName": "hook", "method": "TEXT_FILTER_METHOD_ENDS_WITH"}}]}))
        .await;
    assert_eq!(list["pagination"]["totalResult"], "2");
    let (_, list) = s
        .post(
            &format!("{CONNECT}/ListTargets"),
            json!({"filters": [{"targetNameFilter": {"targetName": "gamma"}}]}),
        )
        .await;
    assert_eq!(names(&list, "targets"), vec!["gamma"]);

    // Paging: total counts all matches, the page holds `limit`.
    let (_, page) = s
        .post(&format!("{CONNECT}/ListTargets"), json!({"pagination": {"offset": "1", "limit": 2, "asc": true}, "sortingColumn": "TARGET_FIELD_NAME_NAME"}))
        .await;
    assert_eq!(
        page["pagination"],
        json!({"totalResult": "4", "appliedLimit": "2"})
    );
    assert_eq!(names(&page, "targets"), vec!["Beta-hook", "alpha-hook"]);

    // v3alpha: filters in the body, paging in the query.
    let (st, res) = s
        .post(&format!("{V3}/targets/_search?query.limit=1&query.asc=true&sortingColumn=TARGET_FIELD_NAME_NAME"), json!([{"targetNameFilter": {"targetName": "HOOK", "method": "TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE"}}]))
        .await;
    assert_eq!(st, 200, "{res}");
    assert_eq!(res["details"]["totalResult"], "2");
    assert_eq!(res["details"]["appliedLimit"], "1");
    assert_eq!(names(&res, "result"), vec!["Beta-hook"]);

    let (st, err) = s
        .post(
            &format!("{CONNECT}/ListTargets"),
            json!({"pagination": {"limit": 5000}}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("pagination.limit"),
        "{err}"
    );
    let (st, _) = s
        .post(&format!("{V3}/targets/_search?query.limit=5000"), json!([]))
        .await;
    assert_eq!(st, 400);
}

#[tokio::test]
async fn instances_are_isolated() {
    let s = TestServer::start().await;
    let (st, created) = s
        .post(&format!("{V3}/targets?instance.id=a"), target_body("same"))
        .await;
    assert_eq!(st, 201);
    let id = created["details"]["id"].as_str().unwrap().to_string();
    assert_eq!(created["details"]["owner"]["id"], "a");
    // The same name is free in another instance.
    let (st, _) = s
        .post(&format!("{V3}/targets?instance.id=b"), target_body("same"))
        .await;
    assert_eq!(st, 201);
    let (st, _) = s.get(&format!("{V3}/targets/{id}?instance.id=b")).await;
    assert_eq!(st, 404);
    let (st, _) = s
        .post(
            &format!("{CONNECT}/GetTarget?instance.id=b"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(st, 404);
    let (_, list) = s
        .post(&format!("{CONNECT}/ListTargets?instance.id=b"), json!({}))
        .await;
    assert_eq!(list["pagination"]["totalResult"], "1");
    assert_ne!(list["targets"][0]["id"], id.as_str());
    let (st, _) = s
        .post(
            &format!("/v2/actions/targets/{id}?instance.id=b"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(st, 404);
    let (st, err) = s
        .call(
            Method::PUT,
            "/v2/actions/executions?instance.id=b",
            Some(json!({"condition": {"event": {"all": true}}, "targets": [id]})),
        )
        .await;
    assert_eq!(st, 404, "{err}");
    let (_, got) = s.get(&format!("{V3}/targets/{id}?instance.id=a")).await;
    assert_eq!(got["target"]["config"]["name"], "same");

    // Deleting another instance's target succeeds on every surface (as for a target that does
    // not exist: ZITADEL's DeleteTarget is idempotent) and deletes nothing.
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("{V3}/targets/{id}?instance.id=b"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .call(
            Method::DELETE,
            &format!("/v2/actions/targets/{id}?instance.id=b"),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .post(
            &format!("{CONNECT}/DeleteTarget?instance.id=b"),
            json!({"id": id}),
        )
        .await;
    assert_eq!(st, 200);
    let (st, got) = s.get(&format!("{V3}/targets/{id}?instance.id=a")).await;
    assert_eq!(
        (st.as_u16(), &got["target"]["config"]["name"]),
        (200, &json!("same"))
    );
}
