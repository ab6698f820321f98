//! ZITADEL event deliveries as a target sees them: the event envelope and `ZITADEL-Signature`,
//! checked with the target's signing key, and both keys signing during a rotation grace period.

use super::signatures::{zitadel_parts, zitadel_verifies};
use super::*;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[tokio::test]
async fn event_envelope_and_signature() {
    let s = server().await;
    let r = Receiver::start().await;
    let (id, key) = target(
        &s,
        "hook",
        &r.url("/z"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    let payload = json!({"userName": "ann", "email": {"email": "ann@example.com"}});
    let published = publish(&s, "user.human.added", payload.clone()).await;
    let inv = invocation_for(&published, &id);

    let req = &r.wait_for_path("/z", 1, WAIT).await[0];
    assert_eq!(req.header("content-type"), "application/json");
    let body = req.json();
    assert_eq!(body["event_type"], "user.human.added");
    assert_eq!(body["instanceID"], "default");
    assert_eq!(body["aggregateType"], "user");
    assert_eq!(body["event_payload"], payload);
    let created = body["created_at"].as_str().expect("created_at is a string");
    let created = OffsetDateTime::parse(created, &Rfc3339)
        .unwrap_or_else(|e| panic!("created_at '{created}' is not RFC 3339: {e}"));
    assert!((OffsetDateTime::now_utc() - created).whole_seconds().abs() < 60);
    for field in [
        "aggregateID",
        "resourceOwner",
        "version",
        "sequence",
        "userID",
    ] {
        assert!(body.get(field).is_some(), "envelope lacks {field}: {body}");
    }

    let (_, v1) = zitadel_parts(req);
    assert_eq!(v1.len(), 1, "one key, one signature");
    assert!(
        zitadel_verifies(req, &key),
        "signature does not verify with the signing key"
    );
    assert!(!zitadel_verifies(req, "some-other-key-0123456789abcdef"));
    let mut tampered = req.clone();
    tampered.body.insert(1, b' ');
    assert!(!zitadel_verifies(&tampered, &key));
    wait_status(&s, &inv, "delivered").await;
}

#[tokio::test]
async fn rotation_with_grace_signs_with_both_keys() {
    let s = server().await;
    let r = Receiver::start().await;
    let (id, old) = target(
        &s,
        "hook",
        &r.url("/z"),
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&id]).await;
    publish(&s, "user.human.added", json!({"n": 1})).await;
    let first = &r.wait_for_path("/z", 1, WAIT).await[0];
    assert!(zitadel_verifies(first, &old));

    let (st, rotated) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{id}"),
            Some(json!({"expirationSigningKey": "60s"})),
        )
        .await;
    assert_eq!(st, 200, "{rotated}");
    let new = rotated["signingKey"]
        .as_str()
        .expect("rotation returns the new key")
        .to_string();
    assert_ne!(new, old);

    publish(&s, "user.human.added", json!({"n": 2})).await;
    let second = &r.wait_for_path("/z", 2, WAIT).await[1];
    assert_eq!(second.json()["event_payload"], json!({"n": 2}));
    let (_, v1) = zitadel_parts(second);
    assert_eq!(
        v1.len(),
        2,
        "both keys sign during the grace period: {:?}",
        second.headers
    );
    assert!(zitadel_verifies(second, &old), "old key still verifies");
    assert!(zitadel_verifies(second, &new), "new key verifies");
}
