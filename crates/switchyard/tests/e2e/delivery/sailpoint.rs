//! SailPoint subscriptions as receivers see them: which subscriptions an event reaches (filters,
//! `enabled`), the fire-and-forget body with `_metadata`, the Authorization header per
//! `httpConfig`, and the Standard Webhooks signature.

use super::signatures::{standard_webhooks_signers, subscription_secret};
use super::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

#[tokio::test]
async fn filters_select_subscriptions_and_disabled_ones_get_nothing() {
    let s = server().await;
    let r = Receiver::start().await;
    let eng = subscribe(
        &s,
        &r.url("/eng"),
        json!({"filter": "$[?(@.department == 'Engineering')]"}),
    )
    .await;
    let sales = subscribe(
        &s,
        &r.url("/sales"),
        json!({"filter": "$[?(@.department == 'Sales')]"}),
    )
    .await;
    let off = subscribe(&s, &r.url("/off"), json!({"enabled": false})).await;
    let (eng, sales) = (eng["id"].as_str().unwrap(), sales["id"].as_str().unwrap());
    assert_eq!(off["enabled"], false);

    let first = publish(&s, "idn:identity-created", identity("ann", "Engineering")).await;
    let routes: Vec<&str> = first["invocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["routeId"].as_str().unwrap())
        .collect();
    assert_eq!(routes, [eng], "only the matching subscription: {first}");
    let got = r.wait_for_path("/eng", 1, WAIT).await;
    assert_eq!(got[0].json()["identity"]["name"], "ann");

    let second = publish(&s, "idn:identity-created", identity("bob", "Sales")).await;
    assert_eq!(
        second["invocations"].as_array().unwrap().len(),
        1,
        "{second}"
    );
    assert_eq!(second["invocations"][0]["routeId"], sales);
    let got = r.wait_for_path("/sales", 1, WAIT).await;
    assert_eq!(got[0].json()["identity"]["name"], "bob");

    // Matches neither filter: accepted, delivered nowhere.
    let third = publish(&s, "idn:identity-created", identity("cy", "Legal")).await;
    assert_eq!(third["invocations"], json!([]), "{third}");

    // Both deliveries are recorded as delivered; nothing else ever arrived.
    wait_status(&s, &invocation_for(&first, eng), "delivered").await;
    wait_status(&s, &invocation_for(&second, sales), "delivered").await;
    let paths: Vec<String> = r.requests().into_iter().map(|q| q.path).collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(r.on("/off").is_empty());
}

#[tokio::test]
async fn body_carries_the_input_and_metadata() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/hook"), json!({})).await;
    let payload = identity("dora", "Engineering");
    let published = publish(&s, "idn:identity-created", payload.clone()).await;
    let inv = invocation_for(&published, sub["id"].as_str().unwrap());

    let req = &r.wait_for_path("/hook", 1, WAIT).await[0];
    assert_eq!(req.header("content-type"), "application/json");
    let body = req.json();
    let mut expected = payload;
    expected["_metadata"] = json!({
        "triggerId": "idn:identity-created",
        "triggerType": "fireAndForget",
        "invocationId": inv,
    });
    assert_eq!(body, expected);
    assert_eq!(req.header("webhook-id"), inv);
    // No credentials configured, none sent.
    assert_eq!(req.header("authorization"), "");
}

#[tokio::test]
async fn authorization_follows_http_config() {
    let s = server().await;
    let r = Receiver::start().await;
    subscribe(
        &s,
        &r.url("/basic"),
        json!({"httpConfig": {
        "url": r.url("/basic"), "httpAuthenticationType": "BASIC_AUTH",
        "basicAuthConfig": {"userName": "svc-user", "password": "p@ss:word"}}}),
    )
    .await;
    subscribe(
        &s,
        &r.url("/bearer"),
        json!({"httpConfig": {
        "url": r.url("/bearer"), "httpAuthenticationType": "BEARER_TOKEN",
        "bearerTokenAuthConfig": {"bearerToken": "tok-123.abc"}}}),
    )
    .await;
    publish(&s, "idn:identity-created", identity("eve", "Ops")).await;

    let basic = &r.wait_for_path("/basic", 1, WAIT).await[0];
    let encoded = basic
        .header("authorization")
        .strip_prefix("Basic ")
        .unwrap_or_else(|| panic!("not Basic: {:?}", basic.headers));
    let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(decoded, "svc-user:p@ss:word");
    let bearer = &r.wait_for_path("/bearer", 1, WAIT).await[0];
    assert_eq!(bearer.header("authorization"), "Bearer tok-123.abc");
}

#[tokio::test]
async fn standard_webhooks_signature_verifies_with_the_subscription_secret() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/signed"), json!({})).await;
    let secret = subscription_secret(&s, sub["id"].as_str().unwrap()).await;
    publish(&s, "idn:identity-created", identity("fay", "Engineering")).await;

    let req = &r.wait_for_path("/signed", 1, WAIT).await[0];
    assert!(
        req.header("webhook-signature").starts_with("v1,"),
        "{:?}",
        req.headers
    );
    assert_eq!(standard_webhooks_signers(req, &[&secret]), [Some(0)]);

    // A tampered body or another secret does not verify.
    let mut tampered = req.clone();
    tampered.body.push(b' ');
    let other = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    assert_eq!(standard_webhooks_signers(&tampered, &[&secret]), [None]);
    assert_eq!(standard_webhooks_signers(req, &[&other]), [None]);
}

#[tokio::test]
async fn secret_rotation_with_grace_signs_with_both_secrets() {
    let s = server().await;
    let r = Receiver::start().await;
    let sub = subscribe(&s, &r.url("/rot"), json!({})).await;
    let id = sub["id"].as_str().unwrap();
    let old = subscription_secret(&s, id).await;
    // The read endpoint shows the same secret the store holds.
    let (st, shown) = s.get(&format!("/v1/subscriptions/{id}/secret")).await;
    assert_eq!(st, 200, "{shown}");
    assert_eq!(shown["secret"], old.as_str());

    let (st, rotated) = s
        .post(
            &format!("/v1/subscriptions/{id}/secret/rotate"),
            json!({"gracePeriod": "PT1M"}),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    publish(&s, "idn:identity-created", identity("gil", "Ops")).await;
    let req = &r.wait_for_path("/rot", 1, WAIT).await[0];
    let mut signers = standard_webhooks_signers(req, &[&old, &new]);
    signers.sort();
    assert_eq!(signers, [Some(0), Some(1)], "{:?}", req.headers);

    // Without grace only the new secret signs.
    let (st, rotated) = s
        .post(
            &format!("/v1/subscriptions/{id}/secret/rotate"),
            json!({"gracePeriod": "PT0S"}),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let newest = rotated["secret"].as_str().unwrap().to_string();
    publish(&s, "idn:identity-created", identity("hil", "Ops")).await;
    let req = &r.wait_for_path("/rot", 2, WAIT).await[1];
    assert_eq!(
        standard_webhooks_signers(req, &[&old, &new, &newest]),
        [Some(2)]
    );
}
