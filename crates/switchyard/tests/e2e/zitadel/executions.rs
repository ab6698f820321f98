//! Executions on every surface: set, list with filters, includes (order, depth, cycles),
//! removal by an empty list, catalog checks, target deletion cleanup, and the delivery
//! hand-off (best-match resolution and signing keys) read straight from the store.

use super::{make_target, target_body, CONNECT, V3};
use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_core::zitadel::{Condition, EventSelector, MethodSelector};
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::{SqliteStore, ZitadelStore};

async fn put_v3(s: &TestServer, body: Value) -> (reqwest::StatusCode, Value) {
    s.call(Method::PUT, &format!("{V3}/executions"), Some(body))
        .await
}

#[tokio::test]
async fn set_and_list_on_all_surfaces() {
    let s = TestServer::start().await;
    let a = make_target(&s, "a").await;
    let b = make_target(&s, "b").await;

    let (st, set) = s
        .post(&format!("{CONNECT}/SetExecution"), json!({"condition": {"request": {"method": "/zitadel.user.v2.UserService/AddHumanUser"}}, "targets": [a, b]}))
        .await;
    assert_eq!(st, 200, "{set}");
    assert!(set["setDate"].is_string());
    let (st, _) = s
        .call(
            Method::PUT,
            "/v2/actions/executions",
            Some(json!({"condition": {"event": {"group": "user.human"}}, "targets": [b]})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, created) = put_v3(&s, json!({"condition": {"function": {"name": "preuserinfo"}}, "execution": {"targets": [{"target": a}, {"include": {"event": {"group": "user.human"}}}]}})).await;
    assert_eq!(st, 201, "{created}");
    assert_eq!(created["details"]["owner"]["type"], "OWNER_TYPE_INSTANCE");

    let (st, list) = s
        .post(&format!("{CONNECT}/ListExecutions"), json!({}))
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["pagination"]["totalResult"], "3");

    let (_, list) = s
        .post(&format!("{CONNECT}/ListExecutions"), json!({"filters": [{"executionTypeFilter": {"executionType": "EXECUTION_TYPE_REQUEST"}}]}))
        .await;
    assert_eq!(list["executions"].as_array().unwrap().len(), 1);
    assert_eq!(list["executions"][0]["targets"], json!([a, b]));
    assert_eq!(
        list["executions"][0]["condition"],
        json!({"request": {"method": "/zitadel.user.v2.UserService/AddHumanUser"}})
    );

    let (_, list) = s
        .post(
            "/v2/actions/executions/search",
            json!({"filters": [{"targetFilter": {"targetId": b}}]}),
        )
        .await;
    assert_eq!(list["pagination"]["totalResult"], "2");

    let (_, list) = s
        .post(&format!("{CONNECT}/ListExecutions"), json!({"filters": [{"inConditionsFilter": {"conditions": [{"function": {"name": "preuserinfo"}}]}}]}))
        .await;
    assert_eq!(list["executions"][0]["targets"], json!([a]));

    let (st, res) = s
        .post(
            &format!("{V3}/executions/_search"),
            json!([{"includeFilter": {"include": {"event": {"group": "user.human"}}}}]),
        )
        .await;
    assert_eq!(st, 200, "{res}");
    assert_eq!(res["details"]["totalResult"], "1");
    assert_eq!(
        res["result"][0]["execution"]["targets"][1],
        json!({"include": {"event": {"group": "user.human"}}})
    );
    assert_eq!(
        res["result"][0]["condition"],
        json!({"function": {"name": "preuserinfo"}})
    );

    // Empty list removes the execution.
    let (st, _) = s
        .post(&format!("{CONNECT}/SetExecution"), json!({"condition": {"request": {"method": "/zitadel.user.v2.UserService/AddHumanUser"}}, "targets": []}))
        .await;
    assert_eq!(st, 200);
    let (_, list) = s
        .post(&format!("{CONNECT}/ListExecutions"), json!({}))
        .await;
    assert_eq!(list["pagination"]["totalResult"], "2");
    // An included execution cannot be removed while included.
    let (st, err) = s
        .call(
            Method::PUT,
            "/v2/actions/executions",
            Some(json!({"condition": {"event": {"group": "user.human"}}, "targets": []})),
        )
        .await;
    assert_eq!(st, 400, "{err}");
    assert!(
        err["message"].as_str().unwrap().contains("included by"),
        "{err}"
    );
}

#[tokio::test]
async fn includes_reject_cycles_depth_and_missing() {
    let s = TestServer::start().await;
    let t = make_target(&s, "t").await;
    let inc = |c: Value| json!({"include": c});
    let ev_all = json!({"event": {"all": true}});
    let req_all = json!({"request": {"all": true}});
    let resp_all = json!({"response": {"all": true}});
    let f1 = json!({"function": {"name": "preuserinfo"}});
    let f2 = json!({"function": {"name": "preaccesstoken"}});

    let (st, err) = put_v3(
        &s,
        json!({"condition": ev_all, "execution": {"targets": [inc(req_all.clone())]}}),
    )
    .await;
    assert_eq!(st, 400, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("has no execution"),
        "{err}"
    );

    // Chain f2 <- f1 <- resp <- req : depth 3 is fine.
    assert_eq!(
        put_v3(
            &s,
            json!({"condition": f2, "execution": {"targets": [{"target": t}]}})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        put_v3(
            &s,
            json!({"condition": f1, "execution": {"targets": [inc(f2.clone())]}})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        put_v3(
            &s,
            json!({"condition": resp_all, "execution": {"targets": [inc(f1.clone())]}})
        )
        .await
        .0,
        201
    );
    assert_eq!(
        put_v3(
            &s,
            json!({"condition": req_all, "execution": {"targets": [inc(resp_all.clone())]}})
        )
        .await
        .0,
        201
    );
    // A fourth level is too deep.
    let (st, err) = put_v3(
        &s,
        json!({"condition": ev_all, "execution": {"targets": [inc(req_all.clone())]}}),
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        err["message"].as_str().unwrap().contains("deeper than 3"),
        "{err}"
    );
    // A cycle.
    let (st, err) = put_v3(
        &s,
        json!({"condition": f2, "execution": {"targets": [inc(req_all.clone())]}}),
    )
    .await;
    assert_eq!(st, 400);
    assert!(err["message"].as_str().unwrap().contains("cycle"), "{err}");
    let (st, err) = put_v3(
        &s,
        json!({"condition": f2, "execution": {"targets": [inc(f2.clone())]}}),
    )
    .await;
    assert_eq!(st, 400);
    assert!(
        err["message"].as_str().unwrap().contains("includes itself"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_targets_and_catalog_names_are_rejected() {
    let s = TestServer::start().await;
    let (st, err) = s
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": {"event": {"all": true}}, "targets": ["nope"]}),
        )
        .await;
    assert_eq!(st, 404, "{err}");
    assert!(err["message"].as_str().unwrap().contains("'nope'"));
    let t = make_target(&s, "t").await;
    for (cond, field) in [
        (
            json!({"request": {"method": "/acme.Shop/Buy"}}),
            "condition.request.method",
        ),
        (
            json!({"response": {"service": "acme.Shop"}}),
            "condition.response.service",
        ),
        (
            json!({"function": {"name": "nope"}}),
            "condition.function.name",
        ),
        (
            json!({"event": {"event": "nope.happened"}}),
            "condition.event.event",
        ),
        (json!({"event": {"group": "nope"}}), "condition.event.group"),
        (json!({"request": {"all": false}}), "condition.request.all"),
        (
            json!({"request": {"method": "/a.B/C", "all": true}}),
            "condition.request",
        ),
        (
            json!({"request": {"all": true}, "event": {"all": true}}),
            "condition",
        ),
        (json!({}), "condition"),
    ] {
        let (st, err) = s
            .post(
                &format!("{CONNECT}/SetExecution"),
                json!({"condition": cond, "targets": [t]}),
            )
            .await;
        assert_eq!(st, 400, "{cond}: {err}");
        assert_eq!(err["code"], "invalid_argument");
        assert!(
            err["message"].as_str().unwrap().contains(field),
            "{cond}: {err}"
        );
    }
    let (st, err) = put_v3(&s, json!({"condition": {"event": {"all": true}}, "execution": {"targets": [{"target": t, "include": {"event": {"all": true}}}]}})).await;
    assert_eq!(st, 400);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("execution.targets[0]"),
        "{err}"
    );

    for path in ["functions", "methods", "services"] {
        let (st, v3) = s.get(&format!("{V3}/executions/{path}")).await;
        assert_eq!(st, 200);
        let (_, v2) = s.get(&format!("/v2/actions/executions/{path}")).await;
        let name = format!("ListExecution{}{}", path[..1].to_uppercase(), &path[1..]);
        let (st, c) = s
            .raw(
                Method::POST,
                &format!("{CONNECT}/{name}"),
                "application/json",
                "",
            )
            .await;
        assert_eq!(st, 200, "{name}");
        assert_eq!(v3, v2);
        assert_eq!(v2, c);
    }
    let (_, f) = s.get(&format!("{V3}/executions/functions")).await;
    assert!(f["functions"]
        .as_array()
        .unwrap()
        .contains(&json!("preuserinfo")));
    let (_, m) = s
        .post(&format!("{CONNECT}/ListExecutionMethods"), json!({}))
        .await;
    assert!(m["methods"]
        .as_array()
        .unwrap()
        .contains(&json!("/zitadel.user.v2.UserService/AddHumanUser")));
}

#[tokio::test]
async fn deleting_a_target_removes_it_from_executions_and_resolution_follows() {
    let s = TestServer::start().await;
    let a = make_target(&s, "a").await;
    let b = make_target(&s, "b").await;
    let c = make_target(&s, "c").await;
    put_v3(
        &s,
        json!({"condition": {"event": {"all": true}}, "execution": {"targets": [{"target": c}]}}),
    )
    .await;
    put_v3(&s, json!({"condition": {"event": {"group": "user"}}, "execution": {"targets": [{"target": a}, {"include": {"event": {"all": true}}}, {"target": b}]}})).await;

    let store = SqliteStore::open(&s.data_dir.join("switchyard.db"))
        .await
        .unwrap();
    let inst = InstanceId::default_instance();
    let ev = |e: &str| Condition::Event(EventSelector::Event(e.into()));
    let resolved = store
        .resolve_execution(&inst, &ev("user.human.added"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.matched.key(), "event:group:user");
    let ids: Vec<_> = resolved.targets.iter().map(|t| t.id.clone()).collect();
    assert_eq!(ids, vec![a.clone(), c.clone(), b.clone()]);
    assert_eq!(
        resolved.targets[0].config.endpoint.as_str(),
        "https://example.com/hook"
    );
    let other = store
        .resolve_execution(&inst, &ev("org.added"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.targets.len(), 1);
    assert!(store
        .resolve_execution(&inst, &Condition::Request(MethodSelector::All))
        .await
        .unwrap()
        .is_none());
    assert!(store
        .resolve_execution(&InstanceId::parse("other").unwrap(), &ev("org.added"))
        .await
        .unwrap()
        .is_none());

    let (st, _) = s
        .post(&format!("{CONNECT}/DeleteTarget"), json!({"id": a}))
        .await;
    assert_eq!(st, 200);
    let (_, list) = s.post(&format!("{CONNECT}/ListExecutions"), json!({"filters": [{"executionTypeFilter": {"executionType": "EXECUTION_TYPE_EVENT"}}], "sortingColumn": "EXECUTION_FIELD_NAME_ID", "pagination": {"asc": true}})).await;
    assert_eq!(list["executions"][1]["targets"], json!([b]), "{list}");
    let resolved = store
        .resolve_execution(&inst, &ev("user.human.added"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resolved
            .targets
            .iter()
            .map(|t| t.id.clone())
            .collect::<Vec<_>>(),
        vec![c, b]
    );
    store.close().await;
}

#[tokio::test]
async fn key_rotation_grace_keeps_the_previous_key_valid() {
    let s = TestServer::start().await;
    let id = make_target(&s, "k").await;
    let store = SqliteStore::open(&s.data_dir.join("switchyard.db"))
        .await
        .unwrap();
    let inst = InstanceId::default_instance();
    let now = || {
        Timestamp(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64,
        )
    };
    assert_eq!(
        store
            .target_signing_keys(&inst, &id, now())
            .await
            .unwrap()
            .len(),
        1
    );

    let (st, upd) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": id, "expirationSigningKey": "86400s"}),
        )
        .await;
    assert_eq!(st, 200, "{upd}");
    let keys = store.target_signing_keys(&inst, &id, now()).await.unwrap();
    assert_eq!(
        keys.len(),
        2,
        "previous key stays valid during the grace period"
    );
    assert!(keys[0].expires_at.is_none(), "current key first");
    let grace_end = keys[1].expires_at.unwrap();
    assert!(grace_end.millis() > now().millis() + 86_000_000);
    assert_eq!(
        store
            .target_signing_keys(&inst, &id, grace_end)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        keys.iter()
            .all(|k| !k.sealed.contains(upd["signingKey"].as_str().unwrap())),
        "keys are sealed"
    );

    let (st, _) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": id, "expirationSigningKey": "0s"}),
        )
        .await;
    assert_eq!(st, 200);
    assert_eq!(
        store
            .target_signing_keys(&inst, &id, now())
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}

#[tokio::test]
async fn the_catalog_is_extended_by_configuration() {
    const METHOD: &str = "/acme.billing.v1.BillingService/CreateInvoice";
    let exec = |target: &str| json!({"condition": {"request": {"method": METHOD}}, "execution": {"targets": [{"target": target}]}});
    // Unknown to the built-in catalog: refused.
    let plain = TestServer::start().await;
    let t = make_target(&plain, "t").await;
    let (st, err) = put_v3(&plain, exec(&t)).await;
    assert_eq!(st, 400, "{err}");

    let s = TestServer::start_with(|c| {
        c.zitadel_catalog.methods = vec![METHOD.to_string()];
        c.zitadel_catalog.events = vec!["acme.invoice.created".to_string()];
    })
    .await;
    let (_, m) = s.get(&format!("{V3}/executions/methods")).await;
    assert!(
        m["methods"].as_array().unwrap().contains(&json!(METHOD)),
        "{m}"
    );
    let (_, sv) = s.get(&format!("{V3}/executions/services")).await;
    assert!(
        sv["services"]
            .as_array()
            .unwrap()
            .contains(&json!("acme.billing.v1.BillingService")),
        "a method's service becomes known: {sv}"
    );
    let t = make_target(&s, "t").await;
    let (st, v) = put_v3(&s, exec(&t)).await;
    assert_eq!(st, 201, "{v}");
    let (st, v) = put_v3(
        &s,
        json!({"condition": {"event": {"event": "acme.invoice.created"}}, "execution": {"targets": [{"target": t}]}}),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let (st, listed) = s.get("/v1/catalog/zitadel-events").await;
    assert_eq!(st, 200, "{listed}");
    assert!(listed["events"]
        .as_array()
        .unwrap()
        .contains(&json!("acme.invoice.created")));
    assert!(listed["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("acme.invoice")));
}

/// ZITADEL has no List RPC for events: the error for an unknown one (typically a SailPoint
/// trigger id) names where the valid ones are listed, and that place lists them.
#[tokio::test]
async fn unknown_events_point_to_the_event_catalog() {
    let s = TestServer::start().await;
    let t = make_target(&s, "t").await;
    for (path, body) in [
        (
            format!("{CONNECT}/SetExecution"),
            json!({"condition": {"event": {"event": "idn:access-request-submitted"}}, "targets": [t]}),
        ),
        (
            "/v2/actions/executions".to_string(),
            json!({"condition": {"event": {"group": "idn"}}, "targets": [t]}),
        ),
    ] {
        let method = if path.starts_with("/v2") {
            Method::PUT
        } else {
            Method::POST
        };
        let (st, err) = s.call(method, &path, Some(body)).await;
        assert_eq!(st, 400, "{err}");
        let msg = err["message"].as_str().unwrap();
        assert!(msg.contains("GET /v1/catalog/zitadel-events"), "{msg}");
    }
    let (st, listed) = s.get("/v1/catalog/zitadel-events").await;
    assert_eq!(st, 200, "{listed}");
    let events = listed["events"].as_array().unwrap();
    assert!(events.contains(&json!("user.human.added")), "{listed}");
    assert!(listed["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("user.human")));
    for e in events {
        let (st, v) = s
            .post(
                &format!("{CONNECT}/SetExecution"),
                json!({"condition": {"event": {"event": e}}, "targets": [t]}),
            )
            .await;
        assert_eq!(st, 200, "{e}: {v}");
    }
    let (st, _) = s
        .call_as(None, Method::GET, "/v1/catalog/zitadel-events", None)
        .await;
    assert_eq!(st, 401);
}

/// Timestamps in ZITADEL answers take proto3 JSON's canonical form: UTC, `Z`, and 0, 3, 6 or 9
/// fractional digits.
#[tokio::test]
async fn timestamps_are_proto3_canonical() {
    fn canonical(ts: &str) -> bool {
        let Some(rest) = ts.strip_suffix('Z') else {
            return false;
        };
        let (whole, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let b = whole.as_bytes();
        whole.len() == 19
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            })
            && matches!(frac.len(), 0 | 3 | 6 | 9)
            && frac.bytes().all(|c| c.is_ascii_digit())
    }
    assert!(canonical("2026-11-22T17:28:18.200Z"));
    assert!(canonical("2026-11-22T17:28:18Z"));
    assert!(!canonical("2026-11-22T17:28:18.2Z"));
    assert!(!canonical("2026-11-22T17:28:18.200+00:00"));
    let s = TestServer::start().await;
    let mut seen = Vec::new();
    for i in 0..5 {
        let (_, c) = s
            .post(
                &format!("{CONNECT}/CreateTarget"),
                target_body(&format!("ts-{i}")),
            )
            .await;
        seen.push(c["creationDate"].clone());
        let id = c["id"].as_str().unwrap().to_string();
        let (_, u) = s
            .post(
                &format!("/v2/actions/targets/{id}"),
                json!({"timeout": "5s"}),
            )
            .await;
        seen.push(u["changeDate"].clone());
        let (_, g) = s
            .post(&format!("{CONNECT}/GetTarget"), json!({"id": id}))
            .await;
        seen.push(g["target"]["creationDate"].clone());
        seen.push(g["target"]["changeDate"].clone());
        let (_, g) = s.get(&format!("{V3}/targets/{id}")).await;
        seen.push(g["target"]["details"]["created"].clone());
        seen.push(g["target"]["details"]["changed"].clone());
        let (_, x) = s
            .post(
                &format!("{CONNECT}/SetExecution"),
                json!({"condition": {"event": {"all": true}}, "targets": [id]}),
            )
            .await;
        seen.push(x["setDate"].clone());
        let (_, d) = s
            .post(&format!("{CONNECT}/DeleteTarget"), json!({"id": id}))
            .await;
        seen.push(d["deletionDate"].clone());
    }
    for ts in seen {
        let ts = ts.as_str().unwrap_or_default();
        assert!(canonical(ts), "not canonical: {ts:?}");
    }
}
