//! Deliveries: the list with every filter of `GET /v1/invocations` and its cursor, one
//! invocation with its attempts, replay, cancel, and bulk recovery (`POST
//! /v1/invocations/replay`). Every read and action is the API call of the same name.

use super::backend::{segment, with_query, Answer};
use super::page::{self, Chrome, Flash, Incoming};
use super::session::{secure, signed_out, Posted, Session};
use super::Console;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The states a delivery can be in, for the status filter.
const STATUSES: [&str; 8] = [
    "waiting",
    "pending",
    "in_flight",
    "delivered",
    "awaiting_callback",
    "completed",
    "failed",
    "cancelled",
];

/// Rows per page.
const PAGE: &str = "50";

/// The list's filters, named as `GET /v1/invocations` names them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(super) struct Filters {
    status: String,
    route_kind: String,
    route_id: String,
    trigger_id: String,
    event_id: String,
    since: String,
    until: String,
    cursor: String,
}

impl Filters {
    /// The filters as query pairs (times in RFC 3339), without the cursor.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.status.clone()),
            ("routeKind", self.route_kind.clone()),
            ("routeId", self.route_id.clone()),
            ("triggerId", self.trigger_id.clone()),
            ("eventId", self.event_id.clone()),
            ("since", rfc3339(&self.since)),
            ("until", rfc3339(&self.until)),
        ]
    }
}

/// A `datetime-local` value (`2026-11-30T10:00`, read as UTC) as RFC 3339; anything else as
/// typed, for the API to accept or refuse.
fn rfc3339(t: &str) -> String {
    let t = t.trim();
    let local = t.len() == 16 && t.as_bytes().get(10) == Some(&b'T') && !t.ends_with('Z');
    if local {
        format!("{t}:00Z")
    } else {
        t.to_string()
    }
}

fn query(path: &str, pairs: &[(&'static str, String)]) -> String {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    with_query(path, &refs)
}

/// One row of the list, as the API writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Row {
    pub id: String,
    pub event_id: String,
    pub trigger_id: String,
    pub route_kind: String,
    pub route_id: String,
    pub kind: String,
    pub status: String,
    pub attempt_count: u32,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowPage {
    data: Vec<Row>,
    next_cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "console/deliveries.html")]
struct ListPage {
    chrome: Chrome,
    f: Filters,
    statuses: &'static [&'static str],
    rows: Vec<Row>,
    next: Option<String>,
    can_act: bool,
}

/// `GET /console/deliveries`.
pub(super) async fn list(
    State(c): State<Console>,
    session: Session,
    Incoming(incoming): Incoming,
    Query(f): Query<Filters>,
) -> Response {
    let mut pairs = f.pairs();
    pairs.push(("limit", PAGE.into()));
    pairs.push(("cursor", f.cursor.clone()));
    let answer = c.get(&session, &query("/v1/invocations", &pairs)).await;
    if answer.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    let mut flash = incoming;
    let (rows, next) = match answer.parse::<RowPage>() {
        Ok(p) => (p.data, p.next_cursor),
        Err(e) => {
            flash = Some(Flash::error(e));
            (Vec::new(), None)
        }
    };
    let next = next.map(|cursor| {
        let mut p = f.pairs();
        p.push(("cursor", cursor));
        query("/console/deliveries", &p)
    });
    let status = if flash.as_ref().is_some_and(|f| f.kind == "error") && rows.is_empty() {
        answer.status
    } else {
        StatusCode::OK
    };
    page::html(
        status,
        &ListPage {
            chrome: Chrome::new(&session, "deliveries", flash),
            can_act: session.allows(switchyard_core::auth::Scope::InvocationsStart),
            f,
            statuses: &STATUSES,
            rows,
            next,
        },
    )
}

/// One attempt, as the API writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AttemptIn {
    n: u32,
    at: String,
    transport: Option<String>,
    destination: Option<String>,
    outcome: Option<String>,
    #[serde(default)]
    request_headers: Value,
    status: Option<u16>,
    duration_ms: u64,
    response_excerpt: Option<String>,
    error: Option<String>,
}

/// An attempt ready to show: its headers as name/value pairs.
pub(super) struct Attempt {
    n: u32,
    at: String,
    transport: String,
    destination: String,
    outcome: String,
    headers: Vec<(String, String)>,
    status: String,
    duration_ms: u64,
    response_excerpt: Option<String>,
    error: Option<String>,
}

impl From<AttemptIn> for Attempt {
    fn from(a: AttemptIn) -> Self {
        let headers = match a.request_headers {
            Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or(v.to_string())))
                .collect(),
            Value::Null => Vec::new(),
            other => vec![("metadata".into(), other.to_string())],
        };
        Self {
            n: a.n,
            at: a.at,
            transport: a.transport.unwrap_or_else(|| "—".into()),
            destination: a.destination.unwrap_or_else(|| "—".into()),
            outcome: a.outcome.unwrap_or_else(|| "—".into()),
            headers,
            status: a
                .status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "—".into()),
            duration_ms: a.duration_ms,
            response_excerpt: a.response_excerpt,
            error: a.error,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DetailIn {
    #[serde(flatten)]
    row: Row,
    output: Option<Value>,
    deadline_at: Option<String>,
    request_payload: Option<Value>,
    #[serde(default)]
    attempts: Vec<AttemptIn>,
}

#[derive(Template)]
#[template(path = "console/delivery.html")]
struct DetailPage {
    chrome: Chrome,
    inv: Row,
    output: Option<String>,
    deadline_at: Option<String>,
    payload: Option<String>,
    attempts: Vec<Attempt>,
    can_replay: bool,
    can_cancel: bool,
    can_act: bool,
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// `GET /console/deliveries/{id}`.
pub(super) async fn detail(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
    Incoming(incoming): Incoming,
) -> Response {
    let answer = c
        .get(&session, &format!("/v1/invocations/{}", segment(&id)))
        .await;
    if answer.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    let d = match answer.parse::<DetailIn>() {
        Ok(d) => d,
        // A message carried here (an action's outcome) is not lost on the error page.
        Err(e) => {
            let text = match incoming {
                Some(f) if f.text != e => format!("{} — {e}", f.text),
                _ => e,
            };
            return page::error_page(answer.status, Flash::error(text));
        }
    };
    let status = d.row.status.as_str();
    let can_replay = matches!(status, "failed" | "delivered" | "cancelled" | "completed");
    let can_cancel = matches!(status, "pending" | "waiting");
    let mut attempts: Vec<Attempt> = d.attempts.into_iter().map(Attempt::from).collect();
    attempts.sort_by_key(|a| std::cmp::Reverse(a.n));
    page::html(
        StatusCode::OK,
        &DetailPage {
            chrome: Chrome::new(&session, "deliveries", incoming),
            can_act: session.allows(switchyard_core::auth::Scope::InvocationsStart),
            output: d.output.as_ref().map(pretty),
            deadline_at: d.deadline_at,
            payload: d.request_payload.as_ref().map(pretty),
            inv: d.row,
            attempts,
            can_replay,
            can_cancel,
        },
    )
}

/// Where to go after an action on one invocation, with its outcome as the page's message.
fn after(c: &Console, answer: &Answer, back: &str, done: &str) -> Response {
    if answer.unauthenticated() {
        return signed_out(&Method::POST, &Default::default(), secure(c));
    }
    let flash = if answer.ok() {
        Flash::ok(done)
    } else {
        Flash::error(answer.error_text())
    };
    page::redirect(c, back, flash)
}

#[derive(Deserialize)]
pub(super) struct NoFields {}

/// `POST /console/deliveries/{id}/replay`.
pub(super) async fn replay(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<NoFields>,
) -> Response {
    let path = format!("/v1/invocations/{}/replay", segment(&id));
    let answer = c.call(&p.session, Method::POST, &path, None).await;
    let back = format!("/console/deliveries/{}", segment(&id));
    after(&c, &answer, &back, "Queued again for delivery.")
}

/// `POST /console/deliveries/{id}/cancel`.
pub(super) async fn cancel(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<NoFields>,
) -> Response {
    let path = format!("/v1/invocations/{}/cancel", segment(&id));
    let answer = c.call(&p.session, Method::POST, &path, None).await;
    let back = format!("/console/deliveries/{}", segment(&id));
    after(&c, &answer, &back, "Cancelled.")
}

/// `POST /console/deliveries/recover`: bulk recovery with the list's filters.
pub(super) async fn recover(State(c): State<Console>, p: Posted<Filters>) -> Response {
    let f = &p.form;
    let mut body = Map::new();
    for (k, v) in f.pairs() {
        if !v.trim().is_empty() {
            body.insert(k.to_string(), json!(v.trim()));
        }
    }
    let answer = c
        .call(
            &p.session,
            Method::POST,
            "/v1/invocations/replay",
            Some(&Value::Object(body)),
        )
        .await;
    let done = format!(
        "Queued {} invocation(s) again{}.",
        answer.body["replayed"].as_u64().unwrap_or(0),
        if answer.body["more"] == json!(true) {
            "; more match: recover again"
        } else {
            ""
        }
    );
    let back = query("/console/deliveries", &f.pairs());
    after(&c, &answer, &back, &done)
}
