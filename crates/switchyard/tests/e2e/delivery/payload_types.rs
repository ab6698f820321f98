//! ZITADEL payload types as a target sees them: `PAYLOAD_TYPE_JWT` bodies are compact JWS that
//! verify with the instance's JWKS from the public `/oauth/v2/keys` (with `ZITADEL-Signature`
//! still over the body sent); `PAYLOAD_TYPE_JWE` bodies are compact JWE to the active key; with
//! no active key, or only an expired one, the attempt fails with a clear error and is retried,
//! and activating a key lets the next try through. (Independent decryption of the JWE with the
//! private key is in tests/sdk/test_zitadel_payloads.py, with jwcrypto.)

use super::signatures::zitadel_verifies;
use super::*;
use base64::Engine;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use p256::pkcs8::{EncodePublicKey, LineEnding};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

async fn v2_target(s: &TestServer, name: &str, url: &str, payload_type: &str) -> (String, String) {
    let (st, v) = s
        .post(
            "/v2/actions/targets",
            json!({"name": name, "endpoint": url, "timeout": "5s", "restAsync": {},
                   "payloadType": payload_type}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    (
        v["id"].as_str().unwrap().to_string(),
        v["signingKey"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn jwt_payloads_verify_with_the_public_jwks() {
    let s = server().await;
    let r = Receiver::start().await;
    let (id, key) = v2_target(&s, "jwt", &r.url("/jwt"), "PAYLOAD_TYPE_JWT").await;
    execution(&s, "user.human.added", &[&id]).await;
    let published = publish(&s, "user.human.added", json!({"n": 1})).await;
    let req = &r.wait_for_path("/jwt", 1, WAIT).await[0];
    assert_eq!(req.header("content-type"), "application/jwt");
    assert!(
        zitadel_verifies(req, &key),
        "ZITADEL-Signature covers the JWS"
    );
    let token = std::str::from_utf8(&req.body).unwrap();
    let header = decode_header(token).unwrap();
    let (st, jwks) = s.call_as(None, Method::GET, "/oauth/v2/keys", None).await;
    assert_eq!(st, 200, "{jwks}");
    let jwk = &jwks["keys"][0];
    assert_eq!(header.kid.as_deref(), jwk["kid"].as_str());
    let decoding =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut v = Validation::new(header.alg);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    let claims = decode::<Value>(token, &decoding, &v).unwrap().claims;
    assert_eq!(claims["event_type"], "user.human.added");
    assert_eq!(claims["event_payload"], json!({"n": 1}));
    wait_status(&s, &invocation_for(&published, &id), "delivered").await;
    // Another instance's JWKS is its own (and empty until it signs something).
    let (st, other) = s
        .call_as(None, Method::GET, "/oauth/v2/keys?instance.id=other", None)
        .await;
    assert_eq!(st, 200);
    assert_eq!(other, json!({"keys": []}));
}

fn ec_public_pem() -> String {
    p256::SecretKey::random(&mut rand::thread_rng())
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap()
}

async fn add_key(s: &TestServer, target: &str, pem: &str, expires: Option<String>) -> String {
    let mut body = json!({"publicKey": b64(pem)});
    if let Some(e) = expires {
        body["expirationDate"] = json!(e);
    }
    let (st, v) = s
        .post(&format!("/v2/actions/targets/{target}/publickeys"), body)
        .await;
    assert_eq!(st, 200, "{v}");
    v["keyId"].as_str().unwrap().to_string()
}

async fn activate(s: &TestServer, target: &str, key: &str) {
    let (st, v) = s
        .post(
            &format!("/v2/actions/targets/{target}/publickeys/{key}/activate"),
            json!({}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
}

#[tokio::test]
async fn jwe_needs_an_active_unexpired_key_and_retries_until_there_is_one() {
    let s =
        server_with_schedule("300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms").await;
    let r = Receiver::start().await;
    let (id, key) = v2_target(&s, "jwe", &r.url("/jwe"), "PAYLOAD_TYPE_JWE").await;
    execution(&s, "user.human.added", &[&id]).await;

    // A key that expires almost at once: active, then past its date, so not used.
    let soon =
        switchyard_core::Timestamp(time::OffsetDateTime::now_utc().unix_timestamp() * 1000 + 1500);
    let expiring = add_key(&s, &id, &ec_public_pem(), Some(soon.rfc3339())).await;
    activate(&s, &id, &expiring).await;
    while time::OffsetDateTime::now_utc().unix_timestamp() * 1000 <= soon.millis() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let published = publish(&s, "user.human.added", json!({"n": 2})).await;
    let inv = invocation_for(&published, &id);
    let seen = wait_invocation(&s, &inv, "a failed attempt", |v| {
        v["attempts"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let error = seen["attempts"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no active, unexpired public key"), "{seen}");
    assert_eq!(r.count(), 0, "nothing is sent without a key");
    // An expired key cannot be activated again.
    let (st, err) = s
        .post(
            &format!("/v2/actions/targets/{id}/publickeys/{expiring}/activate"),
            json!({}),
        )
        .await;
    assert_eq!(st, 400, "{err}");

    // Activating a fresh key lets a retry through, encrypted to it.
    let fresh = add_key(&s, &id, &ec_public_pem(), None).await;
    activate(&s, &id, &fresh).await;
    let req = &r.wait_for_path("/jwe", 1, WAIT).await[0];
    assert_eq!(req.header("content-type"), "application/jose");
    assert!(zitadel_verifies(req, &key));
    let compact = std::str::from_utf8(&req.body).unwrap();
    let parts: Vec<&str> = compact.split('.').collect();
    assert_eq!(parts.len(), 5, "compact JWE has five parts");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[0])
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ECDH-ES+A256KW");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["kid"], json!(fresh));
    assert!(!compact.contains("\"n\""), "the payload is not in clear");
    wait_status(&s, &inv, "delivered").await;
}
