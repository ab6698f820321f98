//! A local subscriber for request-response tests: records every request and answers from a
//! script (status and body per request, then a default).

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// One received request.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<(u16, String)>>,
    arrived: Notify,
}

pub struct Receiver {
    pub url: String,
    shared: Arc<Shared>,
}

impl Receiver {
    /// Starts a receiver answering `script` in order, then 200 `{}`.
    pub async fn start(script: &[(u16, &str)]) -> Self {
        let shared = Arc::new(Shared::default());
        shared
            .script
            .lock()
            .unwrap()
            .extend(script.iter().map(|(s, b)| (*s, b.to_string())));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let s = shared.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move {
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                s.received.lock().unwrap().push(Received { headers, body });
                s.arrived.notify_waiters();
                let (status, body) = s
                    .script
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or((200, "{}".into()));
                (
                    StatusCode::from_u16(status).unwrap(),
                    [("content-type", "application/json")],
                    body,
                )
                    .into_response()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `n` requests arrived and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let until = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let arrived = self.shared.arrived.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "expected {n} requests, got {}",
                got.len()
            );
            let _ = tokio::time::timeout(Duration::from_millis(200), arrived).await;
        }
    }
}
