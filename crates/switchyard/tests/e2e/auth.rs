//! Authentication, scopes, tenant binding, rate limits and input limits, driven over HTTP against
//! the real server (and the real binary for the CLI commands).

use crate::support::{read, TempDir, TestServer};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::process::Command;

/// One path per dialect, each with the method its route uses.
const CONNECT: &str = "/zitadel.action.v2.ActionService/CreateTarget";
const REST: &str = "/v2/actions/targets";
const SAILPOINT: &str = "/trigger-subscriptions/v1";
const NATIVE: &str = "/v1/events";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(instance: &str, scope: &str) -> Value {
    json!({"sub": "tester", "instance": instance, "scope": scope, "exp": now() + 600, "iat": now()})
}

fn hs256(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn server_secret(s: &TestServer) -> Vec<u8> {
    std::fs::read_to_string(s.data_dir.join("jwt.secret"))
        .unwrap()
        .trim()
        .as_bytes()
        .to_vec()
}

/// Asserts the 401 shape of the dialect serving `path`, with `reason` after the common prefix.
fn assert_401(path: &str, st: StatusCode, body: &Value, reason: &str) {
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{path}: {body}");
    let msg = format!("JWT validation failed: {reason}");
    match path {
        CONNECT | NATIVE => {
            assert_eq!(body["code"], "unauthenticated", "{body}");
            assert_eq!(body["message"], msg);
        }
        REST => {
            assert_eq!(body["code"], 16, "{body}");
            assert_eq!(body["message"], msg);
        }
        SAILPOINT => assert_eq!(body, &json!({"error": msg})),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_in_each_dialect() {
    let s = TestServer::start().await;
    let secret = server_secret(&s);
    let expired = hs256(
        &secret,
        &json!({"sub": "x", "instance": "default", "scope": "admin", "exp": now() - 3600}),
    );
    let forged = hs256(
        b"not-the-server-secret-not-the-server",
        &claims("default", "admin"),
    );
    let no_instance = hs256(
        &secret,
        &json!({"sub": "x", "scope": "admin", "exp": now() + 600}),
    );
    let mut early = claims("default", "admin");
    early["nbf"] = json!(now() + 3600);
    let not_yet = hs256(&secret, &early);
    for path in [CONNECT, REST, SAILPOINT, NATIVE] {
        let (st, body) = s.anon(Method::POST, path, Some(json!({}))).await;
        assert_401(path, st, &body, "missing bearer token");
        let (st, body) = s
            .call_as(Some("abc.def"), Method::POST, path, Some(json!({})))
            .await;
        assert_401(path, st, &body, "malformed token");
        let (st, body) = s
            .call_as(Some(&expired), Method::POST, path, Some(json!({})))
            .await;
        assert_401(path, st, &body, "JWT is expired");
        let (st, body) = s
            .call_as(Some(&forged), Method::POST, path, Some(json!({})))
            .await;
        assert_401(path, st, &body, "invalid signature");
        let (st, body) = s
            .call_as(Some(&no_instance), Method::POST, path, Some(json!({})))
            .await;
        assert_401(path, st, &body, "missing claim 'instance'");
        let (st, body) = s
            .call_as(Some(&not_yet), Method::POST, path, Some(json!({})))
            .await;
        assert_401(path, st, &body, "JWT is not valid yet");
    }
    let resp = s.send_as(None, Method::GET, "/v1/whoami", None).await;
    assert_eq!(
        resp.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    // Public routes need nothing.
    for path in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(
            s.anon(Method::GET, path, None).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    // The complete callback is not refused for lack of a token (it has its own secret).
    let (st, _) = s
        .anon(
            Method::POST,
            "/trigger-invocations/v1/abc/complete",
            Some(json!({})),
        )
        .await;
    assert_ne!(st, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn audience_and_issuer_are_enforced_when_configured() {
    let s = TestServer::start_with(|c| {
        c.auth.audience = Some("switchyard".into());
        c.auth.issuer = Some("https://idp.test".into());
    })
    .await;
    let secret = server_secret(&s);
    let mut c = claims("default", "admin");
    c["iss"] = json!("https://idp.test");
    c["aud"] = json!("someone-else");
    let (st, body) = s
        .call_as(Some(&hs256(&secret, &c)), Method::GET, "/triggers/v1", None)
        .await;
    assert_eq!(
        (st, body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "JWT validation failed: wrong audience"})
        )
    );
    c["aud"] = json!("switchyard");
    c["iss"] = json!("https://evil.test");
    let (st, body) = s
        .call_as(Some(&hs256(&secret, &c)), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "JWT validation failed: wrong issuer");
    c["iss"] = json!("https://idp.test");
    let (st, body) = s
        .call_as(Some(&hs256(&secret, &c)), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    // The harness's own tokens carry the configured issuer and audience.
    assert_eq!(s.get("/v1/whoami").await.0, StatusCode::OK);
}

/// An RSA key pair made with openssl, and its public half as a JWKS document.
fn rsa_key_pair(dir: &std::path::Path) -> (Vec<u8>, Value) {
    let key = dir.join("rsa.pem");
    let out = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new("openssl")
        .args(["rsa", "-noout", "-modulus", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let modulus = hex::decode(text.trim().trim_start_matches("Modulus=")).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwks = json!({"keys": [{
        "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
        "n": b64.encode(&modulus), "e": b64.encode([1u8, 0, 1]),
    }]});
    (std::fs::read(&key).unwrap(), jwks)
}

#[tokio::test]
async fn rs256_tokens_verify_against_the_jwks_file() {
    let dir = TempDir::new();
    let (pem, jwks) = rsa_key_pair(&dir.0);
    let jwks_path = dir.0.join("jwks.json");
    std::fs::write(&jwks_path, jwks.to_string()).unwrap();
    let s = TestServer::start_with(|c| c.auth.jwks_file = Some(jwks_path.clone())).await;
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let token = jsonwebtoken::encode(&header, &claims("default", "admin"), &key).unwrap();
    let (st, body) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["subject"], "tester");
    // Unknown key id.
    header.kid = Some("k2".into());
    let token = jsonwebtoken::encode(&header, &claims("default", "admin"), &key).unwrap();
    let (st, body) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body["message"],
        "JWT validation failed: unknown signing key"
    );
    // Algorithm confusion: HS256 "signed" with the public key is checked against the server
    // secret only, so it fails.
    let public_n = jwks["keys"][0]["n"].as_str().unwrap().as_bytes().to_vec();
    let confused = hs256(&public_n, &claims("default", "admin"));
    let (st, body) = s
        .call_as(Some(&confused), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "JWT validation failed: invalid signature");
}

#[tokio::test]
async fn missing_scopes_get_403_in_each_dialect_naming_the_scope() {
    let s = TestServer::start().await;
    let reader = s.token("targets:read");
    let (st, body) = s
        .call_as(Some(&reader), Method::POST, CONNECT, Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "permission_denied");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'targets:write'"),
        "{body}"
    );
    let (st, body) = s
        .call_as(Some(&reader), Method::POST, REST, Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], 7);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'targets:write'"),
        "{body}"
    );
    let (st, body) = s
        .call_as(Some(&reader), Method::POST, SAILPOINT, Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(body["detailCode"], "403 Forbidden");
    assert!(body["trackingId"].is_string());
    assert!(
        body["causes"][0]["text"]
            .as_str()
            .unwrap()
            .contains("'subscriptions:write'"),
        "{body}"
    );
    let (st, body) = s
        .call_as(Some(&reader), Method::POST, NATIVE, Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "permission_denied");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("'events:publish'"),
        "{body}"
    );
    // Metrics are server-wide: neither another scope nor an instance's admin reads them.
    for scopes in ["events:publish", "admin"] {
        let (st, body) = s
            .call_as(Some(&s.token(scopes)), Method::GET, "/metrics", None)
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{scopes}");
        assert!(
            body["message"].as_str().unwrap().contains("'metrics:read'"),
            "{body}"
        );
    }
    let (st, _) = s
        .call_as(Some(&reader), Method::GET, "/v1/invocations/abc", None)
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // With the right scope the request gets past authentication (to whatever the route answers).
    let cases = [
        (
            "targets:read",
            Method::POST,
            "/zitadel.action.v2.ActionService/ListTargets",
        ),
        (
            "targets:read",
            Method::POST,
            "/resources/v3alpha/actions/targets/_search",
        ),
        ("targets:write", Method::POST, CONNECT),
        ("subscriptions:write", Method::POST, SAILPOINT),
        ("triggers:read", Method::GET, "/triggers/v1"),
        ("events:publish", Method::POST, NATIVE),
        ("invocations:read", Method::GET, "/v1/invocations/abc"),
        ("metrics:read", Method::GET, "/metrics"),
        ("system", Method::GET, "/metrics"),
    ];
    for (scope, m, path) in cases {
        let (st, body) = s
            .call_as(Some(&s.token(scope)), m, path, Some(json!({})))
            .await;
        assert!(
            st != StatusCode::UNAUTHORIZED && st != StatusCode::FORBIDDEN,
            "{scope} {path}: {st} {body}"
        );
    }
}

#[tokio::test]
async fn tokens_are_bound_to_their_instance() {
    let s = TestServer::start_with(|c| {
        c.instances = vec![switchyard::config::InstanceBinding {
            id: "acme".into(),
            domain: "acme.test".into(),
        }];
    })
    .await;
    let acme = s.token_for("acme", "admin");
    let (st, body) = s
        .call_as(Some(&acme), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (body["instance"].as_str(), body["tokenInstance"].as_str()),
        (Some("acme"), Some("acme"))
    );
    // Naming its own instance is fine, by id or domain.
    for q in ["instance.id=acme", "instance.domain=acme.test"] {
        let (st, body) = s
            .call_as(Some(&acme), Method::GET, &format!("/v1/whoami?{q}"), None)
            .await;
        assert_eq!(
            (st, body["instance"].as_str()),
            (StatusCode::OK, Some("acme")),
            "{q}"
        );
    }
    // Another instance is invisible: 404, the same answer as for one that does not exist.
    let default_admin = s.token("admin");
    let (st, body) = s
        .call_as(
            Some(&default_admin),
            Method::GET,
            "/v1/whoami?instance.id=acme",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "not_found");
    let (st, _) = s
        .call_as(
            Some(&default_admin),
            Method::GET,
            "/v1/whoami?instance.domain=acme.test",
            None,
        )
        .await;
    let (st2, _) = s
        .call_as(
            Some(&default_admin),
            Method::GET,
            "/v1/whoami?instance.domain=nope.test",
            None,
        )
        .await;
    assert_eq!((st, st2), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    // A system token chooses the instance per request.
    let system = s.token_for("ops", "system");
    let (st, body) = s
        .call_as(
            Some(&system),
            Method::GET,
            "/v1/whoami?instance.id=acme",
            None,
        )
        .await;
    assert_eq!(
        (st, body["instance"].as_str()),
        (StatusCode::OK, Some("acme"))
    );
    let (st, body) = s
        .call_as(
            Some(&system),
            Method::GET,
            "/v1/whoami?instance.domain=acme.test",
            None,
        )
        .await;
    assert_eq!(
        (st, body["instance"].as_str()),
        (StatusCode::OK, Some("acme"))
    );
    let (st, body) = s
        .call_as(Some(&system), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(
        (st, body["instance"].as_str()),
        (StatusCode::OK, Some("ops"))
    );
}

/// Runs the built binary; returns the last line of stdout.
pub(crate) fn cli(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .env_remove("SWITCHYARD_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("binary runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}

pub(crate) fn create_client(s: &TestServer, extra: &[&str]) -> (String, String) {
    let dir = s.data_dir.to_str().unwrap();
    let mut args = vec!["clients", "create", "--data-dir", dir];
    args.extend_from_slice(extra);
    let line = cli(&args);
    let v: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("JSON last line: {line}"));
    (
        v["clientId"].as_str().unwrap().into(),
        v["clientSecret"].as_str().unwrap().into(),
    )
}

#[tokio::test]
async fn cli_token_works_against_the_server() {
    let s = TestServer::start().await;
    let dir = s.data_dir.to_str().unwrap();
    let token = cli(&[
        "token",
        "--data-dir",
        dir,
        "--instance",
        "acme",
        "--scopes",
        "admin",
        "--ttl",
        "10m",
    ]);
    let (st, body) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["instance"], "acme");
    assert_eq!(body["scopes"], json!(["admin"]));
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["token", "--data-dir", dir, "--scopes", "targets:delete"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scope 'targets:delete'"));
}

#[tokio::test]
async fn client_credentials_flow_with_form_body_and_basic_auth() {
    let s = TestServer::start().await;
    let (id, secret) = create_client(
        &s,
        &["--instance", "acme", "--scopes", "triggers:read admin"],
    );
    let stored = std::fs::read(s.data_dir.join("switchyard.db")).unwrap();
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "secret stored in clear"
    );

    let url = s.url("/oauth/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", &id),
        ("client_secret", &secret),
    ];
    let resp = s.client.post(&url).form(&form).send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let (st, body) = read(resp).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap().to_string();
    let (st, who) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (who["subject"].as_str(), who["instance"].as_str()),
        (Some(id.as_str()), Some("acme"))
    );

    // HTTP Basic, asking for fewer scopes.
    let resp = s
        .client
        .post(&url)
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "triggers:read"),
        ])
        .send()
        .await
        .unwrap();
    let (st, body) = read(resp).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let narrow = body["access_token"].as_str().unwrap();
    assert_eq!(
        s.call_as(Some(narrow), Method::GET, "/v1/whoami", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Errors in OAuth's shape.
    let post = |form: Vec<(&'static str, String)>| {
        let req = s.client.post(&url).form(&form);
        async move { read(req.send().await.unwrap()).await }
    };
    let (st, body) = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", "wrong".into()),
    ])
    .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (st, body) = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", "nobody".into()),
        ("client_secret", secret.clone()),
    ])
    .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let (st, body) = post(vec![
        ("grant_type", "password".into()),
        ("client_id", id.clone()),
        ("client_secret", secret.clone()),
    ])
    .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let (st, body) = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_secret", secret.clone()),
    ])
    .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (st, body) = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", id.clone()),
        ("client_secret", secret.clone()),
        ("scope", "system".into()),
    ])
    .await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_scope"))
    );
    let resp = s
        .client
        .post(&url)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    let (st, body) = read(resp).await;
    assert_eq!(
        (st, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("x-www-form-urlencoded"));
}

#[tokio::test]
async fn management_calls_are_rate_limited_producer_calls_are_not_by_default() {
    let s = TestServer::start_with(|c| {
        c.auth.rate_limit = switchyard::config::RateLimitConfig {
            requests: 3,
            per: "60s".into(),
        };
    })
    .await;
    let token = s.token("admin");
    for _ in 0..3 {
        assert_eq!(
            s.call_as(Some(&token), Method::GET, "/v1/whoami", None)
                .await
                .0,
            StatusCode::OK
        );
    }
    let resp = s
        .send_as(Some(&token), Method::GET, "/triggers/v1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert_eq!(
        read(resp).await.1,
        json!({"message": " Rate Limit Exceeded "})
    );
    let resp = s
        .send_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(read(resp).await.1["code"], "resource_exhausted");
    // Another caller has its own bucket.
    let other = s.token_for("other", "admin");
    assert_eq!(
        s.call_as(Some(&other), Method::GET, "/v1/whoami", None)
            .await
            .0,
        StatusCode::OK
    );
    // The producer API is not limited unless configured.
    for _ in 0..30 {
        let (st, _) = s
            .call_as(Some(&token), Method::POST, "/v1/events", Some(json!({})))
            .await;
        assert_ne!(st, StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn clients_can_have_their_own_limits() {
    let s = TestServer::start().await;
    let (id, secret) = create_client(
        &s,
        &[
            "--scopes",
            "admin",
            "--rate-limit",
            "1/60s",
            "--producer-rate-limit",
            "2/60s",
        ],
    );
    let resp = s
        .client
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    let token = read(resp).await.1["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        s.call_as(Some(&token), Method::GET, "/v1/whoami", None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        s.call_as(Some(&token), Method::GET, "/v1/whoami", None)
            .await
            .0,
        StatusCode::TOO_MANY_REQUESTS
    );
    for _ in 0..2 {
        let (st, _) = s
            .call_as(Some(&token), Method::POST, "/v1/events", Some(json!({})))
            .await;
        assert_ne!(st, StatusCode::TOO_MANY_REQUESTS);
    }
    let (st, _) = s
        .call_as(Some(&token), Method::POST, "/v1/events", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn oversized_bodies_get_413_in_each_dialect() {
    let s = TestServer::start().await;
    let big = format!("{{\"x\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
    for path in [CONNECT, REST, SAILPOINT, NATIVE] {
        let (st, body) = s.raw(Method::POST, path, "application/json", &big).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
        match path {
            SAILPOINT => assert_eq!(body["detailCode"], "413 Payload Too Large"),
            REST => assert_eq!(body["code"], 3),
            _ => assert_eq!(body["code"], "invalid_argument"),
        }
        assert!(body.to_string().contains("too large"), "{path}: {body}");
    }
}

#[tokio::test]
async fn huge_headers_get_431() {
    let s = TestServer::start().await;
    let resp = s
        .client
        .get(s.url("/healthz"))
        .header("x-padding", "a".repeat(512 * 1024))
        .send()
        .await;
    match resp {
        Ok(r) => assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
        Err(e) => panic!("expected a 431 answer, got {e}"),
    }
    // The server is still fine afterwards.
    assert_eq!(s.get("/healthz").await.0, StatusCode::OK);
}

/// A token from `/oauth/token` for the client.
async fn client_token(s: &TestServer, id: &str, secret: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];
    let resp = s
        .client
        .post(s.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (st, body) = read(resp).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn clients_are_listed_and_a_revoked_clients_tokens_stop_at_once() {
    let s = TestServer::start().await;
    let (keep, keep_secret) = create_client(&s, &["--scopes", "admin"]);
    let (gone, gone_secret) = create_client(&s, &["--scopes", "admin"]);
    let (elsewhere, _) = create_client(&s, &["--instance", "acme", "--scopes", "admin"]);
    let token = client_token(&s, &gone, &gone_secret).await;
    let (st, v) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // The instance's clients, without secrets; another instance's client is not among them.
    let (st, list) = s.get("/v1/clients").await;
    assert_eq!(st, StatusCode::OK, "{list}");
    let listed: Vec<&str> = list["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 2, "{list}");
    assert!(listed.contains(&keep.as_str()) && listed.contains(&gone.as_str()));
    assert!(!list.to_string().contains(&keep_secret));
    let (st, _) = s
        .call(Method::DELETE, &format!("/v1/clients/{elsewhere}"), None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "another instance's client");

    // Revoked: its token is refused on the very next request, and it gets no new one.
    let (st, v) = s
        .call(Method::DELETE, &format!("/v1/clients/{gone}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{v}");
    let (st, v) = s
        .call_as(Some(&token), Method::GET, "/v1/whoami", None)
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert!(v.to_string().contains("revoked"), "{v}");
    let resp = s
        .client
        .post(s.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", gone.as_str()),
            ("client_secret", gone_secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);

    // The CLI lists and revokes too; the server refuses the client's token within a second.
    let dir = s.data_dir.to_str().unwrap();
    let keep_token = client_token(&s, &keep, &keep_secret).await;
    let line = cli(&["clients", "list", "--data-dir", dir]);
    let last: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(last["clientId"], keep.as_str());
    cli(&["clients", "revoke", "--data-dir", dir, &keep]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (st, _) = s
            .call_as(Some(&keep_token), Method::GET, "/v1/whoami", None)
            .await;
        if st == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "token still accepted");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["clients", "revoke", "--data-dir", dir, &keep])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no client"));
}
