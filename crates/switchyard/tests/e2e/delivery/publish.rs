//! The producer API around delivery: idempotent publishing, the 400s for bad events, and the
//! delivery metrics. (EventBridge delivery is tested against moto in tests/sdk/test_eventbridge.py.)

use super::*;

#[tokio::test]
async fn same_id_twice_is_accepted_once() {
    let s = server().await;
    let r = Receiver::start().await;
    subscribe(&s, &r.url("/once"), json!({})).await;
    let body =
        json!({"type": "idn:identity-created", "id": "evt-42", "payload": identity("max", "Ops")});
    let (st, first) = s.post("/v1/events", body.clone()).await;
    assert_eq!(st, 202, "{first}");
    assert_eq!(first["eventId"], "evt-42");
    let (st, second) = s.post("/v1/events", body).await;
    assert_eq!(st, 202, "{second}");
    assert_eq!(first, second);

    let inv = first["invocations"][0]["id"].as_str().unwrap();
    wait_status(&s, inv, "delivered").await;
    // A different event reaches the receiver after it: by then a duplicate would have shown.
    let other = publish(&s, "idn:identity-created", identity("ned", "Ops")).await;
    wait_status(
        &s,
        other["invocations"][0]["id"].as_str().unwrap(),
        "delivered",
    )
    .await;
    let ids: Vec<String> = r
        .on("/once")
        .iter()
        .map(|q| q.header("webhook-id").to_string())
        .collect();
    assert_eq!(ids.iter().filter(|i| *i == inv).count(), 1, "{ids:?}");
    let text = metrics_text(&s).await;
    assert_eq!(
        metric(&text, "switchyard_events_accepted_total"),
        Some(2.0),
        "{text}"
    );
}

#[tokio::test]
async fn same_id_published_concurrently_is_accepted_once() {
    // Concurrent publishes land in one group-committed batch: the duplicates inside that batch
    // must get the first answer, and only one event with one set of invocations may exist.
    let s = server().await;
    let r = Receiver::start().await;
    subscribe(&s, &r.url("/race"), json!({})).await;
    let body = json!({"type": "idn:identity-created", "id": "evt-race", "payload": identity("ann", "Ops")});
    let answers = futures_util::future::join_all((0..24).map(|_| {
        let (s, body) = (&s, body.clone());
        async move { s.post("/v1/events", body).await }
    }))
    .await;
    let first = &answers[0].1;
    for (st, v) in &answers {
        assert_eq!(*st, 202, "{v}");
        assert_eq!(v, first, "every answer is the first answer");
    }
    let inv = first["invocations"][0]["id"].as_str().unwrap();
    wait_status(&s, inv, "delivered").await;
    let text = metrics_text(&s).await;
    assert_eq!(
        metric(&text, "switchyard_events_accepted_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, "switchyard_invocations_created_total"),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn bad_events_are_refused_with_native_errors() {
    let s = server().await;
    let cases = [
        (
            json!({"type": "idn:no-such-trigger", "payload": {}}),
            vec!["idn:no-such-trigger"],
        ),
        (
            json!({"type": "idn:identity-created", "payload": {"identity": {"type": "IDENTITY", "id": "x"}, "attributes": {}}}),
            vec!["idn:identity-created", "name"],
        ),
        (
            json!({"type": "idn:identity-created", "payload": {"attributes": {}}}),
            vec!["identity"],
        ),
        (
            json!({"type": "idn:identity-created", "payload": {"_metadata": {}, "identity": {"type": "I", "id": "x", "name": "n"}, "attributes": {}}}),
            vec!["_metadata"],
        ),
        (
            json!({"type": "idn:identity-created", "payload": [1]}),
            vec!["payload", "object"],
        ),
        (
            json!({"type": "user.human.added", "payload": {}, "id": "has space"}),
            vec!["id"],
        ),
    ];
    for (body, needles) in cases {
        let (st, e) = s.post("/v1/events", body.clone()).await;
        assert_eq!(st, 400, "{body} -> {e}");
        assert_eq!(e["code"], "invalid_argument", "{e}");
        let msg = e["message"].as_str().unwrap_or("");
        for n in needles {
            assert!(msg.contains(n), "'{n}' not in '{msg}' for {body}");
        }
    }
    let text = metrics_text(&s).await;
    assert_eq!(metric(&text, "switchyard_events_accepted_total"), Some(0.0));
}

#[tokio::test]
async fn metrics_count_deliveries_and_show_the_queue() {
    let s = server().await;
    let r = Receiver::start().await;
    r.script("/m", [500]);
    let sub = subscribe(&s, &r.url("/m"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let mut invs = Vec::new();
    for i in 0..3 {
        let p = publish(
            &s,
            "idn:identity-created",
            identity(&format!("m{i}"), "Ops"),
        )
        .await;
        invs.push(invocation_for(&p, id));
    }
    for inv in &invs {
        wait_status(&s, inv, "delivered").await;
    }
    let text = metrics_text(&s).await;
    let m = |k: &str| metric(&text, k).unwrap_or_else(|| panic!("no sample {k} in\n{text}"));
    assert_eq!(m("switchyard_deliveries_total{outcome=\"delivered\"}"), 3.0);
    assert_eq!(m("switchyard_deliveries_total{outcome=\"retried\"}"), 1.0);
    assert_eq!(m("switchyard_retries_scheduled_total"), 1.0);
    assert_eq!(m("switchyard_events_accepted_total"), 3.0);
    assert_eq!(m("switchyard_invocations_created_total"), 3.0);
    assert_eq!(m("switchyard_queue_depth{state=\"pending\"}"), 0.0);
    assert_eq!(m("switchyard_queue_depth{state=\"in_flight\"}"), 0.0);
    assert!(
        !text.contains("switchyard_queue_depth{state=\"delivered\"}"),
        "{text}"
    );
    assert!(text.contains("# TYPE switchyard_delivery_duration_seconds histogram"));
    assert_eq!(m("switchyard_delivery_duration_seconds_count"), 4.0);
    assert_eq!(
        m("switchyard_delivery_duration_seconds_bucket{le=\"+Inf\"}"),
        4.0
    );
    assert!(m("switchyard_delivery_duration_seconds_sum") > 0.0);
}
