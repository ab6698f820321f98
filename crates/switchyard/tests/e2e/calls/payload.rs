//! Payload types in synchronous chains: a restCall target with `PAYLOAD_TYPE_JWT` gets the
//! request as a JWS that verifies with the instance's JWKS (and its JSON answer still replaces
//! the payload); a `PAYLOAD_TYPE_JWE` target gets a JWE to its active key, and without one it
//! fails like a target that did not answer, naming why, and nothing is sent to it.

use super::*;
use crate::support::TestServer;
use base64::Engine;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;
use switchyard_core::signing::verify_zitadel_signature;

fn typed(kind: Value, payload_type: &str) -> Value {
    let mut kind = kind;
    kind["payloadType"] = json!(payload_type);
    kind
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn rest_call_targets_get_jwt_and_jwe_payloads() {
    let s = TestServer::start().await;
    let r = Receiver::start().await;
    let (jwt, jwt_key) = target(
        &s,
        "jwt-call",
        &r.url("/jwt"),
        typed(call_kind(true), "PAYLOAD_TYPE_JWT"),
        "5s",
    )
    .await;
    let (jwe, _) = target(
        &s,
        "jwe-call",
        &r.url("/jwe"),
        typed(call_kind(false), "PAYLOAD_TYPE_JWE"),
        "5s",
    )
    .await;
    r.set("/jwt", Answer::json(200, json!({"name": "from-jwt"})));
    execution(&s, json!({"request": {"method": ADD_HUMAN}}), &[&jwt, &jwe]).await;
    let request = json!({"condition": {"request": {"method": ADD_HUMAN}},
                         "payload": {"name": "orig"}});

    // No active key on the JWE target: it fails (not interrupting) and nothing reaches it.
    let (st, body, id) = call(&s, request.clone()).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body, json!({"payload": {"name": "from-jwt"}}));
    assert_eq!(r.paths(), ["/jwt"]);
    let rec = record(&s, &id, 2).await;
    assert_eq!(rec["attempts"][1]["outcome"], "failed", "{rec}");
    let error = rec["attempts"][1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("no active, unexpired public key"), "{rec}");

    // The JWT target's body is a JWS over the request, verified with the public JWKS, and
    // ZITADEL-Signature covers the JWS as sent.
    let seen = &r.seen()[0];
    assert_eq!(seen.headers["content-type"], "application/jwt");
    let sig = seen.headers["zitadel-signature"].to_str().unwrap();
    assert!(verify_zitadel_signature(
        sig,
        &jwt_key,
        &seen.raw,
        now_secs(),
        300
    ));
    let token = std::str::from_utf8(&seen.raw).unwrap();
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
    assert_eq!(claims["fullMethod"], ADD_HUMAN);
    assert_eq!(claims["request"], json!({"name": "orig"}));

    // With an active key the JWE target gets a JWE naming it (the cached chain sees the key
    // change at once).
    let pem = p256::SecretKey::random(&mut rand::thread_rng())
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(pem);
    let (st, added) = s
        .post(
            &format!("{CONNECT}/AddPublicKey"),
            json!({"targetId": jwe, "publicKey": b64}),
        )
        .await;
    assert_eq!(st, 200, "{added}");
    let key_id = added["keyId"].as_str().unwrap();
    let (st, v) = s
        .post(
            &format!("{CONNECT}/ActivatePublicKey"),
            json!({"targetId": jwe, "keyId": key_id}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (st, body, _) = call(&s, request).await;
    assert_eq!(st, 200, "{body}");
    let got = r.wait_for("/jwe").await;
    assert_eq!(got.headers["content-type"], "application/jose");
    let compact = std::str::from_utf8(&got.raw).unwrap();
    assert_eq!(compact.split('.').count(), 5, "compact JWE");
    let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(compact.split('.').next().unwrap())
        .unwrap();
    let protected: Value = serde_json::from_slice(&protected).unwrap();
    assert_eq!(protected["kid"], key_id);
    assert_eq!(protected["alg"], "ECDH-ES+A256KW");
    assert_eq!(protected["enc"], "A256GCM");
}
