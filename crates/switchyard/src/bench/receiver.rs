//! The benchmark's receiver: answers 204 as fast as it can and notes when each delivery (by
//! `webhook-id`) arrived; `/call` answers like a restCall target (a small JSON body).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
struct Seen {
    count: AtomicUsize,
    arrivals: Mutex<HashMap<String, Instant>>,
    last: Mutex<Option<Instant>>,
    changed: Notify,
}

pub struct Receiver {
    addr: std::net::SocketAddr,
    seen: Arc<Seen>,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/raw", post(|| async { StatusCode::NO_CONTENT }))
            // A restCall target's answer: a small JSON body that replaces the request.
            .route(
                "/call",
                post(|| async {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        r#"{"username":"john.doe","verified":true}"#,
                    )
                }),
            )
            .route("/hook", post(hook))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, seen })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn reset(&self) {
        self.seen.count.store(0, Ordering::SeqCst);
        self.seen
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn count(&self) -> usize {
        self.seen
            .arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    pub fn last_arrival(&self) -> Option<Instant> {
        *self.seen.last.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until `n` distinct deliveries arrived or `timeout` passed.
    pub async fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.count() < n && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(200), self.seen.changed.notified())
                .await;
        }
    }

    /// Sorted end-to-end latencies: arrival minus the send time of the delivery's invocation.
    pub fn latencies(&self, sent_at: &HashMap<String, Instant>) -> Vec<Duration> {
        let arrivals = self.seen.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<Duration> = arrivals
            .iter()
            .filter_map(|(id, at)| sent_at.get(id).map(|s| at.saturating_duration_since(*s)))
            .collect();
        v.sort();
        v
    }
}

async fn hook(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> StatusCode {
    let now = Instant::now();
    if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
        seen.arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id.to_string())
            .or_insert(now);
    }
    *seen.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(now);
    if seen.count.fetch_add(1, Ordering::Relaxed) % 256 == 0 {
        seen.changed.notify_waiters();
    }
    StatusCode::NO_CONTENT
}
