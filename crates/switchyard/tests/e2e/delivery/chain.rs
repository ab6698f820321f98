//! An execution's targets as an ordered chain: awaited targets are called one after the other,
//! an interruptOnError failure cancels the rest (and says why), restAsync targets go on their own.

use super::*;

#[tokio::test]
async fn targets_are_called_in_order() {
    let s = server().await;
    let r = Receiver::start().await;
    // A answers slowly: B must still wait for A's answer.
    r.delay_for("/a", Duration::from_millis(300));
    let (a, _) = target(
        &s,
        "a",
        &r.url("/a"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    let (b, _) = target(
        &s,
        "b",
        &r.url("/b"),
        json!({"restCall": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&a, &b]).await;
    let published = publish(&s, "user.human.added", json!({"k": "v"})).await;
    assert_eq!(
        published["invocations"].as_array().unwrap().len(),
        2,
        "{published}"
    );

    let got = r.wait_for(2, WAIT).await;
    let paths: Vec<&str> = got.iter().map(|q| q.path.as_str()).collect();
    assert_eq!(paths, ["/a", "/b"]);
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(300),
        "B was called before A answered"
    );
    wait_status(&s, &invocation_for(&published, &b), "delivered").await;
    wait_status(&s, &invocation_for(&published, &a), "delivered").await;
}

#[tokio::test]
async fn interrupt_on_error_cancels_the_rest_of_the_chain() {
    let s = server().await;
    let r = Receiver::start().await;
    r.default_for("/a", 500);
    let (a, _) = target(
        &s,
        "a",
        &r.url("/a"),
        json!({"restWebhook": {"interruptOnError": true}}),
    )
    .await;
    let (b, _) = target(
        &s,
        "b",
        &r.url("/b"),
        json!({"restCall": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&a, &b]).await;
    let published = publish(&s, "user.human.added", json!({})).await;

    let a_inv = wait_status(&s, &invocation_for(&published, &a), "failed").await;
    assert_eq!(a_inv["attemptCount"], 4, "first try + 3 retries: {a_inv}");
    assert_eq!(r.on("/a").len(), 4);
    let b_inv = wait_status(&s, &invocation_for(&published, &b), "failed").await;
    let why = b_inv["lastError"].as_str().unwrap_or("");
    assert!(why.contains(&a), "B's error names A ({a}): {b_inv}");
    assert_eq!(b_inv["attemptCount"], 0, "{b_inv}");
    assert!(r.on("/b").is_empty(), "B was called");
}

#[tokio::test]
async fn a_failure_without_interrupt_lets_the_chain_go_on() {
    let s = server().await;
    let r = Receiver::start().await;
    r.default_for("/a", 500);
    let (a, _) = target(
        &s,
        "a",
        &r.url("/a"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    let (b, _) = target(
        &s,
        "b",
        &r.url("/b"),
        json!({"restCall": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&a, &b]).await;
    let published = publish(&s, "user.human.added", json!({})).await;
    wait_status(&s, &invocation_for(&published, &a), "failed").await;
    wait_status(&s, &invocation_for(&published, &b), "delivered").await;
    let b_req = r.on("/b");
    assert_eq!(b_req.len(), 1);
    // B only started after A's last try.
    assert!(r.on("/a").iter().all(|q| q.at <= b_req[0].at));
}

#[tokio::test]
async fn rest_async_targets_are_delivered_independently() {
    let s = server().await;
    let r = Receiver::start().await;
    r.default_for("/a", 500);
    let (a, _) = target(
        &s,
        "a",
        &r.url("/a"),
        json!({"restWebhook": {"interruptOnError": true}}),
    )
    .await;
    let (c, _) = target(&s, "c", &r.url("/c"), json!({"restAsync": {}})).await;
    let (b, _) = target(
        &s,
        "b",
        &r.url("/b"),
        json!({"restCall": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&a, &c, &b]).await;
    let published = publish(&s, "user.human.added", json!({})).await;

    // The async target does not wait for A's retries, and A's failure does not cancel it.
    r.wait_for_path("/c", 1, WAIT).await;
    assert!(r.on("/a").len() < 4, "C arrived only after A gave up");
    wait_status(&s, &invocation_for(&published, &c), "delivered").await;
    wait_status(&s, &invocation_for(&published, &a), "failed").await;
    wait_status(&s, &invocation_for(&published, &b), "failed").await;
    assert!(r.on("/b").is_empty());
}
