//! End-to-end tests of synchronous ZITADEL call chains (`POST /v1/calls`) and the per-target
//! circuit breaker, against a scripted local receiver.

mod breaker;
mod chain;
mod payload;
mod rules;

use crate::support::TestServer;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CONNECT: &str = "/zitadel.action.v2.ActionService";
pub const ADD_HUMAN: &str = "/zitadel.user.v2.UserService/AddHumanUser";

/// What the receiver answers on one path.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    answers: Mutex<HashMap<String, Answer>>,
    seen: Mutex<VecDeque<Seen>>,
}

/// A local receiver answering per path what the test set (200 with no body by default).
#[derive(Clone)]
pub struct Receiver {
    base: String,
    inner: Arc<Inner>,
}

impl Receiver {
    pub async fn start() -> Self {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { base, inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn set(&self, path: &str, a: Answer) {
        self.inner
            .answers
            .lock()
            .unwrap()
            .insert(path.to_string(), a);
    }

    /// Everything received so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().iter().cloned().collect()
    }

    pub fn paths(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.path).collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// Waits up to 5 s for a request on `path`.
    pub async fn wait_for(&self, path: &str) -> Seen {
        for _ in 0..250 {
            if let Some(s) = self.seen().into_iter().find(|s| s.path == path) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("nothing arrived on {path}");
    }
}

async fn answer(
    State(inner): State<Arc<Inner>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let path = uri.path().to_string();
    inner.seen.lock().unwrap().push_back(Seen {
        path: path.clone(),
        headers,
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    let a = inner
        .answers
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or(Answer::empty(200));
    if !a.delay.is_zero() {
        tokio::time::sleep(a.delay).await;
    }
    (
        StatusCode::from_u16(a.status).unwrap(),
        [("content-type", "application/json")],
        a.body,
    )
}

/// Creates a target; `kind` is e.g. `json!({"restCall": {"interruptOnError": true}})`.
/// Returns (id, signing key).
pub async fn target(
    s: &TestServer,
    name: &str,
    endpoint: &str,
    kind: Value,
    timeout: &str,
) -> (String, String) {
    let mut body = json!({"name": name, "endpoint": endpoint, "timeout": timeout});
    for (k, v) in kind.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, created) = s.post(&format!("{CONNECT}/CreateTarget"), body).await;
    assert_eq!(st, 200, "{created}");
    (
        created["id"].as_str().unwrap().to_string(),
        created["signingKey"].as_str().unwrap().to_string(),
    )
}

pub fn call_kind(interrupt: bool) -> Value {
    json!({"restCall": {"interruptOnError": interrupt}})
}

pub fn webhook_kind(interrupt: bool) -> Value {
    json!({"restWebhook": {"interruptOnError": interrupt}})
}

/// Sets the execution of `condition` to `targets` (in order).
pub async fn execution(s: &TestServer, condition: Value, targets: &[&str]) {
    let (st, body) = s
        .post(
            &format!("{CONNECT}/SetExecution"),
            json!({"condition": condition, "targets": targets}),
        )
        .await;
    assert_eq!(st, 200, "{body}");
}

/// `POST /v1/calls`: status, body and the call id header.
pub async fn call(s: &TestServer, body: Value) -> (u16, Value, String) {
    let resp = s
        .send_as(Some(&s.admin_token), Method::POST, "/v1/calls", Some(body))
        .await;
    let id = resp
        .headers()
        .get("switchyard-call-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (st, v) = crate::support::read(resp).await;
    (st.as_u16(), v, id)
}

/// The record of a call, once the writer has written it (waits up to 5 s).
pub async fn record(s: &TestServer, id: &str, attempts: usize) -> Value {
    let mut last = Value::Null;
    for _ in 0..250 {
        let (st, v) = s.get(&format!("/v1/calls/{id}")).await;
        if st == 200 && v["attempts"].as_array().map_or(0, Vec::len) >= attempts {
            return v;
        }
        last = v;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("call {id} not recorded with {attempts} attempts: {last}");
}
