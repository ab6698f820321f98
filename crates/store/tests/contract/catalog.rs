//! Contract tests for the management data: instances and domains, API clients, ZITADEL targets
//! (CRUD, key rotation), executions and their resolution, SailPoint subscriptions (CRUD, limits,
//! keys) and custom triggers. Every check also asserts isolation between instances.

use std::sync::Arc;
use switchyard_core::auth::{RateLimit, Scopes};
use switchyard_core::sailpoint::{Subscription, SubscriptionDoc, TriggerDefinition};
use switchyard_core::zitadel::{
    Condition, Endpoint, EventSelector, ExecutionEntry, MethodSelector, PayloadType, TargetConfig,
    TargetName, TargetPatch, TargetTimeout, TextMatch,
};
use switchyard_core::{InstanceId, Timestamp};
use switchyard_store::keys::SealedKey;
use switchyard_store::zitadel::{
    ExecutionFilter, ExecutionQuery, ExecutionRejection, KeyRotation, TargetFilter, TargetQuery,
};
use switchyard_store::{ApiClient, Store, StoreError};

crate::contract!(
    instances_and_domains,
    clients_round_trip,
    targets_crud_and_key_rotation,
    executions_and_resolution,
    subscriptions_limits_and_keys,
    custom_triggers,
);

pub fn inst(s: &str) -> InstanceId {
    InstanceId::parse(s).unwrap()
}

pub fn key(id: &str, at: i64) -> SealedKey {
    SealedKey {
        key_id: id.into(),
        sealed: format!("v1:k:{id}"),
        created_at: Timestamp(at),
        expires_at: None,
    }
}

pub fn target(name: &str, interrupt: bool) -> TargetConfig {
    TargetConfig {
        name: TargetName::parse(name).unwrap(),
        endpoint: Endpoint::parse("https://hooks.example.com/x").unwrap(),
        timeout: TargetTimeout::parse("10s").unwrap(),
        target_type: switchyard_core::zitadel::TargetType::Webhook {
            interrupt_on_error: interrupt,
        },
        payload_type: PayloadType::parse("PAYLOAD_TYPE_JSON").unwrap(),
    }
}

pub fn sub(id: &str, trigger: &str) -> Subscription {
    let doc: SubscriptionDoc = serde_json::from_value(serde_json::json!({
        "name": id, "type": "HTTP",
        "httpConfig": {"url": "https://x.example", "httpAuthenticationType": "BEARER_TOKEN",
                       "bearerTokenAuthConfig": {"bearerToken": "v1:k:sealed"}}
    }))
    .unwrap();
    Subscription::from_doc(id, trigger, &doc).unwrap()
}

fn ids<T>(items: &[T], f: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|x| f(x).to_string()).collect()
}

pub async fn instances_and_domains(s: Arc<dyn Store>) {
    assert_eq!(s.instance_by_domain("a.example").await.unwrap(), None);
    s.bind_domain(&inst("a"), "a.example").await.unwrap();
    assert_eq!(
        s.instance_by_domain("a.example").await.unwrap(),
        Some(inst("a"))
    );
    // Rebinding moves the domain; an instance's binding can be replaced.
    s.bind_domain(&inst("b"), "a.example").await.unwrap();
    assert_eq!(
        s.instance_by_domain("a.example").await.unwrap(),
        Some(inst("b"))
    );
    s.bind_domain(&inst("b"), "b.example").await.unwrap();
    assert_eq!(s.instance_by_domain("a.example").await.unwrap(), None);
    assert_eq!(
        s.instance_by_domain("b.example").await.unwrap(),
        Some(inst("b"))
    );
    s.ping().await.unwrap();
}

pub async fn clients_round_trip(s: Arc<dyn Store>) {
    let c = ApiClient {
        id: "c1".into(),
        instance: inst("acme"),
        secret_hash: switchyard_core::crypto::hash_secret("s"),
        scopes: Scopes::parse("targets:read events:publish").unwrap(),
        management_limit: Some(RateLimit::parse("5/1s").unwrap()),
        producer_limit: None,
        created_at: Timestamp::from_millis(42),
    };
    s.create_client(&c).await.unwrap();
    assert_eq!(s.client("c1").await.unwrap(), Some(c.clone()));
    assert_eq!(s.client("c2").await.unwrap(), None);
    assert!(matches!(
        s.create_client(&c).await,
        Err(StoreError::AlreadyExists(_))
    ));
}

pub async fn targets_crud_and_key_rotation(s: Arc<dyn Store>) {
    let (i, other) = (inst("t1"), inst("t2"));
    let t = s
        .create_target(
            &i,
            "id1",
            &target("alpha", false),
            &key("k1", 1),
            Timestamp(1),
        )
        .await
        .unwrap();
    assert_eq!(t.config, target("alpha", false));
    assert_eq!(t.signing_key.key_id, "k1");
    s.create_target(
        &i,
        "id2",
        &target("beta", true),
        &key("k2", 2),
        Timestamp(2),
    )
    .await
    .unwrap();
    let e = s
        .create_target(
            &i,
            "id3",
            &target("alpha", false),
            &key("k3", 3),
            Timestamp(3),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AlreadyExists(m) if m.contains("alpha")));
    // The same name in another instance is fine, and invisible here.
    s.create_target(
        &other,
        "id9",
        &target("alpha", false),
        &key("k9", 3),
        Timestamp(3),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.get_target(&other, "id1").await,
        Err(StoreError::NotFound)
    ));

    let listing = s.list_targets(&i, &TargetQuery::default()).await.unwrap();
    assert_eq!(listing.total, 2);
    assert_eq!(ids(&listing.items, |t| &t.id), ["id2", "id1"]); // newest first by default
    let q = TargetQuery {
        filters: vec![TargetFilter::Name(
            TextMatch::parse(Some("TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE"), "AL").unwrap(),
        )],
        ..Default::default()
    };
    assert_eq!(
        ids(&s.list_targets(&i, &q).await.unwrap().items, |t| &t.id),
        ["id1"]
    );

    // Update with a rotation: the new key is current, the old one signs during the grace period.
    let patch = TargetPatch {
        name: Some(TargetName::parse("alpha2").unwrap()),
        ..Default::default()
    };
    let rotation = KeyRotation {
        key: key("k1b", 10),
        grace_ms: 1000,
    };
    let t = s
        .update_target(&i, "id1", &patch, Some(&rotation), Timestamp(10))
        .await
        .unwrap();
    assert_eq!(t.config.name.as_str(), "alpha2");
    assert_eq!(t.signing_key.key_id, "k1b");
    assert_eq!(t.changed_at, Timestamp(10));
    assert_eq!(t.created_at, Timestamp(1));
    let keys = s
        .target_signing_keys(&i, "id1", Timestamp(11))
        .await
        .unwrap();
    assert_eq!(ids(&keys, |k| &k.key_id), ["k1b", "k1"]);
    let keys = s
        .target_signing_keys(&i, "id1", Timestamp(2000))
        .await
        .unwrap();
    assert_eq!(ids(&keys, |k| &k.key_id), ["k1b"]);
    // Renaming onto a taken name fails; unknown ids are NotFound.
    let clash = TargetPatch {
        name: Some(TargetName::parse("beta").unwrap()),
        ..Default::default()
    };
    assert!(matches!(
        s.update_target(&i, "id1", &clash, None, Timestamp(12))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert!(matches!(
        s.update_target(&i, "nope", &patch, None, Timestamp(12))
            .await,
        Err(StoreError::NotFound)
    ));

    assert!(s.delete_target(&i, "id1", Timestamp(20)).await.unwrap());
    assert!(!s.delete_target(&i, "id1", Timestamp(20)).await.unwrap());
    assert!(s
        .target_signing_keys(&i, "id1", Timestamp(21))
        .await
        .unwrap()
        .is_empty());
    assert!(s.get_target(&other, "id9").await.is_ok());
}

pub async fn executions_and_resolution(s: Arc<dyn Store>) {
    let i = inst("x1");
    for (id, name) in [("ta", "a"), ("tb", "b"), ("tc", "c")] {
        s.create_target(&i, id, &target(name, false), &key(id, 1), Timestamp(1))
            .await
            .unwrap();
    }
    let method = Condition::Request(MethodSelector::Method(
        "/zitadel.user.v2.UserService/AddHumanUser".into(),
    ));
    let service = Condition::Request(MethodSelector::Service(
        "zitadel.user.v2.UserService".into(),
    ));
    let group = Condition::Event(EventSelector::Group("user.human".into()));
    let t = |id: &str| ExecutionEntry::Target(id.into());

    let r = s
        .set_execution(&i, &service, &[t("ta")], Timestamp(2))
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    let r = s
        .set_execution(
            &i,
            &method,
            &[t("tb"), ExecutionEntry::Include(service.clone())],
            Timestamp(3),
        )
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    let r = s
        .set_execution(&i, &group, &[t("nope")], Timestamp(4))
        .await
        .unwrap();
    assert_eq!(r, Err(ExecutionRejection::UnknownTarget("nope".into())));
    // A cycle is refused and nothing is written.
    let r = s
        .set_execution(
            &i,
            &service,
            &[ExecutionEntry::Include(method.clone())],
            Timestamp(5),
        )
        .await
        .unwrap();
    assert!(matches!(r, Err(ExecutionRejection::Include(_))));
    // Still included: cannot be removed.
    let r = s
        .set_execution(&i, &service, &[], Timestamp(6))
        .await
        .unwrap();
    assert!(matches!(r, Err(ExecutionRejection::StillIncluded(..))));

    let all = s
        .list_executions(&i, &ExecutionQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let q = ExecutionQuery {
        filters: vec![ExecutionFilter::Target("ta".into())],
        ..Default::default()
    };
    let hits = s.list_executions(&i, &q).await.unwrap();
    assert_eq!(hits.items.len(), 1);
    assert_eq!(hits.items[0].condition, service);

    let resolved = s.resolve_execution(&i, &method).await.unwrap().unwrap();
    assert_eq!(resolved.matched, method);
    assert_eq!(ids(&resolved.targets, |t| &t.id), ["tb", "ta"]);
    let other_method = Condition::Request(MethodSelector::Method(
        "/zitadel.user.v2.UserService/GetUser".into(),
    ));
    let resolved = s
        .resolve_execution(&i, &other_method)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(resolved.matched, service);
    assert!(s
        .resolve_execution(&inst("x2"), &method)
        .await
        .unwrap()
        .is_none());

    // Deleting a target removes it from executions.
    s.delete_target(&i, "tb", Timestamp(7)).await.unwrap();
    let resolved = s.resolve_execution(&i, &method).await.unwrap().unwrap();
    assert_eq!(ids(&resolved.targets, |t| &t.id), ["ta"]);
    // Removing the includer, then the included one.
    assert_eq!(
        s.set_execution(&i, &method, &[], Timestamp(8))
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        s.set_execution(&i, &service, &[], Timestamp(9))
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        s.list_executions(&i, &ExecutionQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn subscriptions_limits_and_keys(s: Arc<dyn Store>) {
    let i = inst("t1");
    let t = "idn:identity-created";
    s.create_subscription(&i, &sub("a", t), 2, &key("k1", 1), Timestamp(1))
        .await
        .unwrap();
    s.create_subscription(&i, &sub("b", t), 2, &key("k2", 2), Timestamp(2))
        .await
        .unwrap();
    let e = s
        .create_subscription(&i, &sub("c", t), 2, &key("k3", 3), Timestamp(3))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)));
    let e = s
        .create_subscription(&i, &sub("d", "acme:none"), 2, &key("k4", 3), Timestamp(3))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(m) if m.contains("acme:none")));
    let e = s
        .create_subscription(&i, &sub("a", t), 10, &key("k5", 3), Timestamp(3))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AlreadyExists(_)), "{e:?}");

    let by_trigger = s.trigger_subscriptions(&i, t).await.unwrap();
    assert_eq!(ids(&by_trigger, |x| &x.id), ["a", "b"]);
    assert_eq!(
        ids(&s.subscriptions(&i).await.unwrap(), |x| &x.id),
        ["a", "b"]
    );
    assert_eq!(s.subscription(&i, "a").await.unwrap(), sub("a", t));
    let other = inst("t2");
    assert!(s.trigger_subscriptions(&other, t).await.unwrap().is_empty());
    assert!(matches!(
        s.subscription(&other, "a").await,
        Err(StoreError::NotFound)
    ));

    let mut changed = sub("a", t);
    changed.name = "renamed".into();
    changed.enabled = false;
    s.update_subscription(&i, &changed, Timestamp(4))
        .await
        .unwrap();
    assert_eq!(s.subscription(&i, "a").await.unwrap(), changed);
    assert!(matches!(
        s.update_subscription(&other, &changed, Timestamp(4)).await,
        Err(StoreError::NotFound)
    ));

    let keys = s.subscription_keys(&i, "a", Timestamp(5)).await.unwrap();
    assert_eq!(ids(&keys, |k| &k.key_id), ["k1"]);
    s.rotate_subscription_key(&i, "a", &key("k6", 10), 1000, Timestamp(10))
        .await
        .unwrap();
    let keys = s.subscription_keys(&i, "a", Timestamp(11)).await.unwrap();
    assert_eq!(ids(&keys, |k| &k.key_id), ["k6", "k1"]);
    let keys = s.subscription_keys(&i, "a", Timestamp(2000)).await.unwrap();
    assert_eq!(ids(&keys, |k| &k.key_id), ["k6"]);
    assert!(matches!(
        s.rotate_subscription_key(&other, "a", &key("k7", 10), 0, Timestamp(10))
            .await,
        Err(StoreError::NotFound)
    ));

    s.delete_subscription(&i, "a", Timestamp(1)).await.unwrap();
    assert!(matches!(
        s.subscription_keys(&i, "a", Timestamp(11)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.delete_subscription(&i, "a", Timestamp(1)).await,
        Err(StoreError::NotFound)
    ));
    // The freed slot can be used again.
    s.create_subscription(&i, &sub("c", t), 2, &key("k3", 3), Timestamp(12))
        .await
        .unwrap();
}

pub async fn custom_triggers(s: Arc<dyn Store>) {
    let i = inst("t1");
    let def: TriggerDefinition = serde_json::from_value(serde_json::json!({
        "id": "acme:thing-happened", "name": "Thing happened", "type": "FIRE_AND_FORGET",
        "inputSchema": {"type": "object"}, "exampleInput": {"a": 1}
    }))
    .unwrap();
    s.create_trigger(&i, &def, Timestamp(1)).await.unwrap();
    assert!(matches!(
        s.create_trigger(&i, &def, Timestamp(2)).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(s.custom_triggers(&i).await.unwrap(), vec![def.clone()]);
    assert!(s.custom_triggers(&inst("t2")).await.unwrap().is_empty());
    // A subscription to it is allowed now, and blocks its deletion.
    s.create_subscription(&i, &sub("s1", &def.id), 50, &key("k1", 1), Timestamp(3))
        .await
        .unwrap();
    assert!(matches!(
        s.delete_trigger(&i, &def.id).await,
        Err(StoreError::Conflict(_))
    ));
    s.delete_subscription(&i, "s1", Timestamp(1)).await.unwrap();
    s.delete_trigger(&i, &def.id).await.unwrap();
    assert!(matches!(
        s.delete_trigger(&i, &def.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.custom_triggers(&i).await.unwrap().is_empty());
}
