//! Outbound protection seen from outside, on a server with no allow-list: IP literals of
//! non-public networks are refused when a route is created (naming the field), and a hostname
//! that resolves to loopback is refused when a delivery connects, so nothing reaches the receiver.
//! Only loopback ever carries traffic here; other classes are checked at creation time only.

use super::*;
use crate::support::TestServer;

async fn guarded_server() -> TestServer {
    TestServer::start_with(|c| {
        c.allow_networks = String::new();
        c.retry_schedule = "50ms".into();
    })
    .await
}

#[tokio::test]
async fn non_public_literals_are_refused_at_creation() {
    let s = guarded_server().await;
    let r = Receiver::start().await;
    let port = r.addr.port();
    let urls = [
        (format!("http://127.0.0.1:{port}/hook"), "loopback"),
        (format!("http://[::ffff:127.0.0.1]:{port}/hook"), "loopback"),
        (format!("http://[::1]:{port}/hook"), "loopback"),
        ("http://10.0.0.1/hook".to_string(), "private"),
        ("http://169.254.169.254/latest/meta-data".to_string(), ""),
        ("http://[fd00:ec2::254]/latest".to_string(), ""),
    ];
    for (url, class) in &urls {
        let (st, e) = s
            .post(SUBS, json!({"name": "x", "triggerId": "idn:identity-created", "type": "HTTP", "httpConfig": {"url": url}}))
            .await;
        assert_eq!(st, 400, "{url}: {e}");
        let text = e["causes"][0]["text"].as_str().unwrap_or("");
        assert!(
            text.contains("httpConfig.url") && text.contains(class),
            "{url}: {e}"
        );

        let (st, e) = s
            .post(
                &format!("{V3}/targets"),
                json!({"name": "x", "endpoint": url, "timeout": "5s", "restWebhook": {}}),
            )
            .await;
        assert_eq!(st, 400, "{url}: {e}");
        let text = e.to_string();
        assert!(
            text.contains("endpoint") && text.contains(class),
            "{url}: {e}"
        );
    }
    // A public literal is fine (created only; nothing is published, so nothing is sent).
    let (st, e) = s
        .post(&format!("{V3}/targets"), json!({"name": "pub", "endpoint": "https://93.184.215.14/hook", "timeout": "5s", "restWebhook": {}}))
        .await;
    assert_eq!(st, 201, "{e}");
    assert_eq!(r.count(), 0);
}

#[tokio::test]
async fn a_hostname_resolving_to_loopback_is_refused_at_delivery() {
    let s = guarded_server().await;
    let r = Receiver::start().await;
    let url = format!("http://localhost:{}/hook", r.addr.port());
    let sub = subscribe(&s, &url, json!({})).await;
    let (target_id, _) = target(
        &s,
        "local",
        &url,
        json!({"restWebhook": {"interruptOnError": false}}),
    )
    .await;
    execution(&s, "user.human.added", &[&target_id]).await;

    let p1 = publish(&s, "idn:identity-created", identity("pat", "Ops")).await;
    let p2 = publish(&s, "user.human.added", json!({})).await;
    for inv in [
        invocation_for(&p1, sub["id"].as_str().unwrap()),
        invocation_for(&p2, &target_id),
    ] {
        let v = wait_status(&s, &inv, "failed").await;
        assert_eq!(v["attemptCount"], 2, "{v}");
        for a in v["attempts"].as_array().unwrap() {
            let err = a["error"].as_str().unwrap_or("");
            assert!(
                err.contains("refused") && err.contains("loopback"),
                "attempt error does not say the address was refused: {v}"
            );
            assert!(a["status"].is_null(), "{a}");
        }
    }
    assert_eq!(r.count(), 0, "the receiver was reached: {:?}", r.requests());
}
