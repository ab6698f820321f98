//! Test harness: a running server on a free port with its own temporary data directory, plus a
//! small JSON client. Logs stay quiet unless `RUST_LOG` is set.
//!
//! Authentication is always on, so `get/post/call/raw` send an `admin` token for the `default`
//! instance; `token`/`token_for` mint others and the `*_as` variants send a given token (or none).
//! The management rate limit is raised for tests unless a test configures its own.

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Once;
use switchyard::{Application, Config};
use tokio::sync::oneshot;

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let p = std::env::temp_dir().join(format!("switchyard-test-{}", uuid_like()));
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{}-{}-{}",
        std::process::id(),
        t,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn init_logging() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
    });
}

/// A server running in this process.
pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    /// The configuration the server runs with.
    pub config: Config,
    /// An `admin` token for the default instance, sent by `get/post/call/raw`.
    pub admin_token: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<TempDir>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after letting the test adjust the configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let dir = TempDir::new();
        let mut s = Self::start_in(dir.0.clone(), adjust).await;
        s._dir = Some(dir);
        s
    }

    /// Starts a server on an existing data directory (restart tests).
    pub async fn start_in(data_dir: PathBuf, adjust: impl FnOnce(&mut Config)) -> Self {
        init_logging();
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.clone(),
            // Tests deliver to local receivers; the auth and outbound suites narrow this again.
            allow_networks: "127.0.0.0/8,::1".into(),
            ..Config::default()
        };
        // Suites make many calls with one token; the rate-limit tests set their own limit.
        config.auth.rate_limit.requests = 1_000_000;
        adjust(&mut config);
        let app = Application::build(config.clone())
            .await
            .expect("server builds");
        // `system` so tests may also pick an instance with `instance.id`; the auth suite checks
        // non-system tokens explicitly.
        let admin_token = mint(&config, "default", "admin system");
        let base = format!("http://{}", app.local_addr());
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(app.run(async move {
            let _ = rx.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            data_dir,
            config,
            admin_token,
            shutdown: Some(tx),
            handle: Some(handle),
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A token for the default instance with the given space-separated scopes.
    pub fn token(&self, scopes: &str) -> String {
        mint(&self.config, "default", scopes)
    }

    /// A token bound to `instance` with the given scopes.
    pub fn token_for(&self, instance: &str, scopes: &str) -> String {
        mint(&self.config, instance, scopes)
    }

    /// Sends `body` as JSON (or nothing) with the admin token and returns status and parsed JSON
    /// (Null if empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(Some(&self.admin_token), method, path, body)
            .await
    }

    /// Like [`call`](Self::call) with `token` (`None` sends no Authorization header).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let resp = self.send_as(token, method, path, body).await;
        read(resp).await
    }

    /// Like [`call_as`](Self::call_as) but returns the raw response (headers included).
    pub async fn send_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request sent")
    }

    /// A call without any token.
    pub async fn anon(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_as(None, method, path, body).await
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    /// Sends a raw body with an explicit content type (and the admin token).
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        self.raw_as(Some(&self.admin_token), method, path, content_type, body)
            .await
    }

    /// Like [`raw`](Self::raw) with `token` (`None` sends no Authorization header).
    pub async fn raw_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        content_type: &str,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        read(req.send().await.expect("request sent")).await
    }

    /// Stops the server and waits for it to finish; keeps the data directory.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server ran cleanly");
        }
        self._dir.take()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Mints a one-hour token with the server's secret (as `switchyard token` does).
pub fn mint(config: &Config, instance: &str, scopes: &str) -> String {
    let instance = switchyard_core::InstanceId::parse(instance).expect("valid instance id");
    let scopes = switchyard_core::auth::Scopes::parse(scopes).expect("valid scopes");
    switchyard::auth::mint_token(
        config,
        "test-client",
        &instance,
        scopes,
        std::time::Duration::from_secs(3600),
    )
    .expect("token minted")
}

pub async fn read(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}
