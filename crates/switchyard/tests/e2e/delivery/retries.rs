//! Retrying: one `webhook-id` across tries and an attempt log that shows each of them,
//! `Retry-After` honoured, 410 Gone switching a subscription off, and replay after the last try.

use super::*;

#[tokio::test]
async fn fails_twice_then_succeeds_with_one_webhook_id() {
    let s = server().await;
    let r = Receiver::start().await;
    r.script("/flaky", [500, 500, 204]);
    let sub = subscribe(&s, &r.url("/flaky"), json!({})).await;
    let published = publish(&s, "idn:identity-created", identity("gus", "Ops")).await;
    let inv = invocation_for(&published, sub["id"].as_str().unwrap());

    let got = r.wait_for_path("/flaky", 3, WAIT).await;
    for q in &got {
        assert_eq!(q.header("webhook-id"), inv);
    }
    // The schedule's waits (100 ms, 200 ms, each with ±20 % jitter) lie between the tries.
    assert!(got[1].at - got[0].at >= Duration::from_millis(75));
    assert!(got[2].at - got[1].at >= Duration::from_millis(150));

    let v = wait_status(&s, &inv, "delivered").await;
    assert_eq!(v["attemptCount"], 3, "{v}");
    let attempts = v["attempts"].as_array().unwrap();
    let ns: Vec<&Value> = attempts.iter().map(|a| &a["n"]).collect();
    assert_eq!(ns, [1, 2, 3]);
    let statuses: Vec<&Value> = attempts.iter().map(|a| &a["status"]).collect();
    assert_eq!(statuses, [500, 500, 204]);
    assert!(
        attempts[0]["error"].as_str().unwrap_or("").contains("500"),
        "{v}"
    );
    assert!(attempts[2]["error"].is_null(), "{v}");
    for a in attempts {
        assert_eq!(a["requestHeaders"]["webhook-id"], inv.as_str());
        assert!(a["durationMs"].is_u64() && a["at"].is_string(), "{a}");
    }
    // Nothing more is sent once delivered.
    assert_eq!(r.on("/flaky").len(), 3);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let s = server_with_schedule("100ms,100ms").await;
    let r = Receiver::start().await;
    r.script("/busy", [Reply::status(429).header("Retry-After", "1")]);
    let sub = subscribe(&s, &r.url("/busy"), json!({})).await;
    let published = publish(&s, "idn:identity-created", identity("hal", "Ops")).await;
    let got = r.wait_for_path("/busy", 2, WAIT).await;
    let gap = got[1].at - got[0].at;
    assert!(
        gap >= Duration::from_millis(900),
        "second try after {gap:?}, not after Retry-After: 1"
    );
    let v = wait_status(
        &s,
        &invocation_for(&published, sub["id"].as_str().unwrap()),
        "delivered",
    )
    .await;
    assert_eq!(v["attempts"][0]["status"], 429, "{v}");
}

#[tokio::test]
async fn gone_disables_the_subscription_until_enabled_again() {
    let s = server().await;
    let r = Receiver::start().await;
    r.script("/gone", [410]);
    let sub = subscribe(&s, &r.url("/gone"), json!({})).await;
    let id = sub["id"].as_str().unwrap().to_string();
    let published = publish(&s, "idn:identity-created", identity("ivy", "Ops")).await;
    let v = wait_status(&s, &invocation_for(&published, &id), "failed").await;
    assert_eq!(v["attemptCount"], 1, "410 is not retried: {v}");
    assert_eq!(r.on("/gone").len(), 1);

    let (st, got) = s.get(&format!("{SUBS}/{id}")).await;
    assert_eq!(st, 200);
    assert_eq!(got["enabled"], false, "{got}");
    let later = publish(&s, "idn:identity-created", identity("jo", "Ops")).await;
    assert_eq!(
        later["invocations"],
        json!([]),
        "a disabled subscription gets nothing: {later}"
    );

    let (st, patched) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{id}"),
            "application/json-patch+json",
            r#"[{"op":"replace","path":"/enabled","value":true}]"#,
        )
        .await;
    assert_eq!(st, 200, "{patched}");
    assert_eq!(patched["enabled"], true);
    let again = publish(&s, "idn:identity-created", identity("kim", "Ops")).await;
    let inv = invocation_for(&again, &id);
    let got = r.wait_for_path("/gone", 2, WAIT).await;
    assert_eq!(got[1].json()["identity"]["name"], "kim");
    wait_status(&s, &inv, "delivered").await;
}

#[tokio::test]
async fn replay_after_the_last_try_delivers_again_and_keeps_numbering() {
    let s = server_with_schedule("100ms,100ms").await;
    let r = Receiver::start().await;
    r.script("/down", [500, 500, 500]);
    let sub = subscribe(&s, &r.url("/down"), json!({})).await;
    let published = publish(&s, "idn:identity-created", identity("lee", "Ops")).await;
    let inv = invocation_for(&published, sub["id"].as_str().unwrap());
    let v = wait_status(&s, &inv, "failed").await;
    assert_eq!(v["attemptCount"], 3, "{v}");
    assert!(v["lastError"].as_str().unwrap_or("").contains("500"), "{v}");

    let (st, pending) = s
        .post(&format!("/v1/invocations/{inv}/replay"), json!({}))
        .await;
    assert_eq!(st, 202, "{pending}");
    let v = wait_status(&s, &inv, "delivered").await;
    let ns: Vec<&Value> = v["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["n"])
        .collect();
    assert_eq!(ns, [1, 2, 3, 4], "{v}");
    assert_eq!(v["attempts"][3]["status"], 204);
    let got = r.on("/down");
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|q| q.header("webhook-id") == inv));

    let (st, e) = s.post("/v1/invocations/nope/replay", json!({})).await;
    assert_eq!(st, 404, "{e}");
    assert_eq!(e["code"], "not_found");
}
