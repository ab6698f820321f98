//! A local webhook receiver for delivery tests: an axum server on 127.0.0.1:0 that records every
//! request (path, headers, body, arrival time) and answers from a per-path script, so a test can
//! say "fail twice, then succeed" or "answer 410" and then wait for what arrived. Waiting is on a
//! change notification with a deadline, never a fixed sleep. Shared with the crash test binary.

#![allow(dead_code)]

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    /// Header names lowercased; a repeated header keeps its first value.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Recorded {
    /// A header value (name in any case), or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map_or("", String::as_str)
    }

    /// The body parsed as JSON (panics with the text if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_string();
        self
    }
}

impl From<u16> for Reply {
    fn from(status: u16) -> Self {
        Reply::status(status)
    }
}

impl From<(u16, &str, &str)> for Reply {
    /// `(status, header name, header value)`, e.g. `(429, "Retry-After", "1")`.
    fn from((status, name, value): (u16, &str, &str)) -> Self {
        Reply::status(status).header(name, value)
    }
}

struct State {
    requests: Mutex<Vec<Recorded>>,
    /// Answers still to give per path, in order; the default after they run out.
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    /// Answers still to give to requests whose body contains a text, before any other script.
    body_scripts: Mutex<Vec<(String, VecDeque<Reply>)>>,
    /// The answer for a path whose script ran out, per path or for every path.
    defaults: Mutex<HashMap<String, Reply>>,
    default: Mutex<Reply>,
    /// How long to wait before answering (keeps deliveries in flight), per path or for all.
    delays: Mutex<HashMap<String, Duration>>,
    delay: Mutex<Duration>,
    /// Number of requests recorded so far; waiters watch it.
    count: watch::Sender<usize>,
    /// Requests being answered right now, and the most there ever were at once.
    concurrent: Mutex<(usize, usize)>,
}

/// A running receiver; stops when dropped.
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver that answers 204 to everything until scripted otherwise.
    pub async fn start() -> Self {
        let (count, _) = watch::channel(0);
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            scripts: Mutex::new(HashMap::new()),
            body_scripts: Mutex::new(Vec::new()),
            defaults: Mutex::new(HashMap::new()),
            default: Mutex::new(Reply::status(204)),
            delays: Mutex::new(HashMap::new()),
            delay: Mutex::new(Duration::ZERO),
            count,
            concurrent: Mutex::new((0, 0)),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("receiver binds");
        let addr = listener.local_addr().unwrap();
        let handler_state = state.clone();
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = handler_state.clone();
            async move { handle(state, uri, headers, body).await }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers for `path`, in order, before its default applies.
    pub fn script<R: Into<Reply>>(&self, path: &str, replies: impl IntoIterator<Item = R>) {
        self.state.scripts.lock().unwrap().insert(
            path.to_string(),
            replies.into_iter().map(Into::into).collect(),
        );
    }

    /// Answers for requests whose body contains `needle` (any path), in order, before any other
    /// script or default applies.
    pub fn script_body<R: Into<Reply>>(&self, needle: &str, replies: impl IntoIterator<Item = R>) {
        self.state.body_scripts.lock().unwrap().push((
            needle.to_string(),
            replies.into_iter().map(Into::into).collect(),
        ));
    }

    /// The answer for `path` once its script ran out.
    pub fn default_for(&self, path: &str, reply: impl Into<Reply>) {
        self.state
            .defaults
            .lock()
            .unwrap()
            .insert(path.to_string(), reply.into());
    }

    /// The answer for every path without a script or default of its own.
    pub fn set_default(&self, reply: impl Into<Reply>) {
        *self.state.default.lock().unwrap() = reply.into();
    }

    /// Waits this long before answering each request.
    pub fn set_delay(&self, d: Duration) {
        *self.state.delay.lock().unwrap() = d;
    }

    /// Waits this long before answering requests to `path`.
    pub fn delay_for(&self, path: &str, d: Duration) {
        self.state
            .delays
            .lock()
            .unwrap()
            .insert(path.to_string(), d);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The requests to `path` so far.
    pub fn on(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// The most requests that were ever being answered at the same moment.
    pub fn max_concurrent(&self) -> usize {
        self.state.concurrent.lock().unwrap().1
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        *self.state.count.borrow()
    }

    /// Waits until at least `n` requests arrived (any path); panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        self.wait_until(timeout, &format!("{n} requests"), |all| all.len() >= n)
            .await
    }

    /// Waits until at least `n` requests to `path` arrived; returns those.
    pub async fn wait_for_path(&self, path: &str, n: usize, timeout: Duration) -> Vec<Recorded> {
        self.wait_until(timeout, &format!("{n} requests to {path}"), |all| {
            all.iter().filter(|r| r.path == path).count() >= n
        })
        .await;
        self.on(path)
    }

    /// Waits until `done` holds for the recorded requests; panics after `timeout`.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&[Recorded]) -> bool,
    ) -> Vec<Recorded> {
        let mut rx = self.state.count.subscribe();
        let state = self.state.clone();
        let waited = tokio::time::timeout(
            timeout,
            rx.wait_for(|_| done(&state.requests.lock().unwrap())),
        )
        .await;
        let all = self.requests();
        match waited {
            Ok(Ok(_)) => all,
            _ => panic!(
                "receiver: timed out after {timeout:?} waiting for {what}; got {} request(s): {:?}",
                all.len(),
                all.iter().map(|r| &r.path).collect::<Vec<_>>()
            ),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(state: Arc<State>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let at = Instant::now();
    {
        let mut c = state.concurrent.lock().unwrap();
        c.0 += 1;
        c.1 = c.1.max(c.0);
    }
    let path = uri.path().to_string();
    let mut map = HashMap::new();
    for (k, v) in &headers {
        map.entry(k.as_str().to_ascii_lowercase())
            .or_insert_with(|| String::from_utf8_lossy(v.as_bytes()).into_owned());
    }
    let by_body = {
        let text = String::from_utf8_lossy(&body);
        let mut scripts = state.body_scripts.lock().unwrap();
        scripts
            .iter_mut()
            .find(|(needle, replies)| !replies.is_empty() && text.contains(needle.as_str()))
            .and_then(|(_, replies)| replies.pop_front())
    };
    let reply = {
        let next = by_body.or_else(|| {
            state
                .scripts
                .lock()
                .unwrap()
                .get_mut(&path)
                .and_then(VecDeque::pop_front)
        });
        next.or_else(|| state.defaults.lock().unwrap().get(&path).cloned())
            .unwrap_or_else(|| state.default.lock().unwrap().clone())
    };
    let delay = state
        .delays
        .lock()
        .unwrap()
        .get(&path)
        .copied()
        .unwrap_or_else(|| *state.delay.lock().unwrap());
    // Recorded on arrival (before any delay), so arrival times measure the sender's schedule.
    state.requests.lock().unwrap().push(Recorded {
        path,
        headers: map,
        body: body.to_vec(),
        at,
    });
    state.count.send_modify(|c| *c += 1);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    state.concurrent.lock().unwrap().0 -= 1;
    let mut resp = (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        reply.body,
    )
        .into_response();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&v).unwrap(),
        );
    }
    resp
}
