//! Defect 1: outbound protection decides on the host the HTTP client will really connect to.
//! Every spelling the WHATWG URL parser reads as a loopback or metadata address is refused when a
//! route is created, on every surface; routes stored before (while an allow-list permitted them,
//! or by an older version) are refused when a delivery connects, at once and without retries,
//! and no answer from such an address is ever stored or returned. Only loopback ever carries
//! traffic here; the metadata address is only ever checked, never contacted.

use crate::delivery::{
    execution, identity, invocation_for, publish, subscribe, target, wait_status, Receiver, Reply,
    SUBS, V3,
};
use crate::support::TestServer;
use reqwest::Method;
use serde_json::{json, Value};

const CONNECT: &str = "/zitadel.action.v2.ActionService";

/// Every spelling of 127.0.0.1 (with `port`) that the WHATWG parser normalizes to it.
fn loopback_spellings(port: u16) -> Vec<String> {
    [
        "127.1",
        "0x7f.1",
        "0177.1",
        "0177.0.0.1",
        "017700000001",
        "2130706433",
        "0x7f000001",
        "127.0.0.1.",
        "%31%32%37.0.0.1",
        "\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}",
        "[::ffff:127.0.0.1]",
        "[::1]",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/hook"))
    .chain([
        format!("http://127.0.0.1:{port}\\@8.8.8.8/"),
        format!("http://0:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://api.localhost:{port}/hook"),
    ])
    .collect()
}

/// Spellings of the cloud metadata address 169.254.169.254.
const METADATA: &[&str] = &[
    "http://0251.0376.0251.0376/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9fea9fe/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://169.254.43518/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fd00:ec2::254]/",
];

async fn guarded(schedule: &str) -> TestServer {
    let schedule = schedule.to_string();
    TestServer::start_with(move |c| {
        c.allow_networks = String::new();
        c.retry_schedule = schedule;
    })
    .await
}

/// Creates a route to `url` on each surface; returns (surface, status, body) per attempt.
async fn create_everywhere(s: &TestServer, url: &str) -> Vec<(&'static str, u16, Value)> {
    let sub = json!({"name": "x", "triggerId": "idn:identity-created", "type": "HTTP", "httpConfig": {"url": url}});
    let target = json!({"name": "x", "endpoint": url, "timeout": "5s", "restWebhook": {}});
    let mut out = Vec::new();
    for (surface, path, body) in [
        ("sailpoint", SUBS.to_string(), sub),
        ("v3alpha", format!("{V3}/targets"), target.clone()),
        ("v2", "/v2/actions/targets".to_string(), target.clone()),
        ("connect", format!("{CONNECT}/CreateTarget"), target),
    ] {
        let (st, v) = s.post(&path, body).await;
        out.push((surface, st.as_u16(), v));
    }
    out
}

#[tokio::test]
async fn every_bypass_spelling_is_refused_at_creation_on_every_surface() {
    let s = guarded("50ms").await;
    let r = Receiver::start().await;
    let mut urls = loopback_spellings(r.addr.port());
    urls.extend(METADATA.iter().map(|u| u.to_string()));
    for url in &urls {
        for (surface, st, v) in create_everywhere(&s, url).await {
            assert_eq!(st, 400, "{surface} accepted {url}: {v}");
            let text = v.to_string();
            assert!(
                text.contains("not allowed") || text.contains("loopback"),
                "{surface} {url}: {v}"
            );
            assert!(
                text.contains("httpConfig.url") || text.contains("endpoint"),
                "{surface} {url}: the error does not name the field: {v}"
            );
        }
    }
    for url in METADATA {
        let (_, _, v) = create_everywhere(&s, url).await.remove(0);
        assert!(v.to_string().contains("cloud metadata"), "{url}: {v}");
    }

    // Updates are checked as well: a public route cannot be pointed inward afterwards.
    let public = "https://93.184.215.14/hook";
    let (st, sub) = s
        .post(SUBS, json!({"name": "p", "triggerId": "idn:identity-created", "type": "HTTP", "httpConfig": {"url": public}}))
        .await;
    assert_eq!(st, 201, "{sub}");
    let sub_id = sub["id"].as_str().unwrap();
    let bad = format!("http://0x7f.1:{}/", r.addr.port());
    let (st, v) = s
        .raw(
            Method::PATCH,
            &format!("{SUBS}/{sub_id}"),
            "application/json-patch+json",
            &json!([{"op": "replace", "path": "/httpConfig/url", "value": bad}]).to_string(),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    let (target_id, _) = target(&s, "pub", public, json!({"restWebhook": {}})).await;
    let (st, v) = s
        .call(
            Method::PATCH,
            &format!("{V3}/targets/{target_id}"),
            Some(json!({"endpoint": bad})),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    let (st, v) = s
        .post(
            &format!("{CONNECT}/UpdateTarget"),
            json!({"id": target_id, "endpoint": bad}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(r.count(), 0, "the receiver was reached: {:?}", r.requests());
}

/// Creates, on a server that allows loopback, a subscription and a ZITADEL event target for each
/// URL; returns (subscription ids, target ids).
async fn stored_routes(s: &TestServer, urls: &[String]) -> (Vec<String>, Vec<String>) {
    let mut subs = Vec::new();
    let mut targets = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        subs.push(
            subscribe(s, url, json!({"name": format!("s{i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        let kind = json!({"restWebhook": {"interruptOnError": false}});
        targets.push(target(s, &format!("t{i}"), url, kind).await.0);
    }
    (subs, targets)
}

#[tokio::test]
async fn stored_routes_are_refused_at_connect_time_without_retries() {
    let r = Receiver::start().await;
    let port = r.addr.port();
    let mut urls = loopback_spellings(port);
    // A name that is not `localhost` but resolves to loopback is refused by the guarded
    // resolver (the machine's own name does on this kind of host; skipped where it does not).
    if let Some(name) = hostname_resolving_to_loopback() {
        urls.push(format!("http://{name}:{port}/hook"));
    }
    // `http://0:port` is 0.0.0.0, which Linux connects to the local host: allow it too.
    let allowed =
        TestServer::start_with(|c| c.allow_networks = "127.0.0.0/8,::1,0.0.0.0/32".into()).await;
    let (subs, targets) = stored_routes(&allowed, &urls).await;
    let refs: Vec<&str> = targets.iter().map(String::as_str).collect();
    execution(&allowed, "user.human.added", &refs).await;
    let dir = allowed.stop().await.expect("data dir kept");

    // The same data, served with an empty allow-list.
    let s = TestServer::start_in(dir.0.clone(), |c| {
        c.allow_networks = String::new();
        c.retry_schedule = "50ms,50ms,50ms".into();
    })
    .await;
    let p1 = publish(&s, "idn:identity-created", identity("pat", "Ops")).await;
    let p2 = publish(&s, "user.human.added", json!({})).await;
    let invocations = subs
        .iter()
        .map(|id| invocation_for(&p1, id))
        .chain(targets.iter().map(|id| invocation_for(&p2, id)));
    for (inv, url) in invocations.zip(urls.iter().chain(urls.iter())) {
        let v = wait_status(&s, &inv, "failed").await;
        assert_eq!(v["attemptCount"], 1, "{url} was retried: {v}");
        let attempt = &v["attempts"][0];
        let err = attempt["error"].as_str().unwrap_or("");
        assert!(
            err.contains("refused by outbound protection"),
            "{url}: the attempt does not say why: {v}"
        );
        assert!(attempt["status"].is_null(), "{url}: {attempt}");
        assert!(attempt["responseExcerpt"].is_null(), "{url}: {attempt}");
    }
    assert_eq!(r.count(), 0, "the receiver was reached: {:?}", r.requests());
    drop(dir);
}

#[tokio::test]
async fn a_refused_rest_call_target_returns_nothing_internal() {
    let r = Receiver::start().await;
    r.set_default(
        Reply::status(200)
            .header("content-type", "application/json")
            .body(r#"{"internal": "secret"}"#),
    );
    let method = "/zitadel.user.v2.UserService/AddHumanUser";
    let allowed = TestServer::start().await;
    let url = format!("http://127.1:{}/call", r.addr.port());
    let (id, _) = target(
        &allowed,
        "internal",
        &url,
        json!({"restCall": {"interruptOnError": true}}),
    )
    .await;
    let (st, v) = allowed
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": {"request": {"method": method}}, "targets": [id]}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let dir = allowed.stop().await.expect("data dir kept");

    let s = TestServer::start_in(dir.0.clone(), |c| c.allow_networks = String::new()).await;
    let resp = s
        .send_as(
            Some(&s.admin_token),
            Method::POST,
            "/v1/calls",
            Some(json!({"condition": {"request": {"method": method}}, "payload": {"user": "u"}})),
        )
        .await;
    let call_id = resp.headers()["switchyard-call-id"]
        .to_str()
        .unwrap()
        .to_string();
    let (st, v) = crate::support::read(resp).await;
    assert_eq!(st, 502, "{v}");
    assert!(!v.to_string().contains("secret"), "{v}");
    assert!(v.to_string().contains("refused"), "{v}");
    let record = wait_call_record(&s, &call_id).await;
    let attempt = &record["attempts"][0];
    assert!(attempt["responseExcerpt"].is_null(), "{record}");
    assert!(attempt["status"].is_null(), "{record}");
    assert!(!record.to_string().contains("secret"), "{record}");
    assert_eq!(r.count(), 0, "the receiver was reached: {:?}", r.requests());
    drop(dir);
}

async fn wait_call_record(s: &TestServer, id: &str) -> Value {
    for _ in 0..250 {
        let (st, v) = s.get(&format!("/v1/calls/{id}")).await;
        if st == 200 {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("call {id} was not recorded");
}

/// This machine's name, when it resolves only to loopback addresses.
fn hostname_resolving_to_loopback() -> Option<String> {
    use std::net::ToSocketAddrs;
    let name = std::fs::read_to_string("/etc/hostname").ok()?;
    let name = name.trim().to_string();
    if name.is_empty() || name.eq_ignore_ascii_case("localhost") {
        return None;
    }
    let addrs: Vec<_> = (name.as_str(), 0).to_socket_addrs().ok()?.collect();
    (!addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())).then_some(name)
}
