//! Routes: SailPoint subscriptions (enable/disable), ZITADEL targets, the trigger catalog with
//! schemas and examples, the ZITADEL event types an execution may name, and test invocations.
//! Reads and actions are the API's own calls (`/beta/trigger-subscriptions`,
//! `/v2/actions/targets`, `/beta/triggers`, `/v1/catalog/zitadel-events`,
//! `/beta/trigger-invocations/test`), so their scopes and validation apply unchanged.

use super::backend::segment;
use super::executions::{self, ExecutionRow};
use super::form::{Button, Field, FormPage, Group};
use super::page::{self, Chrome, Flash, Incoming};
use super::session::{secure, signed_out, Posted, Session};
use super::Console;
use super::{subscriptions, targets};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn router() -> Router<Console> {
    Router::new()
        .route("/console/routes", get(list))
        .route("/console/routes/test", post(test_invocation))
        .route(
            "/console/routes/subscriptions/{id}/enabled",
            post(set_enabled),
        )
        .route(
            "/console/routes/subscriptions/new",
            get(subscriptions::new_form),
        )
        .route("/console/routes/subscriptions", post(subscriptions::create))
        .route(
            "/console/routes/subscriptions/{id}",
            get(subscriptions::edit_form).post(subscriptions::update),
        )
        .route(
            "/console/routes/subscriptions/{id}/delete",
            post(subscriptions::delete),
        )
        .route("/console/routes/targets/new", get(targets::new_form))
        .route("/console/routes/targets", post(targets::create))
        .route(
            "/console/routes/targets/{id}",
            get(targets::edit_form).post(targets::update),
        )
        .route("/console/routes/targets/{id}/rotate", post(targets::rotate))
        .route("/console/routes/targets/{id}/delete", post(targets::delete))
        .route(
            "/console/routes/targets/{id}/enabled",
            post(targets::switch),
        )
        .route("/console/routes/executions/edit", get(executions::form))
        .route("/console/routes/executions", post(executions::save))
        .route(
            "/console/routes/executions/delete",
            post(executions::delete),
        )
        .route("/console/routes/subscriptions/{id}/test", get(test_form))
}

/// A subscription as the SailPoint API writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubscriptionIn {
    id: String,
    name: String,
    trigger_id: String,
    #[serde(default)]
    trigger_name: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    http_config: Option<Value>,
    #[serde(default)]
    event_bridge_config: Option<Value>,
    enabled: bool,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    response_deadline: Option<String>,
}

struct SubscriptionRow {
    id: String,
    name: String,
    trigger: String,
    kind: String,
    destination: String,
    enabled: bool,
    filter: String,
    deadline: String,
}

impl From<SubscriptionIn> for SubscriptionRow {
    fn from(s: SubscriptionIn) -> Self {
        let destination = s
            .http_config
            .as_ref()
            .and_then(|h| h["url"].as_str())
            .map(str::to_string)
            .or_else(|| {
                s.event_bridge_config.as_ref().map(|e| {
                    format!(
                        "{} / {}",
                        e["awsAccount"].as_str().unwrap_or(""),
                        e["awsRegion"].as_str().unwrap_or("")
                    )
                })
            })
            .unwrap_or_default();
        Self {
            trigger: match s.trigger_name {
                Some(n) if !n.is_empty() => format!("{} ({n})", s.trigger_id),
                _ => s.trigger_id,
            },
            id: s.id,
            name: s.name,
            kind: s.kind,
            destination,
            enabled: s.enabled,
            filter: s.filter.unwrap_or_default(),
            deadline: s.response_deadline.unwrap_or_default(),
        }
    }
}

/// A ZITADEL target as the v2 API writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetIn {
    id: String,
    name: String,
    endpoint: String,
    timeout: String,
    #[serde(default)]
    payload_type: String,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

struct TargetRow {
    id: String,
    name: String,
    endpoint: String,
    timeout: String,
    kind: String,
    payload_type: String,
    breaker: Option<targets::Breaker>,
}

impl TargetRow {
    /// Switched off by an operator, an auto-disable or a 410.
    fn is_off(&self) -> bool {
        self.breaker.as_ref().is_some_and(|b| b.disabled.is_some())
    }
}

impl From<TargetIn> for TargetRow {
    fn from(t: TargetIn) -> Self {
        let kind = ["restWebhook", "restCall", "restAsync"]
            .into_iter()
            .find(|k| t.rest.contains_key(*k))
            .unwrap_or("")
            .to_string();
        Self {
            id: t.id,
            name: t.name,
            endpoint: t.endpoint,
            timeout: t.timeout,
            kind,
            payload_type: t.payload_type,
            breaker: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TriggerIn {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input_schema: String,
    #[serde(default)]
    example_input: Value,
    #[serde(default)]
    output_schema: Option<String>,
    #[serde(default)]
    example_output: Option<Value>,
}

struct TriggerRow {
    id: String,
    name: String,
    kind: String,
    description: String,
    input_schema: String,
    example_input: String,
    output_schema: Option<String>,
    example_output: Option<String>,
}

/// Schemas come as JSON text; shown indented when they parse.
fn indent_text(s: &str) -> String {
    serde_json::from_str::<Value>(s)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| s.to_string())
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

impl From<TriggerIn> for TriggerRow {
    fn from(t: TriggerIn) -> Self {
        Self {
            id: t.id,
            name: t.name,
            kind: t.kind,
            description: t.description.unwrap_or_default(),
            input_schema: indent_text(&t.input_schema),
            example_input: pretty(&t.example_input),
            output_schema: t.output_schema.as_deref().map(indent_text),
            example_output: t.example_output.as_ref().map(pretty),
        }
    }
}

#[derive(Template)]
#[template(path = "console/routes.html")]
struct RoutesPage {
    chrome: Chrome,
    subscriptions: Result<Vec<SubscriptionRow>, String>,
    targets: Result<Vec<TargetRow>, String>,
    executions: Result<Vec<ExecutionRow>, String>,
    triggers: Result<Vec<TriggerRow>, String>,
    zitadel_events: Result<Vec<String>, String>,
}

/// `GET /console/routes`.
async fn list(
    State(c): State<Console>,
    session: Session,
    Incoming(incoming): Incoming,
) -> Response {
    let everything = json!({});
    let (subs, targets, triggers, events) = tokio::join!(
        c.get(&session, "/beta/trigger-subscriptions?limit=250"),
        c.call(
            &session,
            Method::POST,
            "/v2/actions/targets/search",
            Some(&everything)
        ),
        c.get(&session, "/beta/triggers?limit=250"),
        c.get(&session, "/v1/catalog/zitadel-events"),
    );
    if subs.unauthenticated() || targets.unauthenticated() || triggers.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    #[derive(Deserialize)]
    struct Events {
        events: Vec<String>,
    }
    #[derive(Deserialize)]
    struct Targets {
        #[serde(default)]
        targets: Vec<TargetIn>,
    }
    let mut target_rows: Result<Vec<TargetRow>, String> = targets
        .parse::<Targets>()
        .map(|t| t.targets.into_iter().map(Into::into).collect());
    let mut names = Vec::new();
    if let Ok(rows) = target_rows.as_mut() {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let health = targets::breakers(&c, &session, &ids).await;
        for (row, b) in rows.iter_mut().zip(health) {
            row.breaker = Some(b);
        }
        names = rows
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect();
    }
    let executions = executions::list(&c, &session, &names).await;
    page::html(
        StatusCode::OK,
        &RoutesPage {
            chrome: Chrome::new(&session, "routes", incoming),
            subscriptions: subs
                .parse::<Vec<SubscriptionIn>>()
                .map(|v| v.into_iter().map(Into::into).collect()),
            targets: target_rows,
            executions,
            triggers: triggers
                .parse::<Vec<TriggerIn>>()
                .map(|v| v.into_iter().map(Into::into).collect()),
            zitadel_events: events.parse::<Events>().map(|e| e.events),
        },
    )
}

/// The sign-in page when the API no longer accepts the session's token.
pub(super) fn bounce(c: &Console, answer: &super::backend::Answer) -> Option<Response> {
    answer
        .unauthenticated()
        .then(|| signed_out(&Method::POST, &Default::default(), secure(c)))
}

/// Deletes what the API has at `path`, then back to the Routes page saying `done`.
pub(super) async fn delete_then_back(
    c: &Console,
    session: &Session,
    path: &str,
    done: &str,
) -> Response {
    let answer = c.call(session, Method::DELETE, path, None).await;
    back(c, &answer, done)
}

/// Back to the Routes page with the API's error, or with `done` when the call succeeded.
pub(super) fn back(c: &Console, answer: &super::backend::Answer, done: &str) -> Response {
    if let Some(out) = bounce(c, answer) {
        return out;
    }
    let flash = if answer.ok() {
        Flash::ok(done)
    } else {
        Flash::error(answer.error_text())
    };
    page::redirect(c, "/console/routes", flash)
}

#[derive(Deserialize)]
pub(super) struct EnabledForm {
    enabled: String,
}

/// `POST /console/routes/subscriptions/{id}/enabled`: a JSON Patch of `/enabled`.
async fn set_enabled(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<EnabledForm>,
) -> Response {
    let enabled = p.form.enabled == "true";
    let patch = json!([{"op": "replace", "path": "/enabled", "value": enabled}]);
    let answer = c
        .patch(
            &p.session,
            &format!("/beta/trigger-subscriptions/{}", segment(&id)),
            &patch,
        )
        .await;
    let done = format!(
        "Subscription {id} {}.",
        if enabled { "enabled" } else { "disabled" }
    );
    back(&c, &answer, &done)
}

#[derive(Deserialize)]
pub(super) struct TestForm {
    subscription: String,
    #[serde(default)]
    input: String,
}

/// The test form: the subscription and an input, prefilled with its trigger's example.
fn test_page(session: &Session, subscription: &str, input: &str) -> FormPage {
    FormPage {
        chrome: Chrome::new(session, "routes", None),
        title: "Send a test invocation".into(),
        intro: "The input is checked against the trigger's input schema by the API; the \
                subscription receives it as a test invocation (its filter applies, a disabled \
                subscription receives it too)."
            .into(),
        action: "/console/routes/test".into(),
        groups: vec![Group {
            legend: "Test invocation",
            fields: vec![
                Field::text("subscription", "Subscription", subscription).kind("readonly"),
                Field::text("input", "Input (JSON)", input)
                    .kind("textarea")
                    .hint("Prefilled with the trigger's example input. Empty: the example."),
            ],
        }],
        error: None,
        preview: None,
        buttons: vec![Button {
            value: "send",
            label: "Send test invocation",
        }],
        back: "/console/routes".into(),
        side_forms: Vec::new(),
    }
}

/// The test form with `message` beside the input.
fn test_error(session: &Session, form: &TestForm, status: StatusCode, message: &str) -> Response {
    let mut page = test_page(session, &form.subscription, &form.input);
    page.error = Some(format!("Input (JSON): {message}"));
    if let Some(f) = page.groups[0].fields.iter_mut().find(|f| f.name == "input") {
        f.error = Some(message.to_string());
    }
    page::html(status, &page)
}

/// `GET /console/routes/subscriptions/{id}/test`.
async fn test_form(State(c): State<Console>, session: Session, Path(id): Path<String>) -> Response {
    let sub = c
        .get(
            &session,
            &format!("/beta/trigger-subscriptions/{}", segment(&id)),
        )
        .await;
    if sub.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    if !sub.ok() {
        return page::error_page(sub.status, Flash::error(sub.error_text()));
    }
    let trigger = sub.body["triggerId"].as_str().unwrap_or_default();
    let triggers = c.get(&session, "/beta/triggers?limit=250").await;
    let example = triggers
        .body
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["id"] == trigger))
        .map(|t| pretty(&t["exampleInput"]))
        .unwrap_or_default();
    page::html(StatusCode::OK, &test_page(&session, &id, &example))
}

/// `POST /console/routes/test`: a SailPoint test invocation of one subscription (its trigger's
/// example input unless one is given); shows the invocation it made, or the form with the
/// problem (not JSON, refused by the API) beside the input.
async fn test_invocation(State(c): State<Console>, p: Posted<TestForm>) -> Response {
    let subs = c
        .get(
            &p.session,
            &format!(
                "/beta/trigger-subscriptions/{}",
                segment(&p.form.subscription)
            ),
        )
        .await;
    let trigger = match subs.parse::<Value>() {
        Ok(s) => s["triggerId"].as_str().unwrap_or_default().to_string(),
        Err(e) => return back(&c, &subs, &e),
    };
    let mut body = json!({
        "triggerId": trigger,
        "contentJson": {"source": "console"},
        "subscriptionIds": [p.form.subscription],
    });
    if !p.form.input.trim().is_empty() {
        match serde_json::from_str::<Value>(&p.form.input) {
            Ok(v) => body["input"] = v,
            Err(e) => {
                let message = format!("input: not JSON ({e})");
                return test_error(&p.session, &p.form, StatusCode::BAD_REQUEST, &message);
            }
        }
    }
    let answer = c
        .call(
            &p.session,
            Method::POST,
            "/beta/trigger-invocations/test",
            Some(&body),
        )
        .await;
    if answer.unauthenticated() {
        return back(&c, &answer, "");
    }
    match answer.body[0]["id"].as_str() {
        Some(id) if answer.ok() => page::redirect(
            &c,
            &format!("/console/deliveries/{}", segment(id)),
            Flash::ok("Test invocation sent."),
        ),
        _ if answer.ok() => back(&c, &answer, "No subscription matched the test invocation."),
        _ => test_error(&p.session, &p.form, answer.status, &answer.error_text()),
    }
}
