//! Contract tests for keys: target public keys (new keys inactive, one active key per target,
//! only inactive keys removable, expired keys neither activatable nor used, the per-target
//! bound, listing filters and sorting, deletion with the target, instance isolation); instance
//! web keys (one current key however many nodes race to create it, rotation with and without a
//! grace period, the bound on published keys, re-sealing); client keys for the JWT profile grant
//! (gone with their client).

use crate::catalog::{inst, key, target};
use std::sync::Arc;
use switchyard_core::auth::Scopes;
use switchyard_core::jose::web_key::WebKeyAlgorithm;
use switchyard_core::zitadel::Page;
use switchyard_core::Timestamp;
use switchyard_store::target_keys::{
    NewPublicKey, PublicKeyFilter, PublicKeyQuery, PublicKeySort, TimestampMethod,
    MAX_KEYS_PER_TARGET,
};
use switchyard_store::web_keys::StoredWebKey;
use switchyard_store::{ApiClient, ClientKey};
use switchyard_store::{Store, StoreError};

crate::contract!(
    public_key_activation_rules,
    public_key_listing_and_cleanup,
    web_keys_current_rotation_and_grace,
    client_keys_round_trip,
);

fn web_key(id: &str, at: i64) -> StoredWebKey {
    StoredWebKey {
        key_id: id.into(),
        algorithm: WebKeyAlgorithm::Rs256,
        sealed: format!("v1:k:{id}"),
        public_jwk: serde_json::json!({"kid": id}),
        created_at: Timestamp(at),
        expires_at: None,
    }
}

fn kids(keys: &[StoredWebKey]) -> Vec<&str> {
    keys.iter().map(|k| k.key_id.as_str()).collect()
}

async fn web_keys_current_rotation_and_grace(s: Arc<dyn Store>) {
    let (a, b) = (inst("a"), inst("b"));
    assert!(s.web_keys(&a, Timestamp(0)).await.unwrap().is_empty());
    // Racing first uses: the first key stored wins, the others get it back.
    let (w1, w2) = (web_key("w1", 1), web_key("w2", 1));
    let (x, y) = tokio::join!(s.ensure_web_key(&a, &w1), s.ensure_web_key(&a, &w2));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.key_id, y.key_id);
    assert_eq!(
        kids(&s.web_keys(&a, Timestamp(2)).await.unwrap()),
        [x.key_id.as_str()]
    );
    assert!(s.web_keys(&b, Timestamp(2)).await.unwrap().is_empty());

    // Rotation with grace: both published until the grace ends, the new one first.
    s.rotate_web_key(&a, &web_key("w3", 10), 100, Timestamp(10))
        .await
        .unwrap();
    let keys = s.web_keys(&a, Timestamp(50)).await.unwrap();
    assert_eq!(kids(&keys), ["w3", x.key_id.as_str()]);
    assert_eq!(keys[0].expires_at, None);
    assert_eq!(keys[1].expires_at, Some(Timestamp(110)));
    assert_eq!(keys[0].public_jwk["kid"], "w3");
    assert_eq!(keys[0].algorithm, WebKeyAlgorithm::Rs256);
    assert_eq!(kids(&s.web_keys(&a, Timestamp(110)).await.unwrap()), ["w3"]);
    // Without grace the previous key is gone at once.
    s.rotate_web_key(&a, &web_key("w4", 20), 0, Timestamp(20))
        .await
        .unwrap();
    assert_eq!(kids(&s.web_keys(&a, Timestamp(21)).await.unwrap()), ["w4"]);
    // Many rotations in a row keep the number of published keys bounded.
    for i in 0..10 {
        let id = format!("r{i:02}");
        s.rotate_web_key(&a, &web_key(&id, 30 + i), 1000, Timestamp(30 + i))
            .await
            .unwrap();
    }
    let keys = s.web_keys(&a, Timestamp(100)).await.unwrap();
    assert_eq!(keys.len(), switchyard_store::sql::MAX_PUBLISHED_WEB_KEYS);
    assert_eq!(keys[0].key_id, "r09");
    // Master-key rotation re-seals web keys too.
    let changed = s
        .reseal_secrets(&|sealed: &str| Ok::<_, String>(Some(format!("{sealed}+"))))
        .await
        .unwrap();
    assert!(changed >= keys.len() as u64);
    let keys = s.web_keys(&a, Timestamp(100)).await.unwrap();
    assert!(keys.iter().all(|k| k.sealed.ends_with('+')));
}

async fn client_keys_round_trip(s: Arc<dyn Store>) {
    let client = ApiClient {
        id: "c-keys".into(),
        instance: inst("a"),
        secret_hash: "h".into(),
        scopes: Scopes::parse("targets:read").unwrap(),
        management_limit: None,
        producer_limit: None,
        created_at: Timestamp(1),
    };
    let key = ClientKey {
        client_id: "c-keys".into(),
        key_id: "k1".into(),
        public_key: "-----BEGIN PUBLIC KEY-----
AA
-----END PUBLIC KEY-----
"
        .into(),
        created_at: Timestamp(1),
        expires_at: Some(Timestamp(99)),
    };
    s.create_client_with_key(&client, &key).await.unwrap();
    assert_eq!(s.client("c-keys").await.unwrap(), Some(client.clone()));
    assert_eq!(
        s.client_key("c-keys", "k1").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(s.client_key("c-keys", "k2").await.unwrap(), None);
    assert_eq!(s.client_key("other", "k1").await.unwrap(), None);
    // All or nothing: a taken client id stores no key either.
    let again = ClientKey {
        key_id: "k2".into(),
        ..key
    };
    assert!(matches!(
        s.create_client_with_key(&client, &again).await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(s.client_key("c-keys", "k2").await.unwrap(), None);
    // Revoking the client removes its key: the key file signs nothing in any more.
    s.delete_client(&inst("a"), "c-keys").await.unwrap();
    assert_eq!(s.client_key("c-keys", "k1").await.unwrap(), None);
}

fn new_key(id: &str, expires: Option<i64>) -> NewPublicKey {
    NewPublicKey {
        key_id: id.into(),
        public_key: format!("-----BEGIN PUBLIC KEY-----\n{id}\n-----END PUBLIC KEY-----\n"),
        fingerprint: format!("SHA256:{id}"),
        expires_at: expires.map(Timestamp),
    }
}

fn all() -> PublicKeyQuery {
    PublicKeyQuery {
        page: Page::new(None, None, Some(true)).unwrap(),
        ..PublicKeyQuery::default()
    }
}

async fn active_ids(s: &Arc<dyn Store>, t: &str) -> Vec<String> {
    let q = PublicKeyQuery {
        filters: vec![PublicKeyFilter::Active(true)],
        ..all()
    };
    let listing = s.list_public_keys(&inst("a"), t, &q).await.unwrap();
    listing.items.into_iter().map(|k| k.key_id).collect()
}

async fn public_key_activation_rules(s: Arc<dyn Store>) {
    let (a, b) = (inst("a"), inst("b"));
    s.create_target(&a, "t1", &target("t1", false), &key("s1", 1), Timestamp(1))
        .await
        .unwrap();
    assert!(matches!(
        s.add_public_key(&a, "nope", &new_key("k0", None), Timestamp(2))
            .await,
        Err(StoreError::NotFound)
    ));
    let k1 = s
        .add_public_key(&a, "t1", &new_key("k1", None), Timestamp(2))
        .await
        .unwrap();
    assert!(!k1.active, "new keys start inactive");
    assert_eq!(k1.fingerprint, "SHA256:k1");
    assert_eq!((k1.created_at, k1.changed_at), (Timestamp(2), Timestamp(2)));
    s.add_public_key(&a, "t1", &new_key("k2", None), Timestamp(3))
        .await
        .unwrap();
    s.add_public_key(&a, "t1", &new_key("old", Some(10)), Timestamp(4))
        .await
        .unwrap();
    assert!(matches!(
        s.add_public_key(&a, "t1", &new_key("k1", None), Timestamp(5))
            .await,
        Err(StoreError::AlreadyExists(_))
    ));
    assert_eq!(
        s.active_public_key(&a, "t1", Timestamp(5)).await.unwrap(),
        None
    );

    // One active key: activating another deactivates the previous one.
    let at = s
        .activate_public_key(&a, "t1", "k1", Timestamp(6))
        .await
        .unwrap();
    assert_eq!(at, Timestamp(6));
    assert_eq!(active_ids(&s, "t1").await, ["k1"]);
    s.activate_public_key(&a, "t1", "k2", Timestamp(7))
        .await
        .unwrap();
    assert_eq!(active_ids(&s, "t1").await, ["k2"]);
    let active = s
        .active_public_key(&a, "t1", Timestamp(8))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (active.key_id.as_str(), active.changed_at),
        ("k2", Timestamp(7))
    );

    // Only inactive keys can be removed.
    assert!(matches!(
        s.remove_public_key(&a, "t1", "k2", Timestamp(8)).await,
        Err(StoreError::Conflict(_))
    ));
    s.remove_public_key(&a, "t1", "k1", Timestamp(8))
        .await
        .unwrap();
    assert!(matches!(
        s.remove_public_key(&a, "t1", "k1", Timestamp(8)).await,
        Err(StoreError::NotFound)
    ));
    s.deactivate_public_key(&a, "t1", "k2", Timestamp(9))
        .await
        .unwrap();
    assert!(active_ids(&s, "t1").await.is_empty());
    assert_eq!(
        s.active_public_key(&a, "t1", Timestamp(9)).await.unwrap(),
        None
    );

    // An expiring key is used until it expires, and an expired one cannot be activated.
    s.activate_public_key(&a, "t1", "old", Timestamp(9))
        .await
        .unwrap();
    let used = s.active_public_key(&a, "t1", Timestamp(9)).await.unwrap();
    assert_eq!(used.map(|k| k.key_id), Some("old".to_string()));
    assert_eq!(
        s.active_public_key(&a, "t1", Timestamp(10)).await.unwrap(),
        None
    );
    assert!(matches!(
        s.activate_public_key(&a, "t1", "old", Timestamp(11)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.deactivate_public_key(&a, "t1", "nope", Timestamp(11))
            .await,
        Err(StoreError::NotFound)
    ));

    // Another instance sees nothing of it.
    assert!(matches!(
        s.activate_public_key(&b, "t1", "k2", Timestamp(12)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.list_public_keys(&b, "t1", &all()).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.active_public_key(&b, "t1", Timestamp(9)).await.unwrap(),
        None
    );
}

async fn public_key_listing_and_cleanup(s: Arc<dyn Store>) {
    let a = inst("a");
    s.create_target(&a, "t1", &target("t1", false), &key("s1", 1), Timestamp(1))
        .await
        .unwrap();
    s.create_target(&a, "t2", &target("t2", false), &key("s2", 1), Timestamp(1))
        .await
        .unwrap();
    for i in 0..MAX_KEYS_PER_TARGET {
        let expires = (i % 2 == 0).then_some(1000 + i as i64);
        s.add_public_key(
            &a,
            "t1",
            &new_key(&format!("k{i:02}"), expires),
            Timestamp(10 + i as i64),
        )
        .await
        .unwrap();
    }
    assert!(matches!(
        s.add_public_key(&a, "t1", &new_key("one-too-many", None), Timestamp(99))
            .await,
        Err(StoreError::Conflict(_))
    ));
    s.add_public_key(&a, "t2", &new_key("other", None), Timestamp(5))
        .await
        .unwrap();
    let listing = s.list_public_keys(&a, "t1", &all()).await.unwrap();
    assert_eq!(listing.total, MAX_KEYS_PER_TARGET as u64);
    assert_eq!(listing.items[0].key_id, "k00");
    let newest_first = PublicKeyQuery {
        page: Page::new(Some(1), Some(2), Some(false)).unwrap(),
        ..PublicKeyQuery::default()
    };
    let page = s.list_public_keys(&a, "t1", &newest_first).await.unwrap();
    let ids: Vec<_> = page.items.iter().map(|k| k.key_id.as_str()).collect();
    let last = MAX_KEYS_PER_TARGET - 1;
    assert_eq!(
        ids,
        [format!("k{:02}", last - 1), format!("k{:02}", last - 2)]
    );
    let expiring_before = PublicKeyQuery {
        filters: vec![
            PublicKeyFilter::Expiration(TimestampMethod::Before, Timestamp(1004)),
            PublicKeyFilter::Ids(vec!["k00".into(), "k01".into(), "k02".into(), "k04".into()]),
        ],
        sort: PublicKeySort::ExpirationDate,
        ..all()
    };
    let hits = s
        .list_public_keys(&a, "t1", &expiring_before)
        .await
        .unwrap();
    let ids: Vec<_> = hits.items.iter().map(|k| k.key_id.as_str()).collect();
    assert_eq!(
        ids,
        ["k00", "k02"],
        "k01 never expires, k04 expires at 1004"
    );
    // Deleting the target deletes its keys, not another target's.
    s.activate_public_key(&a, "t1", "k01", Timestamp(200))
        .await
        .unwrap();
    assert!(s.delete_target(&a, "t1", Timestamp(300)).await.unwrap());
    assert!(matches!(
        s.list_public_keys(&a, "t1", &all()).await,
        Err(StoreError::NotFound)
    ));
    s.create_target(
        &a,
        "t1",
        &target("t1", false),
        &key("s3", 1),
        Timestamp(400),
    )
    .await
    .unwrap();
    assert_eq!(s.list_public_keys(&a, "t1", &all()).await.unwrap().total, 0);
    assert_eq!(s.list_public_keys(&a, "t2", &all()).await.unwrap().total, 1);
}
