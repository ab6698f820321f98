//! Crash test: the real binary is killed with SIGKILL while deliveries are in flight and started
//! again on the same data directory; every event it had accepted (answered 202) must still reach
//! the receiver at least once. Duplicates are allowed (at-least-once) and printed. A second test
//! does the same to an ordered route: each key's events still first arrive in publish order. Its
//! own test binary because it drives child processes rather than an in-process server.

#[path = "e2e/delivery/receiver.rs"]
mod receiver;

use receiver::Receiver;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const EVENTS: usize = 500;

/// Starts `switchyard serve` on a free port; returns the child and its base URL.
async fn serve(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("serve")
        .env("SWITCHYARD_LISTEN", "127.0.0.1:0")
        .env("SWITCHYARD_DATA_DIR", data_dir)
        .env("SWITCHYARD_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("SWITCHYARD_RETRY_SCHEDULE", "100ms,200ms,500ms,1s")
        .env("SWITCHYARD_DELIVERY__SUBSCRIPTION_TIMEOUT", "2s")
        .env("SWITCHYARD_DELIVERY__LEASE", "5s")
        .env("SWITCHYARD_DELIVERY__POLL_INTERVAL", "500ms")
        // Few workers and a slow receiver: publishing outruns delivery, so at the kill some
        // invocations are in flight (leased) and many are still queued.
        .env("SWITCHYARD_DELIVERY__CONCURRENCY", "16")
        .env("RUST_LOG", "warn,switchyard=info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("switchyard starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(pos) = line.find("listening on http://") {
                return line[pos + "listening on ".len()..]
                    .split(|c: char| c.is_whitespace() || c == '\u{1b}')
                    .next()
                    .unwrap()
                    .to_string();
            }
        }
        panic!("server exited before listening");
    })
    .await
    .expect("server listens within 30 s");
    // Keep draining the log so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

/// `switchyard token` for the default instance (last stdout line).
async fn token(data_dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["token", "--data-dir"])
        .arg(data_dir)
        .args(["--instance", "default", "--scopes", "admin"])
        .output()
        .await
        .expect("switchyard token runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .expect("a token line")
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_accepted_is_lost_when_the_server_is_killed() {
    let dir = std::env::temp_dir().join(format!("switchyard-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let r = Receiver::start().await;
    // Slow answers keep many deliveries in flight when the kill comes.
    r.set_delay(Duration::from_millis(50));

    let (mut child, base) = serve(&dir).await;
    let token = token(&dir).await;
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{base}/trigger-subscriptions/v1"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "crash", "triggerId": "idn:identity-created", "type": "HTTP",
            "httpConfig": {"url": r.url("/crash")}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    // Publish concurrently; only 202 answers count as accepted.
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(EVENTS);
    for i in 0..EVENTS {
        let (client, base, token, limit) =
            (client.clone(), base.clone(), token.clone(), limit.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire().await.unwrap();
            let body = json!({"type": "idn:identity-created", "payload": {
                "identity": {"type": "IDENTITY", "id": format!("c{i}"), "name": format!("n{i}")},
                "attributes": {}}});
            let resp = client
                .post(format!("{base}/v1/events"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .ok()?;
            if resp.status() != 202 {
                return None;
            }
            let v: Value = resp.json().await.ok()?;
            v["invocations"][0]["id"].as_str().map(str::to_string)
        }));
    }

    let mut accepted = HashSet::new();
    for t in tasks {
        if let Some(id) = t.await.unwrap() {
            accepted.insert(id);
        }
    }
    assert_eq!(
        accepted.len(),
        EVENTS,
        "every publish is accepted before the kill"
    );
    // Kill while deliveries are flowing (at least one arrived, and not all of them).
    r.wait_for(1, Duration::from_secs(30)).await;
    child.start_kill().expect("SIGKILL sent");
    child.wait().await.unwrap();
    let at_kill = r.count();
    assert!(
        at_kill < EVENTS,
        "all {EVENTS} deliveries were done before the kill; the test proves nothing"
    );

    let (_child, _base) = serve(&dir).await;
    let all = r
        .wait_until(
            Duration::from_secs(60),
            "every accepted invocation",
            |reqs| {
                let seen: HashSet<&str> = reqs
                    .iter()
                    .map(|q| q.headers.get("webhook-id").map_or("", String::as_str))
                    .collect();
                accepted.iter().all(|id| seen.contains(id.as_str()))
            },
        )
        .await;
    let distinct: HashSet<&str> = all.iter().map(|q| q.header("webhook-id")).collect();
    println!(
        "crash test: {} accepted, {} requests received ({} before the kill), {} distinct, {} duplicates",
        accepted.len(),
        all.len(),
        at_kill,
        distinct.len(),
        all.len() - distinct.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// FIFO per key across a SIGKILL: an ordered subscription gets 4 keys × 30 events (each key
/// published in order); the server is killed mid-drain and started again. Every event still
/// arrives, and each key's events first arrive in publish order (a head that was in flight at
/// the kill may arrive twice: at-least-once, but never overtaken).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifo_per_key_holds_across_a_kill() {
    const KEYS: usize = 4;
    const PER_KEY: usize = 30;
    let dir = std::env::temp_dir().join(format!("switchyard-crash-fifo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let r = Receiver::start().await;
    r.set_delay(Duration::from_millis(20));
    let (mut child, base) = serve(&dir).await;
    let token = token(&dir).await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/trigger-subscriptions/v1"))
        .bearer_auth(&token)
        .json(
            &json!({"name": "fifo", "triggerId": "idn:identity-created", "type": "HTTP",
            "httpConfig": {"url": r.url("/fifo")}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("subscription id");
    let set = client
        .put(format!("{base}/v1/subscriptions/{id}/policy"))
        .bearer_auth(&token)
        .json(&json!({"ordering": {"key": "$.identity.id"}}))
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success(), "{}", set.text().await.unwrap());
    let mut tasks = Vec::new();
    for k in 0..KEYS {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_KEY {
                let body = json!({"type": "idn:identity-created", "payload": {
                    "identity": {"type": "IDENTITY", "id": format!("k{k}"), "name": "n"},
                    "attributes": {"department": format!("seq-{n}")}}});
                let resp = client
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 202);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    r.wait_for(KEYS * 3, Duration::from_secs(30)).await;
    child.start_kill().expect("SIGKILL sent");
    child.wait().await.unwrap();
    let at_kill = r.count();
    assert!(
        at_kill < KEYS * PER_KEY,
        "every delivery was done before the kill; the test proves nothing"
    );
    let (_child, _base) = serve(&dir).await;
    let key_of = |q: &receiver::Recorded| {
        let v = q.json();
        let key = v["identity"]["id"].as_str().unwrap_or_default().to_string();
        let seq: usize = v["attributes"]["department"]
            .as_str()
            .and_then(|d| d.strip_prefix("seq-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        (key, seq)
    };
    let all = r
        .wait_until(
            Duration::from_secs(60),
            "every event of every key",
            |reqs| {
                let distinct: HashSet<(String, usize)> = reqs.iter().map(key_of).collect();
                distinct.len() >= KEYS * PER_KEY
            },
        )
        .await;
    for k in 0..KEYS {
        let mut firsts: Vec<usize> = Vec::new();
        for (key, seq) in all.iter().map(key_of) {
            if key == format!("k{k}") && !firsts.contains(&seq) {
                firsts.push(seq);
            }
        }
        assert_eq!(firsts, (0..PER_KEY).collect::<Vec<_>>(), "key k{k}");
    }
    println!(
        "fifo crash test: {} requests ({} before the kill) for {} events",
        all.len(),
        at_kill,
        KEYS * PER_KEY
    );
    let _ = std::fs::remove_dir_all(&dir);
}
