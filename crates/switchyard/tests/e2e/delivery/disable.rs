//! Disable means stop: a disabled, deleted or unbound route gets no further attempts. Its queued
//! and retrying invocations end `cancelled` with the reason in their attempt log, and switching
//! the route back on does not bring them back. The same after a 410 Gone.

use super::*;

const JSON_PATCH: &str = "application/json-patch+json";

/// A server whose retries come every 300 ms, so a test sees an invocation retrying.
async fn retrying_server() -> TestServer {
    server_with_schedule("300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms").await
}

async fn set_enabled(s: &TestServer, id: &str, enabled: bool) {
    let ops = json!([{"op": "replace", "path": "/enabled", "value": enabled}]);
    let (st, v) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{id}"),
            JSON_PATCH,
            &ops.to_string(),
        )
        .await;
    assert_eq!(st, 200, "{v}");
}

/// Waits until the invocation ended cancelled; checks its last log entry names `reason`.
async fn wait_cancelled(s: &TestServer, inv: &str, reason: &str) -> Value {
    let v = wait_status(s, inv, "cancelled").await;
    let last = v["attempts"].as_array().unwrap().last().unwrap().clone();
    // Its own entry, or the entry of the attempt that was in flight when the route went away.
    let logged = last["error"].as_str().unwrap_or("");
    assert!(logged.contains(&format!("cancelled: {reason}")), "{v}");
    assert!(
        v["lastError"].as_str().unwrap_or("").contains(reason),
        "{v}"
    );
    v
}

/// No request reaches `path` for a while longer than the retry schedule's step.
async fn stays_quiet(r: &Receiver, path: &str, seen: usize) {
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(r.on(path).len(), seen, "requests to {path} after the stop");
}

#[tokio::test]
async fn a_disabled_subscription_gets_no_more_retries_and_enabling_it_does_not_resend() {
    let s = retrying_server().await;
    let r = Receiver::start().await;
    r.default_for("/down", 503);
    let sub = subscribe(&s, &r.url("/down"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let published = publish(&s, "idn:identity-created", identity("ida", "Ops")).await;
    let inv = invocation_for(&published, id);
    r.wait_for_path("/down", 2, WAIT).await;

    set_enabled(&s, id, false).await;
    wait_cancelled(&s, &inv, "the subscription was disabled").await;
    let seen = r.on("/down").len();
    stays_quiet(&r, "/down", seen).await;

    set_enabled(&s, id, true).await;
    stays_quiet(&r, "/down", seen).await;
    assert_eq!(invocation(&s, &inv).await["status"], "cancelled");
    // An operator may still send it again on purpose.
    r.default_for("/down", 204);
    let (st, v) = s
        .post(&format!("/v1/invocations/{inv}/replay"), json!({}))
        .await;
    assert!(st.is_success(), "{v}");
    wait_status(&s, &inv, "delivered").await;
}

#[tokio::test]
async fn a_deleted_subscription_gets_no_more_retries() {
    let s = retrying_server().await;
    let r = Receiver::start().await;
    r.default_for("/gone-away", 503);
    let sub = subscribe(&s, &r.url("/gone-away"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let published = publish(&s, "idn:identity-created", identity("ada", "Ops")).await;
    let inv = invocation_for(&published, id);
    r.wait_for_path("/gone-away", 1, WAIT).await;
    let (st, _) = s.call(Method::DELETE, &format!("{SUBS}/{id}"), None).await;
    assert_eq!(st, 204);
    wait_cancelled(&s, &inv, "the subscription was deleted").await;
    let seen = r.on("/gone-away").len();
    stays_quiet(&r, "/gone-away", seen).await;
}

#[tokio::test]
async fn a_target_taken_out_of_its_execution_or_deleted_gets_no_more_retries() {
    let s = retrying_server().await;
    let r = Receiver::start().await;
    r.default_for("/kept", 503);
    r.default_for("/dropped", 503);
    r.default_for("/deleted", 503);
    // Async targets are due at once, so all three are retrying side by side.
    let kind = json!({"restAsync": {}});
    let (kept, _) = target(&s, "kept", &r.url("/kept"), kind.clone()).await;
    let (dropped, _) = target(&s, "dropped", &r.url("/dropped"), kind.clone()).await;
    let (deleted, _) = target(&s, "deleted", &r.url("/deleted"), kind).await;
    execution(&s, "user.human.added", &[&kept, &dropped, &deleted]).await;
    let published = publish(&s, "user.human.added", json!({"userID": "u1"})).await;
    let (kept_inv, dropped_inv, deleted_inv) = (
        invocation_for(&published, &kept),
        invocation_for(&published, &dropped),
        invocation_for(&published, &deleted),
    );
    r.wait_for_path("/dropped", 1, WAIT).await;
    r.wait_for_path("/deleted", 1, WAIT).await;

    execution(&s, "user.human.added", &[&kept, &deleted]).await;
    wait_cancelled(
        &s,
        &dropped_inv,
        "the target is no longer in the execution for 'user.human.added'",
    )
    .await;
    let (st, v) = s
        .call(Method::DELETE, &format!("{V3}/targets/{deleted}"), None)
        .await;
    assert!(st.is_success(), "{v}");
    wait_cancelled(&s, &deleted_inv, "the target was deleted").await;

    let seen = (r.on("/dropped").len(), r.on("/deleted").len());
    let kept_before = r.on("/kept").len();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!((r.on("/dropped").len(), r.on("/deleted").len()), seen);
    // The target that stayed bound is still being retried.
    assert!(r.on("/kept").len() > kept_before);
    assert_eq!(invocation(&s, &kept_inv).await["status"], "pending");
}

#[tokio::test]
async fn a_410_cancels_the_routes_other_retrying_invocations() {
    let s = retrying_server().await;
    let r = Receiver::start().await;
    r.script("/leaving", [503]);
    r.default_for("/leaving", 410);
    let sub = subscribe(&s, &r.url("/leaving"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    // The first event fails and waits 300 ms for its retry; meanwhile the second meets the 410.
    let first = publish(&s, "idn:identity-created", identity("eve", "Ops")).await;
    r.wait_for_path("/leaving", 1, WAIT).await;
    let second = publish(&s, "idn:identity-created", identity("fay", "Ops")).await;
    let gone = wait_status(&s, &invocation_for(&second, id), "failed").await;
    assert_eq!(gone["lastStatus"], 410, "{gone}");
    wait_cancelled(
        &s,
        &invocation_for(&first, id),
        "the route was disabled: its receiver answered 410 Gone",
    )
    .await;
    stays_quiet(&r, "/leaving", 2).await;
    let (_, sub) = s.get(&format!("{SUBS}/{id}")).await;
    assert_eq!(sub["enabled"], false, "{sub}");
}
