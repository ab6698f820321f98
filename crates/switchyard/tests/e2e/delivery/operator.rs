//! Operator events: Switchyard's own events reach subscriptions (SailPoint) and executions
//! (ZITADEL) like any other. A failing route is reported `switchyard:route-failing` after N
//! failures in a row and `switchyard:route-recovered` at its next success; an invocation out of
//! tries is `switchyard:attempts-exhausted`; a route switched off by a 410, by `autoDisable` or
//! by an operator is `switchyard:route-disabled`. Deliveries of operator events are not reported
//! on, and producers cannot publish them.

use super::*;

const JSON_PATCH: &str = "application/json-patch+json";

/// Subscribes `/ops/<name>` to every operator event.
async fn watch_operator_events(s: &TestServer, r: &Receiver) {
    for name in [
        "route-failing",
        "route-recovered",
        "route-disabled",
        "attempts-exhausted",
    ] {
        subscribe(
            s,
            &r.url(&format!("/ops/{name}")),
            json!({"name": format!("ops {name}"), "triggerId": format!("switchyard:{name}")}),
        )
        .await;
    }
}

/// The `n`th (1-based) operator event delivered to `/ops/<name>`.
async fn nth(r: &Receiver, name: &str, n: usize) -> Value {
    let path = format!("/ops/{name}");
    let got = r.wait_for_path(&path, n, WAIT).await;
    got.iter()
        .filter(|q| q.path == path)
        .nth(n - 1)
        .unwrap()
        .json()
}

#[tokio::test]
async fn a_failing_route_is_reported_and_its_recovery_and_410_too() {
    let s = TestServer::start_with(|c| {
        c.retry_schedule = "50ms,50ms".into();
        c.delivery.poll_interval = "200ms".into();
        c.delivery.failing_after = 2;
    })
    .await;
    let r = Receiver::start().await;
    watch_operator_events(&s, &r).await;
    // A ZITADEL target hears of failing routes too.
    let (zt, _) = target(
        &s,
        "ops-target",
        &r.url("/zitadel-ops"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "switchyard:route-failing", &[&zt]).await;

    r.default_for("/svc", 503);
    let sub = subscribe(&s, &r.url("/svc"), json!({"name": "watched"})).await;
    let sub_id = sub["id"].as_str().unwrap().to_string();
    let published = publish(&s, "idn:identity-created", identity("ann", "Ops")).await;
    let inv = invocation_for(&published, &sub_id);
    wait_status(&s, &inv, "failed").await;

    let failing = nth(&r, "route-failing", 1).await;
    assert_eq!(
        failing["route"],
        json!({"kind": "subscription", "id": sub_id})
    );
    // Two, or three when the attempts arrived in one report.
    let n = failing["consecutiveFailures"].as_u64().unwrap();
    assert!((2..=3).contains(&n), "{failing}");
    assert!(
        failing["lastError"].as_str().unwrap().contains("503"),
        "{failing}"
    );
    assert_eq!(
        failing["_metadata"]["triggerId"],
        "switchyard:route-failing"
    );
    let zitadel = r.wait_for_path("/zitadel-ops", 1, WAIT).await;
    assert!(
        String::from_utf8_lossy(&zitadel[0].body).contains(&sub_id),
        "the ZITADEL execution got the same event"
    );

    let exhausted = nth(&r, "attempts-exhausted", 1).await;
    assert_eq!(exhausted["invocationId"], inv.as_str());
    assert_eq!(exhausted["eventType"], "idn:identity-created");
    assert_eq!(exhausted["attempts"], 3);
    assert_eq!(exhausted["eventId"], published["eventId"]);

    // The next success ends the run.
    r.default_for("/svc", 200);
    let again = publish(&s, "idn:identity-created", identity("ben", "Ops")).await;
    wait_status(&s, &invocation_for(&again, &sub_id), "delivered").await;
    let recovered = nth(&r, "route-recovered", 1).await;
    assert_eq!(recovered["route"]["id"], sub_id.as_str());
    assert_eq!(recovered["failures"], 3);
    assert_eq!(recovered["failingSince"], failing["failingSince"]);

    // 410 Gone switches the route off, and says so.
    r.default_for("/svc", 410);
    let gone = publish(&s, "idn:identity-created", identity("cy", "Ops")).await;
    wait_status(&s, &invocation_for(&gone, &sub_id), "failed").await;
    let disabled = nth(&r, "route-disabled", 1).await;
    assert_eq!(disabled["reason"], "gone");
    assert_eq!(disabled["route"]["id"], sub_id.as_str());

    // Exactly one of each so far: operator deliveries are not reported on themselves.
    assert_eq!(r.on("/ops/route-failing").len(), 1);
    assert_eq!(r.on("/ops/route-recovered").len(), 1);

    // An operator switching a route off.
    let other = subscribe(&s, &r.url("/other"), json!({"name": "other"})).await;
    let other_id = other["id"].as_str().unwrap();
    let ops = json!([{"op": "replace", "path": "/enabled", "value": false}]);
    let (st, v) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{other_id}"),
            JSON_PATCH,
            &ops.to_string(),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let by_operator = nth(&r, "route-disabled", 2).await;
    assert_eq!(by_operator["reason"], "operator");
    assert_eq!(by_operator["route"]["id"], other_id);

    // Producers cannot forge them.
    let (st, v) = s
        .post(
            "/v1/events",
            json!({"type": "switchyard:route-disabled", "payload": disabled}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("type"), "{v}");
    let (st, v) = s
        .post(
            "/v1/events",
            json!({"type": "idn:identity-created", "payload": identity("eve", "Ops"),
                   "id": format!("switchyard:route-disabled:operator:subscription:{other_id}:0")}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(v.to_string().contains("id"), "{v}");
}

#[tokio::test]
async fn a_route_failing_for_its_auto_disable_period_is_switched_off() {
    let s = TestServer::start_with(|c| {
        c.retry_schedule = "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms".into();
        c.delivery.poll_interval = "200ms".into();
        c.delivery.auto_disable_after = "1s".into();
        c.delivery.failing_after = 1000;
    })
    .await;
    let r = Receiver::start().await;
    watch_operator_events(&s, &r).await;
    r.default_for("/svc", 503);
    r.default_for("/patient", 503);
    let sub = subscribe(&s, &r.url("/svc"), json!({"name": "watched"})).await;
    let sub_id = sub["id"].as_str().unwrap().to_string();
    // Its own policy gives this route 90 days: it fails just as long here and stays on.
    let patient = subscribe(&s, &r.url("/patient"), json!({"name": "patient"})).await;
    let patient_id = patient["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("/v1/subscriptions/{patient_id}/policy"),
            Some(json!({"autoDisable": {"after": "90d"}})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let published = publish(&s, "idn:identity-created", identity("dee", "Ops")).await;
    let inv = invocation_for(&published, &sub_id);
    let patient_inv = invocation_for(&published, &patient_id);

    let disabled = nth(&r, "route-disabled", 1).await;
    assert_eq!(disabled["reason"], "autoDisable");
    assert_eq!(disabled["route"]["id"], sub_id.as_str());
    assert!(disabled["failingSince"].is_string(), "{disabled}");
    let v = wait_status(&s, &inv, "cancelled").await;
    assert!(
        v["lastError"].as_str().unwrap().contains("autoDisable"),
        "{v}"
    );
    let (st, sub) = s.get(&format!("{SUBS}/{sub_id}")).await;
    assert_eq!(st, 200);
    assert_eq!(sub["enabled"], false, "{sub}");
    assert!(
        r.on("/ops/route-failing").is_empty(),
        "threshold not reached"
    );

    // The patient route failed for about 2 s (past the server's 1 s) and ran out of tries
    // instead: failed, not cancelled, still enabled, and said so.
    let v = wait_status(&s, &patient_inv, "failed").await;
    let tries = v["attemptCount"].as_u64().unwrap();
    assert!(tries >= 10, "{v}");
    let exhausted = nth(&r, "attempts-exhausted", 1).await;
    assert_eq!(exhausted["invocationId"], patient_inv.as_str());
    assert_eq!(exhausted["attempts"], tries);
    let (st, p) = s.get(&format!("{SUBS}/{patient_id}")).await;
    assert_eq!(st, 200);
    assert_eq!(p["enabled"], true, "{p}");
    assert_eq!(
        r.on("/ops/route-disabled").len(),
        1,
        "only the watched route"
    );
}

/// The target's circuit breaker on this node.
async fn breaker(s: &TestServer, target: &str) -> Value {
    let (st, v) = s.get(&format!("/v1/targets/{target}/health")).await;
    assert_eq!(st, 200, "{v}");
    v
}

#[tokio::test]
async fn event_deliveries_feed_the_targets_circuit_breaker() {
    let s = TestServer::start_with(|c| {
        c.retry_schedule = "50ms,50ms".into();
        c.delivery.poll_interval = "200ms".into();
        c.delivery.breaker_failures = 3;
        c.delivery.breaker_cooldown = "1h".into();
    })
    .await;
    let r = Receiver::start().await;
    r.default_for("/flaky", 503);
    let (tid, _) = target(
        &s,
        "flaky",
        &r.url("/flaky"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&tid]).await;
    assert_eq!(breaker(&s, &tid).await["state"], "closed");

    let first = publish(&s, "user.human.added", json!({"userId": "u1"})).await;
    wait_status(&s, &invocation_for(&first, &tid), "failed").await;
    let h = breaker(&s, &tid).await;
    assert_eq!(h["state"], "open", "three failed event deliveries: {h}");
    assert_eq!(h["consecutiveFailures"], 3, "{h}");

    // An event delivered closes it again.
    r.default_for("/flaky", 200);
    let second = publish(&s, "user.human.added", json!({"userId": "u2"})).await;
    wait_status(&s, &invocation_for(&second, &tid), "delivered").await;
    assert_eq!(breaker(&s, &tid).await["state"], "closed");
}

#[tokio::test]
async fn an_operator_switches_a_target_off_and_on() {
    let s = TestServer::start_with(|c| {
        c.retry_schedule = "1h".into();
        c.delivery.poll_interval = "200ms".into();
    })
    .await;
    let r = Receiver::start().await;
    watch_operator_events(&s, &r).await;
    r.default_for("/down", 503);
    let (tid, _) = target(
        &s,
        "down",
        &r.url("/down"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&tid]).await;
    let first = publish(&s, "user.human.added", json!({"userId": "u1"})).await;
    let waiting = invocation_for(&first, &tid);
    // Failed once, waiting an hour for its next try.
    r.wait_for_path("/down", 1, WAIT).await;

    let (st, v) = s
        .post(&format!("/v1/targets/{tid}/disable"), json!({}))
        .await;
    assert_eq!(st, 204, "{v}");
    let disabled = nth(&r, "route-disabled", 1).await;
    assert_eq!(disabled["reason"], "operator", "{disabled}");
    assert_eq!(disabled["route"]["kind"], "target", "{disabled}");
    assert_eq!(disabled["route"]["id"], tid.as_str(), "{disabled}");
    // Its waiting invocation ends cancelled; the health shows when and why.
    wait_status(&s, &waiting, "cancelled").await;
    let h = breaker(&s, &tid).await;
    assert_eq!(h["disabled"]["reason"], "operator", "{h}");
    assert!(h["disabled"]["at"].is_string(), "{h}");
    // Switching it off again changes nothing and reports nothing.
    let (st, _) = s
        .post(&format!("/v1/targets/{tid}/disable"), json!({}))
        .await;
    assert_eq!(st, 204);
    // Fan-out skips it while it is off.
    let skipped = publish(&s, "user.human.added", json!({"userId": "u2"})).await;
    assert!(
        !skipped["invocations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["routeId"] == tid.as_str()),
        "{skipped}"
    );

    // Switched back on, it delivers again.
    r.default_for("/down", 200);
    let (st, v) = s
        .post(&format!("/v1/targets/{tid}/enable"), json!({}))
        .await;
    assert_eq!(st, 204, "{v}");
    assert!(breaker(&s, &tid).await.get("disabled").is_none());
    let back = publish(&s, "user.human.added", json!({"userId": "u3"})).await;
    wait_status(&s, &invocation_for(&back, &tid), "delivered").await;
    assert_eq!(
        r.on("/ops/route-disabled").len(),
        1,
        "one switch-off, one event"
    );

    // An unknown target is a 404 in the native shape.
    let (st, v) = s.post("/v1/targets/nope/disable", json!({})).await;
    assert_eq!(st, 404, "{v}");
    assert!(v["message"].as_str().unwrap().contains("nope"), "{v}");
}
