//! Route delivery policies (`/v1/{targets,subscriptions}/{id}/policy`): the API (defaults,
//! validation naming the field, 404, scopes) and what a policy changes in delivery — the route's
//! own retry schedule and `maxAttempts` replace the server's, and a subscription's `timeout`
//! bounds each request.

use super::*;

async fn put_policy(s: &TestServer, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
    s.call(Method::PUT, path, Some(body)).await
}

#[tokio::test]
async fn policies_are_validated_stored_and_scoped() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/p"), json!({})).await;
    let path = format!("/v1/subscriptions/{}/policy", sub["id"].as_str().unwrap());

    let (st, v) = s.get(&path).await;
    assert_eq!((st.as_u16(), v.clone()), (200, json!({})), "no policy: {v}");

    let full = json!({"retrySchedule": ["5s", "1m", "90s"], "maxAttempts": 10, "timeout": "10s",
        "maxInFlight": 8, "rateLimit": "100/1s",
        "ordering": {"key": "$.identity.id", "onFailure": "skip"},
        "format": "cloudevents-structured", "autoDisable": {"after": "72h"}});
    let (st, v) = put_policy(&s, &path, full).await;
    assert_eq!(st, 200, "{v}");
    // Answered in canonical spelling.
    assert_eq!(v["retrySchedule"], json!(["5s", "1m", "90s"]), "{v}");
    assert_eq!(v["autoDisable"]["after"], "3d", "{v}");
    let (st, got) = s.get(&path).await;
    assert_eq!((st.as_u16(), &got), (200, &v));

    // Every invalid value is a 400 naming its field; nothing changes.
    for (body, field) in [
        (json!({"maxAttempts": 0}), "maxAttempts"),
        (json!({"maxAttempts": 101}), "maxAttempts"),
        (json!({"timeout": "6m"}), "timeout"),
        (json!({"maxInFlight": 0}), "maxInFlight"),
        (json!({"rateLimit": "100 per second"}), "rateLimit"),
        (json!({"rateLimit": "10/100ms"}), "rateLimit"),
        (json!({"retrySchedule": ["1s", "8d"]}), "retrySchedule[1]"),
        (json!({"ordering": {"key": "$..id"}}), "ordering.key"),
        (
            json!({"ordering": {"key": "$.a", "onFailure": "drop"}}),
            "ordering",
        ),
        (json!({"format": "xml"}), "format"),
        (json!({"autoDisable": {"after": "1s"}}), "autoDisable.after"),
        (json!({"retries": 3}), "retries"),
    ] {
        let (st, e) = put_policy(&s, &path, body.clone()).await;
        assert_eq!(st, 400, "{body} → {e}");
        assert!(e.to_string().contains(field), "{body} → {e} names {field}");
    }
    assert_eq!(s.get(&path).await.1, v);

    // `{}` restores the defaults.
    let (st, v) = put_policy(&s, &path, json!({})).await;
    assert_eq!((st.as_u16(), v), (200, json!({})));

    // Unknown routes are 404s; a target has a policy of its own.
    let (st, _) = s.get("/v1/subscriptions/nope/policy").await;
    assert_eq!(st, 404);
    let (st, _) = put_policy(&s, "/v1/targets/nope/policy", json!({})).await;
    assert_eq!(st, 404);
    let (tid, _) = target(&s, "policy-t", &r.url("/t"), json!({"restWebhook": {}})).await;
    let tpath = format!("/v1/targets/{tid}/policy");
    let (st, v) = put_policy(&s, &tpath, json!({"maxAttempts": 3})).await;
    assert_eq!((st.as_u16(), v), (200, json!({"maxAttempts": 3})));
    assert_eq!(
        s.get(&path).await.1,
        json!({}),
        "routes do not share policies"
    );

    // Reading needs the read scope, changing the write scope.
    let reader = s.token("subscriptions:read");
    let (st, _) = s.call_as(Some(&reader), Method::GET, &path, None).await;
    assert_eq!(st, 200);
    let (st, _) = s
        .call_as(Some(&reader), Method::PUT, &path, Some(json!({})))
        .await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn a_routes_schedule_and_max_attempts_replace_the_servers() {
    // The server would wait 10 s between its 3 tries; the route retries every 100 ms, 5 times.
    let s = server_with_schedule("10s,10s").await;
    let r = Receiver::start().await;
    r.default_for("/down", 503);
    let sub = subscribe(&s, &r.url("/down"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let (st, v) = put_policy(
        &s,
        &format!("/v1/subscriptions/{id}/policy"),
        json!({"retrySchedule": ["100ms"], "maxAttempts": 5}),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    let published = publish(&s, "idn:identity-created", identity("pia", "Ops")).await;
    let inv = invocation_for(&published, id);
    let v = wait_status(&s, &inv, "failed").await;
    assert_eq!(v["attemptCount"], 5, "{v}");
    assert!(
        v["lastError"]
            .as_str()
            .unwrap()
            .contains("after 5 attempts"),
        "{v}"
    );
    let got = r.on("/down");
    assert_eq!(got.len(), 5);
    for pair in got.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(75), "{gap:?}");
        assert!(
            gap < Duration::from_secs(5),
            "the server's 10 s wait was used: {gap:?}"
        );
    }

    // A target's maxAttempts: 1 means one try, no retry.
    let (tid, _) = target(&s, "once", &r.url("/down"), json!({"restWebhook": {}})).await;
    execution(&s, "user.human.added", &[&tid]).await;
    let (st, _) = put_policy(
        &s,
        &format!("/v1/targets/{tid}/policy"),
        json!({"maxAttempts": 1}),
    )
    .await;
    assert_eq!(st, 200);
    let published = publish(&s, "user.human.added", json!({"aggregateID": "u-1"})).await;
    let v = wait_status(&s, &invocation_for(&published, &tid), "failed").await;
    assert_eq!(v["attemptCount"], 1, "{v}");
}

#[tokio::test]
async fn a_subscriptions_timeout_bounds_each_request() {
    let s = server_with_schedule("").await;
    let r = Receiver::start().await;
    r.delay_for("/slow", Duration::from_secs(4));
    let sub = subscribe(&s, &r.url("/slow"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let (st, _) = put_policy(
        &s,
        &format!("/v1/subscriptions/{id}/policy"),
        json!({"timeout": "1s"}),
    )
    .await;
    assert_eq!(st, 200);
    let published = publish(&s, "idn:identity-created", identity("tim", "Ops")).await;
    let v = wait_status(&s, &invocation_for(&published, id), "failed").await;
    let ms = v["attempts"][0]["durationMs"].as_u64().unwrap();
    assert!((900..3000).contains(&ms), "timed out after {ms} ms: {v}");
}

#[tokio::test]
async fn max_in_flight_is_never_exceeded() {
    let s = server().await;
    let r = Receiver::start().await;
    r.delay_for("/narrow", Duration::from_millis(150));
    let sub = subscribe(&s, &r.url("/narrow"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let (st, _) = put_policy(
        &s,
        &format!("/v1/subscriptions/{id}/policy"),
        json!({"maxInFlight": 3}),
    )
    .await;
    assert_eq!(st, 200);
    let mut invocations = Vec::new();
    for n in 0..15 {
        let published = publish(
            &s,
            "idn:identity-created",
            identity(&format!("m{n}"), "Ops"),
        )
        .await;
        invocations.push(invocation_for(&published, id));
    }
    r.wait_for_path("/narrow", 15, WAIT).await;
    for inv in &invocations {
        wait_status(&s, inv, "delivered").await;
    }
    assert_eq!(
        r.max_concurrent(),
        3,
        "the limit is used and never exceeded"
    );
}

#[tokio::test]
async fn a_rate_limit_holds_within_ten_percent() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/metered"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let (st, _) = put_policy(
        &s,
        &format!("/v1/subscriptions/{id}/policy"),
        json!({"rateLimit": "20/1s"}),
    )
    .await;
    assert_eq!(st, 200);
    // More than the bucket (20) plus 11 s of refill: the queue never runs dry while measured.
    for n in 0..260 {
        publish(
            &s,
            "idn:identity-created",
            identity(&format!("r{n}"), "Ops"),
        )
        .await;
    }
    let first = r.wait_for_path("/metered", 1, WAIT).await[0].at;
    // The first second holds the full bucket's burst; measure the next ten.
    let from = first + Duration::from_secs(1);
    let to = from + Duration::from_secs(10);
    r.wait_until(
        Duration::from_secs(30),
        "deliveries past the window",
        |all| all.last().is_some_and(|q| q.at >= to),
    )
    .await;
    let in_window = r
        .on("/metered")
        .iter()
        .filter(|q| q.at >= from && q.at < to)
        .count();
    assert!(
        (180..=220).contains(&in_window),
        "{in_window} deliveries in 10 s at 20/s"
    );
    // Work over the limit waited; none of it failed.
    let text = metrics_text(&s).await;
    for outcome in ["failed", "retried"] {
        let sample = format!("switchyard_deliveries_total{{outcome=\"{outcome}\"}}");
        assert_eq!(metric(&text, &sample).unwrap_or(0.0), 0.0, "{outcome}");
    }
}
