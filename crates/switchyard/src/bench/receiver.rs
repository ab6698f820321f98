//! The benchmark's receiver, in this process: `/raw` answers 204 and counts nothing (the raw
//! loopback baseline), `/call` answers like a restCall target, and every other path is a
//! delivery: counted, its end-to-end latency taken from the `webhook-id` (a UUIDv7 carries the
//! millisecond its event was accepted), and the longest pause between two deliveries noted.
//! An optional delay before each answer makes it a slow endpoint.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

#[derive(Default)]
struct Seen {
    count: AtomicUsize,
    /// End-to-end latencies in microseconds.
    latencies: Mutex<Vec<u64>>,
    timeline: Mutex<Timeline>,
    changed: Notify,
    delay: Duration,
}

#[derive(Default, Clone, Copy)]
struct Timeline {
    first: Option<Instant>,
    last: Option<Instant>,
    longest_pause: Duration,
}

pub struct Receiver {
    addr: std::net::SocketAddr,
    seen: Arc<Seen>,
}

impl Receiver {
    pub async fn start(delay: Duration) -> anyhow::Result<Self> {
        let seen = Arc::new(Seen {
            delay,
            ..Seen::default()
        });
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
            .fallback(post(hook))
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

    /// Forgets every delivery so far.
    pub fn reset(&self) {
        self.seen.count.store(0, Ordering::SeqCst);
        self.seen
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        *self.seen.timeline.lock().unwrap_or_else(|e| e.into_inner()) = Timeline::default();
    }

    pub fn count(&self) -> usize {
        self.seen.count.load(Ordering::SeqCst)
    }

    pub fn first_arrival(&self) -> Option<Instant> {
        self.timeline().first
    }

    pub fn last_arrival(&self) -> Option<Instant> {
        self.timeline().last
    }

    /// The longest time between two consecutive deliveries.
    pub fn longest_pause(&self) -> Duration {
        self.timeline().longest_pause
    }

    fn timeline(&self) -> Timeline {
        *self.seen.timeline.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One subscription URL per subscription of a fan-out of `fanout`.
    pub fn hooks(&self, fanout: usize) -> Vec<String> {
        (0..fanout)
            .map(|i| format!("{}/{i}", self.url("/hook")))
            .collect()
    }

    /// Waits until `n` deliveries arrived or `timeout` passed.
    pub async fn wait_for(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.count() < n && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), self.seen.changed.notified())
                .await;
        }
    }

    /// Sorted end-to-end latencies.
    pub fn latencies(&self) -> Vec<Duration> {
        let mut v: Vec<Duration> = self
            .seen
            .latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|us| Duration::from_micros(*us))
            .collect();
        v.sort();
        v
    }
}

async fn hook(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> StatusCode {
    let now = Instant::now();
    let accepted = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .and_then(uuid_v7_millis);
    if let Some(ms) = accepted {
        let now_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let latency = now_us.saturating_sub(ms * 1000);
        seen.latencies
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(latency);
    }
    {
        let mut t = seen.timeline.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = t.last {
            t.longest_pause = t.longest_pause.max(now.saturating_duration_since(last));
        }
        t.first.get_or_insert(now);
        t.last = Some(now);
    }
    if seen.count.fetch_add(1, Ordering::Relaxed) % 256 == 0 {
        seen.changed.notify_waiters();
    }
    if !seen.delay.is_zero() {
        tokio::time::sleep(seen.delay).await;
    }
    StatusCode::NO_CONTENT
}

/// The Unix millisecond a hyphenated UUIDv7 was made at (its first 48 bits).
fn uuid_v7_millis(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.len() != 36 || b.get(14) != Some(&b'7') {
        return None;
    }
    let hex = format!("{}{}", id.get(..8)?, id.get(9..13)?);
    u64::from_str_radix(&hex, 16).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_v7_carries_its_millisecond() {
        let id = uuid::Uuid::now_v7().to_string();
        let ms = super::uuid_v7_millis(&id).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now.abs_diff(ms) < 1000, "{ms} vs {now}");
        assert_eq!(
            super::uuid_v7_millis(&uuid::Uuid::new_v4().to_string()),
            None
        );
    }
}
