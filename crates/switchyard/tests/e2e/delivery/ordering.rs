//! FIFO per key (`ordering` in a route's policy): a key whose first event fails waits for it
//! (retries included) while other keys go on; `onFailure: "skip"` moves on at the first failure;
//! under concurrent load every key's events arrive in acceptance order; events without a key are
//! not ordered.

use super::*;
use receiver::Recorded;

/// The department of an event carries its name (`A1`, `B2`, ...), so the receiver can tell
/// events apart and script failures for one of them.
fn keyed_event(key: &str, name: &str) -> Value {
    identity(key, &format!("dept-{name}-end"))
}

fn name_of(r: &Recorded) -> String {
    let body = String::from_utf8_lossy(&r.body);
    let start = body.find("dept-").expect("a department") + 5;
    let end = body[start..].find("-end").unwrap() + start;
    body[start..end].to_string()
}

async fn ordered_subscription(s: &TestServer, url: &str, ordering: Value) -> String {
    let sub = subscribe(s, url, json!({})).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("/v1/subscriptions/{id}/policy"),
            Some(json!({ "ordering": ordering })),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ordering"]["key"], "$.identity.id", "{v}");
    id
}

#[tokio::test]
async fn a_failing_key_waits_and_other_keys_do_not() {
    // Retries far enough apart that B's events are certainly done before A1 succeeds.
    let s = server_with_schedule("600ms,600ms").await;
    let r = Receiver::start().await;
    // A1 fails twice (503), then is delivered on its third try.
    r.script_body("dept-A1-end", [503, 503]);
    let id = ordered_subscription(&s, &r.url("/o"), json!({"key": "$.identity.id"})).await;
    let mut ids = Vec::new();
    for (key, name) in [
        ("a", "A1"),
        ("b", "B1"),
        ("a", "A2"),
        ("b", "B2"),
        ("a", "A3"),
    ] {
        let p = publish(&s, "idn:identity-created", keyed_event(key, name)).await;
        ids.push(invocation_for(&p, &id));
    }
    let all = r.wait_for(7, WAIT).await;
    let order: Vec<String> = all.iter().map(name_of).collect();
    let pos = |name: &str| order.iter().rposition(|n| n == name).unwrap();
    let first = |name: &str| order.iter().position(|n| n == name).unwrap();
    assert_eq!(order.iter().filter(|n| *n == "A1").count(), 3, "{order:?}");
    // A's later events wait for A1's successful third try, and for each other.
    assert!(first("A2") > pos("A1"), "{order:?}");
    assert!(first("A3") > pos("A2"), "{order:?}");
    // B is not held up by A: both of its events arrive before A1's retries end.
    assert!(pos("B2") < pos("A1"), "{order:?}");
    assert!(first("B2") > pos("B1"), "{order:?}");
    for inv in &ids {
        wait_status(&s, inv, "delivered").await;
    }
}

#[tokio::test]
async fn skip_ends_a_failing_head_and_moves_on() {
    let s = server().await;
    let r = Receiver::start().await;
    r.script_body("dept-A1-end", [503]);
    let id = ordered_subscription(
        &s,
        &r.url("/o"),
        json!({"key": "$.identity.id", "onFailure": "skip"}),
    )
    .await;
    let a1 = invocation_for(
        &publish(&s, "idn:identity-created", keyed_event("a", "A1")).await,
        &id,
    );
    let a2 = invocation_for(
        &publish(&s, "idn:identity-created", keyed_event("a", "A2")).await,
        &id,
    );
    let v = wait_status(&s, &a1, "failed").await;
    assert_eq!(v["attemptCount"], 1, "{v}");
    assert!(v["lastError"].as_str().unwrap().contains("skip"), "{v}");
    wait_status(&s, &a2, "delivered").await;
    let order: Vec<String> = r.requests().iter().map(name_of).collect();
    assert_eq!(order, ["A1", "A2"]);
    // The skipped head can be replayed.
    let (st, v) = s
        .call(Method::POST, &format!("/v1/invocations/{a1}/replay"), None)
        .await;
    assert!(st.is_success(), "{v}");
    wait_status(&s, &a1, "delivered").await;
}

#[tokio::test]
async fn every_key_keeps_its_order_under_concurrent_load() {
    let s = std::sync::Arc::new(server().await);
    let r = Receiver::start().await;
    // Slow answers keep many keys in flight at once.
    r.set_delay(Duration::from_millis(5));
    let id = ordered_subscription(&s, &r.url("/o"), json!({"key": "$.identity.id"})).await;
    const KEYS: usize = 8;
    const PER_KEY: usize = 15;
    // One publisher per key (each in order), all keys at once.
    let mut tasks = Vec::new();
    for k in 0..KEYS {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_KEY {
                let event = keyed_event(&format!("k{k}"), &format!("k{k}x{n}"));
                publish(&s, "idn:identity-created", event).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let all = r.wait_for(KEYS * PER_KEY, WAIT).await;
    for k in 0..KEYS {
        let got: Vec<String> = all
            .iter()
            .map(name_of)
            .filter(|n| n.starts_with(&format!("k{k}x")))
            .collect();
        let want: Vec<String> = (0..PER_KEY).map(|n| format!("k{k}x{n}")).collect();
        assert_eq!(got, want, "key k{k}");
    }
    assert!(r.max_concurrent() > 1, "keys were delivered in parallel");
    // Outcomes are recorded just after the answers: wait (bounded) until all say delivered.
    let until = std::time::Instant::now() + WAIT;
    loop {
        let (_, v) = s
            .get(&format!(
                "/v1/invocations?routeId={id}&status=delivered&limit=200"
            ))
            .await;
        if v["data"].as_array().map(Vec::len) == Some(KEYS * PER_KEY) {
            break;
        }
        assert!(std::time::Instant::now() < until, "not all delivered: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn events_without_a_key_are_not_ordered() {
    let s = server().await;
    let r = Receiver::start().await;
    r.set_delay(Duration::from_millis(200));
    let sub = subscribe(&s, &r.url("/o"), json!({})).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let (st, v) = s
        .call(
            Method::PUT,
            &format!("/v1/subscriptions/{id}/policy"),
            Some(json!({"ordering": {"key": "$.attributes.region"}})),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    // No `region` in these payloads: nothing orders them, so both are in flight together.
    publish(&s, "idn:identity-created", keyed_event("a", "A1")).await;
    publish(&s, "idn:identity-created", keyed_event("a", "A2")).await;
    r.wait_for(2, WAIT).await;
    assert_eq!(r.max_concurrent(), 2);
}
