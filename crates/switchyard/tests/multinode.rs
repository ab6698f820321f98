//! Multi-node fault tests on one PostgreSQL database (a separate test binary: it spawns real
//! `switchyard serve` processes). Each test creates its own database through `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/postgres`) and drops it afterwards. Without a
//! reachable PostgreSQL the tests fail when `CI` is set and are skipped with a notice otherwise.
//!
//! - Three nodes share the queue; one is SIGKILLed while events are being published: every
//!   accepted event must still reach the receiver (at-least-once; duplicates are counted).
//! - Two nodes migrating an empty database at the same moment apply each migration once.
//! - `/readyz` answers 503 quickly while the database is unreachable (a TCP proxy is cut) and
//!   200 again once it is back, without restarting the node.
//! - PostgreSQL itself is restarted (`pg_ctlcluster ... restart`) while events are published to
//!   two nodes: every node is ready again afterwards and every accepted event is delivered.
//!
//! - A subscription created through one node reaches the fan-out of another within the route
//!   cache TTL.
//! - A route's rate limit (a token bucket in the database) holds within ±10 % for two nodes
//!   delivering together.
//! - FIFO per key holds for two nodes publishing and delivering one key's events together.
//! - Operator events of a route failing on two nodes at once are reported once each.
//!
//! The tests of this binary run one at a time (`SERIAL`): a database restart would cut the
//! others' connections too.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const JWT_SECRET: &str = "multinode-test-secret-0123456789abcdef";

fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let start = base.find("://").map_or(0, |i| i + 3);
    let root = base[start..].find('/').map_or(base, |i| &base[..start + i]);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A fresh database, dropped on `drop_db`; `None` when PostgreSQL is unreachable outside CI.
async fn create_db() -> Option<(String, String)> {
    let admin = admin_url();
    let options = PgConnectOptions::from_str(&admin).expect("DATABASE_URL is a PostgreSQL URL");
    let connect = options.connect();
    let mut conn = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(c)) => c,
        other => {
            let why = match other {
                Ok(Err(e)) => e.to_string(),
                _ => "timed out".into(),
            };
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL at {admin} is unreachable ({why}); CI must run the multi-node tests");
            }
            eprintln!(
                "NOTICE: skipping multi-node test: PostgreSQL at {admin} unreachable ({why})"
            );
            return None;
        }
    };
    let name = format!("sy_test_{}", switchyard_core::ids::hex_id());
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE");
    let _ = conn.close().await;
    Some((name.clone(), with_database(&admin, &name)))
}

async fn drop_db(name: &str) {
    if let Ok(mut conn) = PgConnectOptions::from_str(&admin_url())
        .unwrap()
        .connect()
        .await
    {
        let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
    }
}

/// Runs `test` against a fresh database and drops the database afterwards, also when the test
/// panics (its processes are killed on drop); skips when PostgreSQL is unreachable outside CI.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn with_db<F, Fut>(test: F)
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let _one_at_a_time = SERIAL.lock().await;
    let Some((db, url)) = create_db().await else {
        return;
    };
    let outcome = tokio::spawn(test(url)).await;
    drop_db(&db).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sy-{tag}-{}", switchyard_core::ids::hex_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn node_command(db_url: &str, data_dir: &Path, key_file: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,sqlx=warn")
        .env("SWITCHYARD_LISTEN", "127.0.0.1:0")
        .env("SWITCHYARD_DATA_DIR", data_dir)
        .env("SWITCHYARD_DATABASE_URL", db_url)
        .env("SWITCHYARD_MASTER_KEY_FILE", key_file)
        .env("SWITCHYARD_AUTH__JWT_SECRET", JWT_SECRET)
        .env("SWITCHYARD_DELIVERY__LEASE", "3s")
        .env("SWITCHYARD_DELIVERY__SUBSCRIPTION_TIMEOUT", "1s")
        .env("SWITCHYARD_DELIVERY__POLL_INTERVAL", "1s")
        .env("SWITCHYARD_RETRY_SCHEDULE", "100ms,200ms,500ms")
        .env("SWITCHYARD_ALLOW_NETWORKS", "127.0.0.0/8")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A running node and its base URL (read from its log; stderr keeps being drained).
async fn start_node(db_url: &str, data_dir: &Path, key_file: &Path) -> (Child, String) {
    let mut child = node_command(db_url, data_dir, key_file)
        .arg("serve")
        .spawn()
        .expect("spawn switchyard");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(i) = line.find("listening on http://") {
                let rest = &line[i + "listening on ".len()..];
                let url = rest.split_whitespace().next().unwrap_or("").to_string();
                if let Some(tx) = tx.take() {
                    let _ = tx.send(url);
                }
            } else if line.contains("ERROR") || line.contains("Error") {
                eprintln!("node: {line}");
            }
        }
    });
    let base = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("node started within 30s")
        .expect("node printed its address");
    (child, base)
}

/// Serves `app` on a free loopback port; returns its base URL.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Every delivery's `webhook-id`, with how often it arrived.
type Seen = Arc<Mutex<HashMap<String, u32>>>;

async fn start_receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    async fn hook(State(seen): State<Seen>, headers: HeaderMap) -> StatusCode {
        if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
            *seen.lock().unwrap().entry(id.to_string()).or_default() += 1;
        }
        StatusCode::OK
    }
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(seen.clone());
    let url = format!("{}/hook", serve(app).await);
    (url, seen)
}

/// Nodes on one database with a shared master key, a receiver, and a subscription to it.
struct Cluster {
    root: PathBuf,
    nodes: Vec<(Child, String)>,
    bases: Vec<String>,
    seen: Seen,
    http: reqwest::Client,
    auth: String,
    /// A payload that validates against `idn:identity-created`.
    example: Value,
}

async fn subscribed_cluster(url: &str, tag: &str, size: usize) -> Cluster {
    let root = temp_dir(tag);
    let key_file = root.join("master.key");
    let (_, key_text) = switchyard_core::crypto::MasterKey::generate_file();
    std::fs::write(&key_file, key_text).unwrap();
    let mut nodes = Vec::new();
    for n in 0..size {
        nodes.push(start_node(url, &root.join(format!("node{n}")), &key_file).await);
    }
    let bases: Vec<String> = nodes.iter().map(|(_, b)| b.clone()).collect();
    let (hook_url, seen) = start_receiver().await;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", token(&root));
    let triggers: Value = http
        .get(format!("{}/triggers/v1", bases[0]))
        .query(&[("filters", "id eq \"idn:identity-created\"")])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let example = triggers[0]["exampleInput"].clone();
    assert!(example.is_object(), "trigger listing: {triggers}");
    let created = http
        .post(format!(
            "{}/trigger-subscriptions/v1",
            bases[bases.len() - 1]
        ))
        .header("authorization", &auth)
        .json(
            &json!({"name": "n", "triggerId": "idn:identity-created", "type": "HTTP",
                      "httpConfig": {"url": hook_url, "httpDispatchMode": "SYNC"}}),
        )
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "{}",
        created.text().await.unwrap()
    );
    Cluster {
        root,
        nodes,
        bases,
        seen,
        http,
        auth,
        example,
    }
}

/// Waits (bounded) until every accepted invocation id reached the receiver; prints and returns
/// the number still missing.
async fn wait_delivered(what: &str, accepted: &HashSet<String>, seen: &Seen) -> usize {
    let deadline = Instant::now() + Duration::from_secs(90);
    let missing = loop {
        let got = seen.lock().unwrap().clone();
        let missing = accepted.iter().filter(|id| !got.contains_key(*id)).count();
        if missing == 0 || Instant::now() > deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let got = seen.lock().unwrap().clone();
    let duplicates: u32 = got.values().map(|n| n - 1).sum();
    println!(
        "{what}: {} accepted, {} distinct webhook-ids received, {} duplicate deliveries, {} missing",
        accepted.len(),
        got.len(),
        duplicates,
        missing
    );
    missing
}

/// Kills the remaining nodes and removes their data.
async fn shut_down(nodes: Vec<(Child, String)>, root: &Path) {
    for (mut child, _) in nodes {
        let _ = child.start_kill();
        let _ = child.wait().await;
    }
    let _ = std::fs::remove_dir_all(root);
}

fn token(data_dir: &Path) -> String {
    let mut config = switchyard::Config {
        data_dir: data_dir.to_path_buf(),
        ..Default::default()
    };
    config.auth.jwt_secret = Some(JWT_SECRET.into());
    let instance = switchyard_core::InstanceId::parse("default").unwrap();
    let scopes = switchyard_core::auth::Scopes::parse("admin").unwrap();
    switchyard::auth::mint_token(
        &config,
        "multinode",
        &instance,
        scopes,
        Duration::from_secs(3600),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_event_is_delivered_when_a_node_dies() {
    with_db(every_accepted_event_is_delivered_when_a_node_dies_on).await;
}

async fn every_accepted_event_is_delivered_when_a_node_dies_on(url: String) {
    let Cluster {
        root,
        mut nodes,
        bases,
        seen,
        http,
        auth,
        example,
    } = subscribed_cluster(&url, "multinode", 3).await;

    const EVENTS: usize = 2000;
    const KILL_AT: usize = EVENTS / 3;
    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let victim = Arc::new(tokio::sync::Mutex::new(nodes.pop().unwrap().0));
    let mut publishers = Vec::new();
    for _ in 0..16 {
        let (http, auth, bases, example) =
            (http.clone(), auth.clone(), bases.clone(), example.clone());
        let (accepted, next, killed, victim) = (
            accepted.clone(),
            next.clone(),
            killed.clone(),
            victim.clone(),
        );
        publishers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= EVENTS {
                    return;
                }
                if n == KILL_AT {
                    victim.lock().await.start_kill().expect("SIGKILL node 3");
                    killed.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                // Round-robin over all three nodes; the dead one's refusals are not accepted.
                let base = &bases[n % bases.len()];
                let res = http
                    .post(format!("{base}/v1/events"))
                    .header("authorization", &auth)
                    .json(&json!({"type": "idn:identity-created", "id": format!("evt-{n}"), "payload": example}))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                let Ok(res) = res else { continue };
                if res.status() != StatusCode::ACCEPTED {
                    assert!(
                        killed.load(std::sync::atomic::Ordering::SeqCst),
                        "publish refused while all nodes were up: {}",
                        res.status()
                    );
                    continue;
                }
                let body: Value = res.json().await.unwrap();
                let mut acc = accepted.lock().unwrap();
                for inv in body["invocations"].as_array().expect("invocations") {
                    acc.insert(inv["id"].as_str().unwrap().to_string());
                }
            }
        }));
    }
    for p in publishers {
        p.await.unwrap();
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > EVENTS / 2,
        "too few accepted: {}",
        accepted.len()
    );

    // Leases of the dead node expire after 3s; the survivors take its work over.
    let missing = wait_delivered("multi-node", &accepted, &seen).await;
    shut_down(nodes, &root).await;
    let _ = victim.lock().await.wait().await;
    assert_eq!(missing, 0, "accepted events never delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_together_migrate_once() {
    with_db(nodes_starting_together_migrate_once_on).await;
}

async fn nodes_starting_together_migrate_once_on(url: String) {
    let root = temp_dir("migrate");
    let key_file = root.join("master.key");
    let (_, key_text) = switchyard_core::crypto::MasterKey::generate_file();
    std::fs::write(&key_file, key_text).unwrap();
    let runs: Vec<_> = (0..2)
        .map(|n| {
            node_command(&url, &root.join(format!("node{n}")), &key_file)
                .arg("migrate")
                .output()
        })
        .collect();
    let mut outputs = Vec::new();
    for r in runs {
        outputs.push(r.await.unwrap());
    }
    for o in &outputs {
        assert!(
            o.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // Due work in the cluster: another `migrate` must not claim (and so strand) it.
    publish_one_due_invocation(&url).await;
    let again = node_command(&url, &root.join("node0"), &key_file)
        .arg("migrate")
        .output()
        .await
        .unwrap();
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let mut conn = PgConnectOptions::from_str(&url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (rows, versions): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let due: (String, i64, Option<i64>) =
        sqlx::query_as("SELECT status, attempts, lease_until FROM invocations WHERE id = 'due'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let _ = conn.close().await;
    let _ = std::fs::remove_dir_all(&root);
    assert_eq!(rows, versions, "a migration was recorded twice");
    assert!(versions >= 5, "migrations missing: {versions}");
    assert_eq!(
        due,
        ("pending".to_string(), 0, None),
        "migrate claimed work"
    );
}

async fn publish_one_due_invocation(url: &str) {
    use switchyard_store::queue::*;
    use switchyard_store::{PgStore, QueueStore};
    let store = PgStore::open(url).await.unwrap();
    let invocation = NewInvocation {
        id: "due".into(),
        secret_hash: None,
        route_kind: RouteKind::Subscription,
        route_id: "no-such-subscription".into(),
        state: InitialState::Pending,
        chain_next: None,
        interrupt_on_error: false,
        deadline_at: None,
        gated: false,
        order_key: None,
    };
    store
        .publish(&[NewEvent {
            instance: switchyard_core::InstanceId::default_instance(),
            id: "e1".into(),
            event_type: "idn:identity-created".into(),
            payload: "{}".into(),
            content_json: None,
            created_at: switchyard_core::Timestamp(1),
            kind: InvocationKind::RealTime,
            invocations: vec![invocation],
            response: "{}".into(),
        }])
        .await
        .unwrap();
    store.close().await;
}

/// `url` with its host and port replaced (user, password, database and options kept).
fn with_authority(url: &str, host_port: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let userinfo = rest[..end].rfind('@').map_or(0, |i| i + 1);
    format!(
        "{}{}{}{}",
        &url[..start],
        &rest[..userinfo],
        host_port,
        &rest[end..]
    )
}

/// A TCP forwarder to PostgreSQL that can be cut (listener and every connection closed) and
/// restored on the same port, to play an unreachable database.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            port: listener.local_addr().unwrap().port(),
            upstream,
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), self.tasks.clone());
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                conns.lock().unwrap().push(conn.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
    }

    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restore(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind the proxy port");
        self.serve(listener);
    }
}

async fn readyz(http: &reqwest::Client, base: &str) -> (u16, Duration) {
    let started = Instant::now();
    let res = http
        .get(format!("{base}/readyz"))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("readyz answers");
    (res.status().as_u16(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_an_unreachable_database_and_recovers() {
    with_db(readyz_reports_an_unreachable_database_and_recovers_on).await;
}

async fn readyz_reports_an_unreachable_database_and_recovers_on(url: String) {
    let options = PgConnectOptions::from_str(&url).unwrap();
    let upstream = format!("{}:{}", options.get_host(), options.get_port());
    let upstream = if upstream.starts_with('/') {
        "127.0.0.1:5432".to_string()
    } else {
        upstream
    };
    let proxy = Proxy::start(upstream).await;
    let proxied = with_authority(&url, &format!("127.0.0.1:{}", proxy.port));
    let root = temp_dir("readyz");
    let key_file = root.join("master.key");
    let (mut node, base) = start_node(&proxied, &root.join("node"), &key_file).await;
    let http = reqwest::Client::new();

    assert_eq!(readyz(&http, &base).await.0, 200);
    proxy.cut();
    let (status, took) = readyz(&http, &base).await;
    assert_eq!(status, 503, "database unreachable");
    assert!(took < Duration::from_secs(8), "503 came fast ({took:?})");
    producers_get_retryable_503s(&http, &base, &token(&root)).await;
    proxy.restore().await;
    // The pool reconnects by itself.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if readyz(&http, &base).await.0 == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "store did not come back");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = node.start_kill();
    let _ = node.wait().await;
    proxy.cut();
    let _ = std::fs::remove_dir_all(&root);
}

/// With the database unreachable, every producer call (and a management call, in each dialect)
/// answers 503 with `Retry-After` in its dialect's shape: nothing was accepted, try again.
async fn producers_get_retryable_503s(http: &reqwest::Client, base: &str, token: &str) {
    let example = json!({"identity": {"id": "1", "name": "a", "type": "IDENTITY"},
                         "attributes": {}});
    let calls = [
        (
            "/v1/events",
            json!({"type": "idn:identity-created", "payload": example}),
        ),
        (
            "/v1/invocations",
            json!({"triggerId": "idn:identity-attributes-changed", "input": {}}),
        ),
        (
            "/trigger-invocations/v1/start",
            json!({"triggerId": "idn:identity-attributes-changed", "input": {}}),
        ),
        (
            "/v1/calls",
            json!({"condition": {"function": {"name": "preuserinfo"}}, "payload": {}}),
        ),
        ("/zitadel.action.v2.ActionService/ListTargets", json!({})),
        ("/v2/actions/targets/search", json!({})),
    ];
    for (path, body) in calls {
        let resp = http
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .expect("answers");
        let status = resp.status().as_u16();
        let retry = resp.headers().get("retry-after").cloned();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 503, "{path}: {body}");
        assert!(retry.is_some(), "{path}: no Retry-After");
        match path {
            "/trigger-invocations/v1/start" => {
                assert_eq!(body["detailCode"], "503 Service Unavailable", "{body}")
            }
            "/v2/actions/targets/search" => assert_eq!(body["code"], 14, "{body}"),
            _ => assert_eq!(body["code"], "unavailable", "{body}"),
        }
    }
}

/// Restarts the local PostgreSQL cluster the way `.ci/run` starts it; `None` where this machine
/// has no `pg_ctlcluster` (the test is then skipped, or fails under CI).
fn restart_postgres() -> Option<std::process::ExitStatus> {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()?
        .flatten()
        .next()?
        .file_name();
    std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect"])
        .arg(version)
        .args(["main", "restart"])
        .status()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_accepted_event_is_delivered_across_a_postgres_restart() {
    if std::fs::read_dir("/etc/postgresql").is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs a local PostgreSQL cluster to restart"
        );
        eprintln!("skipped: no local PostgreSQL cluster to restart");
        return;
    }
    with_db(every_accepted_event_is_delivered_across_a_postgres_restart_on).await;
}

async fn every_accepted_event_is_delivered_across_a_postgres_restart_on(url: String) {
    let Cluster {
        root,
        nodes,
        bases,
        seen,
        http,
        auth,
        example,
    } = subscribed_cluster(&url, "pgrestart", 2).await;

    const EVENTS: usize = 1200;
    const RESTART_AT: usize = EVENTS / 3;
    let accepted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let restarting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let restart = {
        let (next, restarting) = (next.clone(), restarting.clone());
        tokio::spawn(async move {
            while next.load(std::sync::atomic::Ordering::SeqCst) < RESTART_AT {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            restarting.store(true, std::sync::atomic::Ordering::SeqCst);
            tokio::task::spawn_blocking(restart_postgres).await.unwrap()
        })
    };
    let mut publishers = Vec::new();
    for _ in 0..8 {
        let (http, auth, bases, example) =
            (http.clone(), auth.clone(), bases.clone(), example.clone());
        let (accepted, next, restarting) = (accepted.clone(), next.clone(), restarting.clone());
        publishers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= EVENTS {
                    return;
                }
                let base = &bases[n % bases.len()];
                let res = http
                    .post(format!("{base}/v1/events"))
                    .header("authorization", &auth)
                    .json(&json!({"type": "idn:identity-created", "id": format!("evt-{n}"), "payload": example}))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await;
                let Ok(res) = res else { continue };
                if res.status() != StatusCode::ACCEPTED {
                    // Refusals are fine while the database restarts: nothing was accepted.
                    assert!(
                        restarting.load(std::sync::atomic::Ordering::SeqCst),
                        "publish refused before the restart: {}",
                        res.status()
                    );
                    continue;
                }
                let body: Value = res.json().await.unwrap();
                let mut acc = accepted.lock().unwrap();
                for inv in body["invocations"].as_array().expect("invocations") {
                    acc.insert(inv["id"].as_str().unwrap().to_string());
                }
            }
        }));
    }
    for p in publishers {
        p.await.unwrap();
    }
    let status = restart.await.unwrap().expect("pg_ctlcluster runs");
    assert!(status.success(), "restarting PostgreSQL failed: {status}");

    // Every node becomes ready again by itself.
    for base in &bases {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (code, _) = readyz(&http, base).await;
            if code == 200 {
                break;
            }
            assert!(Instant::now() < deadline, "{base} never became ready again");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let accepted = accepted.lock().unwrap().clone();
    assert!(
        accepted.len() > EVENTS / 3,
        "too few accepted: {}",
        accepted.len()
    );
    let missing = wait_delivered("postgres restart", &accepted, &seen).await;
    shut_down(nodes, &root).await;
    assert_eq!(missing, 0, "accepted events never delivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_created_on_one_node_reaches_the_others() {
    with_db(a_route_created_on_one_node_reaches_the_others_on).await;
}

async fn a_route_created_on_one_node_reaches_the_others_on(url: String) {
    let root = temp_dir("routes");
    let key_file = root.join("master.key");
    let (_, key_text) = switchyard_core::crypto::MasterKey::generate_file();
    std::fs::write(&key_file, key_text).unwrap();
    let a = start_node(&url, &root.join("a"), &key_file).await;
    let b = start_node(&url, &root.join("b"), &key_file).await;
    let (hook_url, _seen) = start_receiver().await;
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", token(&root));
    let example: Value = http
        .get(format!("{}/triggers/v1", a.1))
        .query(&[("filters", "id eq \"idn:identity-created\"")])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()[0]["exampleInput"]
        .clone();
    let publish = |n: usize| {
        let (http, auth, base, example) =
            (http.clone(), auth.clone(), a.1.clone(), example.clone());
        async move {
            let v: Value = http
                .post(format!("{base}/v1/events"))
                .header("authorization", &auth)
                .json(&json!({"type": "idn:identity-created", "id": format!("evt-{n}"), "payload": example}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["invocations"].as_array().map_or(0, Vec::len)
        }
    };
    // Node A plans the trigger while it has no subscription (and caches that plan).
    assert_eq!(publish(0).await, 0);
    let created = http
        .post(format!("{}/trigger-subscriptions/v1", b.1))
        .header("authorization", &auth)
        .json(
            &json!({"name": "n", "triggerId": "idn:identity-created", "type": "HTTP",
                      "httpConfig": {"url": hook_url, "httpDispatchMode": "SYNC"}}),
        )
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    // Node A sees node B's subscription within the cache TTL (bounded wait on the condition).
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 1;
    while publish(n).await == 0 {
        assert!(
            Instant::now() < deadline,
            "node A never saw the subscription made on node B"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        n += 1;
    }
    shut_down(vec![a, b], &root).await;
}

/// Arrival times of every delivery to `/hook`.
type Arrivals = Arc<Mutex<Vec<Instant>>>;

async fn start_timed_receiver() -> (String, Arrivals) {
    let arrivals: Arrivals = Arc::default();
    async fn hook(State(arrivals): State<Arrivals>) -> StatusCode {
        arrivals.lock().unwrap().push(Instant::now());
        StatusCode::OK
    }
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(arrivals.clone());
    let url = format!("{}/hook", serve(app).await);
    (url, arrivals)
}

/// Two nodes on one database with a shared master key, and one subscription to `hook_url` with
/// `policy` (set through the other node before anything is published, so neither node holds a
/// plan from before it).
struct TwoNodes {
    root: PathBuf,
    nodes: Vec<(Child, String)>,
    bases: Vec<String>,
    http: reqwest::Client,
    auth: String,
}

async fn two_nodes_with_policy(url: &str, tag: &str, hook_url: &str, policy: Value) -> TwoNodes {
    let root = temp_dir(tag);
    let key_file = root.join("master.key");
    let (_, key_text) = switchyard_core::crypto::MasterKey::generate_file();
    std::fs::write(&key_file, key_text).unwrap();
    let nodes = vec![
        start_node(url, &root.join("a"), &key_file).await,
        start_node(url, &root.join("b"), &key_file).await,
    ];
    let bases: Vec<String> = nodes.iter().map(|(_, b)| b.clone()).collect();
    let http = reqwest::Client::new();
    let auth = format!("Bearer {}", token(&root));
    let created: Value = http
        .post(format!("{}/trigger-subscriptions/v1", bases[0]))
        .header("authorization", &auth)
        .json(
            &json!({"name": tag, "triggerId": "idn:identity-created", "type": "HTTP",
                      "httpConfig": {"url": hook_url, "httpDispatchMode": "SYNC"}}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().expect("subscription id");
    let set = http
        .put(format!("{}/v1/subscriptions/{id}/policy", bases[1]))
        .header("authorization", &auth)
        .json(&policy)
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success(), "{}", set.text().await.unwrap());
    TwoNodes {
        root,
        nodes,
        bases,
        http,
        auth,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_holds_across_two_nodes() {
    with_db(a_rate_limit_holds_across_two_nodes_on).await;
}

/// One subscription limited to 20 deliveries per second, fed through two nodes: together they
/// deliver 200 ± 10 % in ten seconds (after the first second, which holds the bucket's burst).
async fn a_rate_limit_holds_across_two_nodes_on(url: String) {
    let (hook_url, arrivals) = start_timed_receiver().await;
    let TwoNodes {
        root,
        nodes,
        bases,
        http,
        auth,
    } = two_nodes_with_policy(&url, "rate", &hook_url, json!({"rateLimit": "20/1s"})).await;
    let payload = json!({"identity": {"type": "IDENTITY", "id": "id-r", "name": "r"},
                         "attributes": {"department": "Ops"}});
    for n in 0..260 {
        let r = http
            .post(format!("{}/v1/events", bases[n % 2]))
            .header("authorization", &auth)
            .json(&json!({"type": "idn:identity-created", "payload": payload}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    let first = loop {
        if let Some(t) = arrivals.lock().unwrap().first().copied() {
            break t;
        }
        assert!(Instant::now() < deadline, "nothing was delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let from = first + Duration::from_secs(1);
    let to = from + Duration::from_secs(10);
    while arrivals.lock().unwrap().last().is_none_or(|t| *t < to) {
        assert!(
            Instant::now() < deadline,
            "deliveries stopped before the window ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let in_window = arrivals
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t >= from && **t < to)
        .count();
    println!("two nodes, 20/1s: {in_window} deliveries in 10 s");
    assert!(
        (180..=220).contains(&in_window),
        "{in_window} deliveries in 10 s at 20/s on two nodes"
    );
    shut_down(nodes, &root).await;
}

/// What an ordering receiver saw: per key, the sequence numbers in arrival order, and whether
/// two deliveries of one key were ever in flight at once.
#[derive(Default)]
struct KeyLog {
    arrivals: HashMap<String, Vec<u32>>,
    in_flight: HashMap<String, u32>,
    overlaps: u32,
}

type KeyLogs = Arc<Mutex<KeyLog>>;

/// A receiver that answers after 5 ms and logs `identity.id` / `attributes.department`
/// (`seq-N`) of every delivery.
async fn start_key_receiver() -> (String, KeyLogs) {
    let log: KeyLogs = Arc::default();
    async fn hook(State(log): State<KeyLogs>, body: axum::body::Bytes) -> StatusCode {
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        let key = v["identity"]["id"].as_str().unwrap_or_default().to_string();
        let seq: u32 = v["attributes"]["department"]
            .as_str()
            .and_then(|d| d.strip_prefix("seq-"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(u32::MAX);
        {
            let mut log = log.lock().unwrap();
            log.arrivals.entry(key.clone()).or_default().push(seq);
            let n = log.in_flight.entry(key.clone()).or_default();
            *n += 1;
            if *n > 1 {
                log.overlaps += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        *log.lock().unwrap().in_flight.get_mut(&key).unwrap() -= 1;
        StatusCode::OK
    }
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(log.clone());
    let url = format!("{}/hook", serve(app).await);
    (url, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifo_per_key_holds_across_two_nodes() {
    with_db(fifo_per_key_holds_across_two_nodes_on).await;
}

/// An ordered subscription fed through two nodes, the events of each key published to both
/// nodes in turn: every key's events arrive in publish order, never two of a key at once, while
/// the keys go in parallel.
async fn fifo_per_key_holds_across_two_nodes_on(url: String) {
    const KEYS: usize = 4;
    const PER_KEY: u32 = 25;
    let (hook_url, log) = start_key_receiver().await;
    let ordering = json!({"ordering": {"key": "$.identity.id"}});
    let TwoNodes {
        root,
        nodes,
        bases,
        http,
        auth,
    } = two_nodes_with_policy(&url, "fifo", &hook_url, ordering).await;
    // One publisher per key, alternating nodes; each key's events are accepted in order.
    let mut tasks = Vec::new();
    for k in 0..KEYS {
        let (http, auth, bases) = (http.clone(), auth.clone(), bases.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_KEY {
                let payload = json!({
                    "identity": {"type": "IDENTITY", "id": format!("key-{k}"), "name": "n"},
                    "attributes": {"department": format!("seq-{n}")}});
                let r = http
                    .post(format!("{}/v1/events", bases[n as usize % 2]))
                    .header("authorization", &auth)
                    .json(&json!({"type": "idn:identity-created", "payload": payload}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 202);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = {
            let log = log.lock().unwrap();
            (0..KEYS).all(|k| {
                log.arrivals
                    .get(&format!("key-{k}"))
                    .is_some_and(|a| a.len() >= PER_KEY as usize)
            })
        };
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "not every event was delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    {
        let log = log.lock().unwrap();
        let want: Vec<u32> = (0..PER_KEY).collect();
        for k in 0..KEYS {
            assert_eq!(log.arrivals[&format!("key-{k}")], want, "key-{k}");
        }
        assert_eq!(
            log.overlaps, 0,
            "two deliveries of one key were in flight at once"
        );
    }
    shut_down(nodes, &root).await;
}

/// Bodies delivered to `/ops/<name>`, and the status `/fail` answers with.
#[derive(Clone, Default)]
struct OpsLog {
    bodies: Arc<Mutex<Vec<(String, Value)>>>,
    fail_status: Arc<Mutex<u16>>,
}

async fn start_ops_receiver() -> (String, OpsLog) {
    let log = OpsLog::default();
    *log.fail_status.lock().unwrap() = 503;
    async fn ops(
        State(log): State<OpsLog>,
        axum::extract::Path(name): axum::extract::Path<String>,
        body: axum::body::Bytes,
    ) -> StatusCode {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        log.bodies.lock().unwrap().push((name, v));
        StatusCode::OK
    }
    async fn fail(State(log): State<OpsLog>) -> StatusCode {
        let status = *log.fail_status.lock().unwrap();
        StatusCode::from_u16(status).unwrap()
    }
    let app = Router::new()
        .route("/ops/{name}", post(ops))
        .route("/hook", post(fail))
        .with_state(log.clone());
    let url = serve(app).await;
    (url, log)
}

impl OpsLog {
    fn count(&self, name: &str) -> usize {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .count()
    }

    async fn wait_for(&self, name: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.count(name) < n {
            assert!(
                Instant::now() < deadline,
                "{name}: {} of {n} operator events arrived",
                self.count(name)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn operator_events_are_reported_once_by_two_nodes() {
    with_db(operator_events_are_reported_once_by_two_nodes_on).await;
}

/// A subscription failing on two nodes at once (one try per invocation): the nodes report its
/// run of failures once, `switchyard:route-failing` at the fifth failure (the default), each
/// invocation out of tries once, and its recovery once.
async fn operator_events_are_reported_once_by_two_nodes_on(url: String) {
    const EVENTS: usize = 12;
    let (base_url, log) = start_ops_receiver().await;
    let TwoNodes {
        root,
        nodes,
        bases,
        http,
        auth,
    } = two_nodes_with_policy(
        &url,
        "ops",
        &format!("{base_url}/hook"),
        json!({"maxAttempts": 1}),
    )
    .await;
    for name in ["route-failing", "route-recovered", "attempts-exhausted"] {
        let r = http
            .post(format!("{}/trigger-subscriptions/v1", bases[0]))
            .header("authorization", &auth)
            .json(
                &json!({"name": format!("ops {name}"), "triggerId": format!("switchyard:{name}"),
                          "type": "HTTP",
                          "httpConfig": {"url": format!("{base_url}/ops/{name}"),
                                         "httpDispatchMode": "SYNC"}}),
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let publish = |n: usize| {
        let (http, auth, base) = (http.clone(), auth.clone(), bases[n % 2].clone());
        async move {
            let payload = json!({"identity": {"type": "IDENTITY", "id": format!("id-{n}"), "name": "n"},
                                 "attributes": {"department": "Ops"}});
            let r = http
                .post(format!("{base}/v1/events"))
                .header("authorization", &auth)
                .json(&json!({"type": "idn:identity-created", "payload": payload}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
        }
    };
    let tasks: Vec<_> = (0..EVENTS).map(|n| tokio::spawn(publish(n))).collect();
    for t in tasks {
        t.await.unwrap();
    }
    log.wait_for("attempts-exhausted", EVENTS).await;
    log.wait_for("route-failing", 1).await;
    // The recovery: one more event, delivered.
    *log.fail_status.lock().unwrap() = 200;
    publish(EVENTS).await;
    log.wait_for("route-recovered", 1).await;
    // Give a duplicate report time to arrive, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(log.count("route-failing"), 1, "one run, reported once");
    assert_eq!(log.count("route-recovered"), 1);
    let exhausted: HashSet<String> = log
        .bodies
        .lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == "attempts-exhausted")
        .map(|(_, v)| v["invocationId"].to_string())
        .collect();
    assert_eq!(log.count("attempts-exhausted"), EVENTS, "{exhausted:?}");
    assert_eq!(exhausted.len(), EVENTS, "one report per invocation");
    let failing = log
        .bodies
        .lock()
        .unwrap()
        .iter()
        .find(|(n, _)| n == "route-failing")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        failing["consecutiveFailures"].as_u64().unwrap() >= 5,
        "{failing}"
    );
    shut_down(nodes, &root).await;
}
