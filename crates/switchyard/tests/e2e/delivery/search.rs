//! The operator's view over HTTP: finding deliveries by every filter, pages that stay exact while
//! producers keep publishing, an event with its fan-out, cancelling a retrying invocation, and
//! bulk recovery of a route's failures once its receiver is back.

use super::*;
use crate::support::TestServer;
use std::collections::HashSet;

/// `GET path` as the admin of the default instance; asserts 200.
async fn ok(s: &TestServer, path: &str) -> Value {
    let (st, v) = s.get(path).await;
    assert_eq!(st, 200, "{path}: {v}");
    v
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn sub_id(sub: &Value) -> String {
    sub["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn failures_are_found_by_filter_and_recovered_in_bulk() {
    let s = server_with_schedule("50ms").await;
    let r = Receiver::start().await;
    r.default_for("/down", 500);
    let down = sub_id(&subscribe(&s, &r.url("/down"), json!({})).await);
    let up = sub_id(&subscribe(&s, &r.url("/up"), json!({})).await);
    let (target, _) = target(&s, "t", &r.url("/target"), json!({"restWebhook": {}})).await;
    execution(&s, "user.human.added", &[&target]).await;
    let t0 = "2000-01-01T00:00:00Z";

    let mut failing = Vec::new();
    let mut events = Vec::new();
    for n in 0..3 {
        let p = publish(
            &s,
            "idn:identity-created",
            identity(&format!("u{n}"), "Ops"),
        )
        .await;
        failing.push(invocation_for(&p, &down));
        events.push(p["eventId"].as_str().unwrap().to_string());
    }
    let zitadel = publish(&s, "user.human.added", json!({"userId": "u-9"})).await;
    let target_inv = invocation_for(&zitadel, &target);
    for id in &failing {
        wait_status(&s, id, "failed").await;
    }
    wait_status(&s, &target_inv, "delivered").await;

    // By status and route: exactly the failed deliveries to the broken subscription.
    let page = ok(&s, &format!("/v1/invocations?status=failed&routeId={down}")).await;
    let mut found = ids(&page);
    found.sort();
    let mut want = failing.clone();
    want.sort();
    assert_eq!(found, want);
    let row = &page["data"][0];
    assert_eq!(row["routeKind"], "subscription");
    assert_eq!(row["lastStatus"], 500);
    assert_eq!(row["attemptCount"], 2);
    assert!(page["nextCursor"].is_null());

    // ZITADEL target deliveries are listed too, by kind and by event type.
    let targets = ok(&s, "/v1/invocations?routeKind=target").await;
    assert_eq!(ids(&targets), std::slice::from_ref(&target_inv));
    let by_type = ok(&s, "/v1/invocations?triggerId=user.human.added").await;
    assert_eq!(ids(&by_type), std::slice::from_ref(&target_inv));
    // By event: its fan-out (one per subscription).
    let of_event = ok(&s, &format!("/v1/invocations?eventId={}", events[0])).await;
    assert_eq!(of_event["data"].as_array().unwrap().len(), 2);
    // A time window after everything: nothing.
    let later = ok(&s, "/v1/invocations?since=2999-01-01T00:00:00Z").await;
    assert!(ids(&later).is_empty());
    let upto = ok(&s, &format!("/v1/invocations?until={t0}")).await;
    assert!(ids(&upto).is_empty());
    let delivered = ok(
        &s,
        &format!("/v1/invocations?status=delivered&routeId={up}"),
    )
    .await;
    assert_eq!(delivered["data"].as_array().unwrap().len(), 3);

    // The detail shows what was sent: headers, and the payload the body was built from.
    let detail = invocation(&s, &failing[0]).await;
    assert_eq!(detail["requestPayload"], identity("u0", "Ops"));
    let sent = &detail["attempts"][0]["requestHeaders"];
    assert!(sent["webhook-id"].is_string(), "{detail}");

    // The receiver recovers; one call replays every failure of the route since T.
    r.default_for("/down", 204);
    let (st, v) = s
        .post(
            "/v1/invocations/replay",
            json!({"routeId": down, "since": t0}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v, json!({"replayed": 3, "more": false}));
    for id in &failing {
        let v = wait_status(&s, id, "delivered").await;
        assert_eq!(v["attemptCount"], 3, "{v}");
    }
    let (st, v) = s
        .post(
            "/v1/invocations/replay",
            json!({"routeId": down, "since": t0}),
        )
        .await;
    assert_eq!(st, 202, "{v}");
    assert_eq!(v["replayed"], 0, "nothing failed is left: {v}");

    // Bad requests name what is wrong.
    for (body, needle) in [
        (json!({"routeId": down}), "since"),
        (json!({"since": t0, "status": "pending"}), "status"),
        (json!({"since": "yesterday"}), "since"),
        (json!({"since": t0, "routId": "x"}), "routId"),
    ] {
        let (st, v) = s.post("/v1/invocations/replay", body.clone()).await;
        assert_eq!(st, 400, "{body}: {v}");
        assert!(v.to_string().contains(needle), "{needle}: {v}");
    }
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let s = server().await;
    for q in [
        "status=lost",
        "routeKind=queue",
        "since=yesterday",
        "limit=0",
        "limit=251",
        "cursor=not-a-cursor",
        "routeId=",
    ] {
        let (st, v) = s.get(&format!("/v1/invocations?{q}")).await;
        assert_eq!(st, 400, "{q}: {v}");
    }
    for q in ["limit=0", "cursor=%21", "until=soon"] {
        let (st, v) = s.get(&format!("/v1/events?{q}")).await;
        assert_eq!(st, 400, "{q}: {v}");
    }
    let (st, v) = s.get("/v1/events/nope").await;
    assert_eq!(st, 404, "{v}");
}

#[tokio::test]
async fn pages_are_exact_while_producers_keep_publishing() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = sub_id(&subscribe(&s, &r.url("/ok"), json!({})).await);
    let mut before = HashSet::new();
    for n in 0..40 {
        let p = publish(
            &s,
            "idn:identity-created",
            identity(&format!("p{n}"), "Ops"),
        )
        .await;
        before.insert(invocation_for(&p, &sub));
    }
    // A producer keeps publishing while the operator pages through the list.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let producer = {
        let (base, client, token) = (s.base.clone(), s.client.clone(), s.admin_token.clone());
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 500 {
                let body = json!({"type": "idn:identity-created", "payload": identity(&format!("c{n}"), "Ops")});
                let resp = client
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 202);
                n += 1;
            }
            n
        })
    };
    let mut seen: Vec<String> = Vec::new();
    let mut times: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/invocations?routeId={sub}&limit=7&cursor={c}"),
            None => format!("/v1/invocations?routeId={sub}&limit=7"),
        };
        let page = ok(&s, &path).await;
        seen.extend(ids(&page));
        for row in page["data"].as_array().unwrap() {
            times.push(row["createdAt"].as_str().unwrap().to_string());
        }
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let published_meanwhile = producer.await.unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a row appeared twice");
    for id in &before {
        assert!(unique.contains(id), "{id} was skipped");
    }
    // Newest first throughout: rows published while paging never appear behind older ones.
    let parsed: Vec<time::OffsetDateTime> = times
        .iter()
        .map(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).unwrap()
        })
        .collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert!(published_meanwhile > 0);
}

#[tokio::test]
async fn an_event_shows_its_payload_acceptance_and_invocations() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = sub_id(&subscribe(&s, &r.url("/ok"), json!({})).await);
    let (st, accepted) = s
        .post(
            "/v1/events",
            json!({"type": "idn:identity-created", "payload": identity("ev", "HR"), "id": "order-17"}),
        )
        .await;
    assert_eq!(st, 202, "{accepted}");
    publish(&s, "user.human.added", json!({"userId": "u"})).await;
    let inv = invocation_for(&accepted, &sub);
    wait_status(&s, &inv, "delivered").await;

    let list = ok(&s, "/v1/events?type=idn:identity-created").await;
    assert_eq!(ids(&list), ["order-17"]);
    assert!(list["data"][0]["acceptedAt"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    let all = ok(&s, "/v1/events?limit=1").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1);
    let next = all["nextCursor"].as_str().unwrap();
    let rest = ok(&s, &format!("/v1/events?limit=1&cursor={next}")).await;
    assert_eq!(ids(&rest), ["order-17"]);

    let e = ok(&s, "/v1/events/order-17").await;
    assert_eq!(e["type"], "idn:identity-created");
    assert_eq!(e["payload"], identity("ev", "HR"));
    assert_eq!(e["acceptance"], accepted);
    assert_eq!(e["invocations"][0]["id"], inv.as_str());
    assert_eq!(e["invocations"][0]["status"], "delivered");

    // Another instance's admin sees none of it.
    let other = s.token_for("other", "admin");
    for path in ["/v1/events", "/v1/invocations"] {
        let (st, v) = s.call_as(Some(&other), Method::GET, path, None).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["data"], json!([]), "{path}");
    }
    let (st, _) = s
        .call_as(Some(&other), Method::GET, "/v1/events/order-17", None)
        .await;
    assert_eq!(st, 404);
    let (st, _) = s
        .call_as(
            Some(&other),
            Method::POST,
            &format!("/v1/invocations/{inv}/cancel"),
            None,
        )
        .await;
    assert_eq!(st, 404);
}

#[tokio::test]
async fn cancel_stops_a_retrying_invocation() {
    let s = server_with_schedule("1h").await;
    let r = Receiver::start().await;
    r.default_for("/down", 503);
    let sub = sub_id(&subscribe(&s, &r.url("/down"), json!({})).await);
    let p = publish(&s, "idn:identity-created", identity("c", "Ops")).await;
    let inv = invocation_for(&p, &sub);
    wait_invocation(&s, &inv, "a retry scheduled", |v| {
        v["status"] == "pending" && v["attemptCount"] == 1
    })
    .await;
    let path = format!("/v1/invocations/{inv}/cancel");
    let (st, v) = s.call(Method::POST, &path, None).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v, json!({"id": inv, "status": "cancelled"}));
    let v = invocation(&s, &inv).await;
    assert_eq!(v["status"], "cancelled");
    assert!(v["nextAttemptAt"].is_null(), "{v}");
    let (st, v) = s.call(Method::POST, &path, None).await;
    assert_eq!(st, 409, "already ended: {v}");
    let (st, _) = s
        .call(Method::POST, "/v1/invocations/nope/cancel", None)
        .await;
    assert_eq!(st, 404);
    let cancelled = ok(&s, "/v1/invocations?status=cancelled").await;
    assert_eq!(ids(&cancelled), [inv]);
}
