//! Creating, editing and deleting SailPoint subscriptions from the Routes page. The forms build
//! the API's own documents and send them with the API's own calls (`POST`, `PATCH` as RFC 6902
//! JSON Patch, `DELETE` on `/beta/trigger-subscriptions`), so validation is the API's: its
//! message is shown beside the field it names, with the values entered kept. An edit first
//! shows the patch it will send (computed here from the stored subscription and the form).

use super::backend::segment;
use super::form::{Button, Field, FieldErrors, FormPage, Group};
use super::json_patch::diff;
use super::page::{self, Chrome};
use super::routes_page::{back, bounce, delete_then_back};
use super::session::{secure, signed_out, Posted, Session};
use super::Console;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

const API: &str = "/beta/trigger-subscriptions";

/// API field paths → form fields.
const ERRORS: FieldErrors = FieldErrors(&[
    ("name", "name"),
    ("triggerId", "triggerId"),
    ("type", "type"),
    ("httpConfig", "url"),
    ("httpConfig.url", "url"),
    ("httpConfig.httpDispatchMode", "dispatchMode"),
    ("httpConfig.httpAuthenticationType", "authType"),
    ("httpConfig.basicAuthConfig", "userName"),
    ("httpConfig.basicAuthConfig.userName", "userName"),
    ("httpConfig.basicAuthConfig.password", "password"),
    ("httpConfig.bearerTokenAuthConfig", "bearerToken"),
    ("eventBridgeConfig", "awsAccount"),
    ("eventBridgeConfig.awsAccount", "awsAccount"),
    ("eventBridgeConfig.awsRegion", "awsRegion"),
    ("responseDeadline", "responseDeadline"),
    ("filter", "filter"),
    ("enabled", "enabled"),
]);

/// The form as posted (every field text; a missing checkbox is off).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct SubForm {
    name: String,
    trigger_id: String,
    #[serde(rename = "type")]
    kind: String,
    url: String,
    dispatch_mode: String,
    auth_type: String,
    user_name: String,
    password: String,
    bearer_token: String,
    aws_account: String,
    aws_region: String,
    response_deadline: String,
    filter: String,
    enabled: String,
    action: String,
}

impl SubForm {
    /// The form showing a subscription as the API answered it.
    fn from_wire(v: &Value) -> Self {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let h = &v["httpConfig"];
        let e = &v["eventBridgeConfig"];
        Self {
            name: s(&v["name"]),
            trigger_id: s(&v["triggerId"]),
            kind: s(&v["type"]),
            url: s(&h["url"]),
            dispatch_mode: s(&h["httpDispatchMode"]),
            auth_type: s(&h["httpAuthenticationType"]),
            user_name: s(&h["basicAuthConfig"]["userName"]),
            aws_account: s(&e["awsAccount"]),
            aws_region: s(&e["awsRegion"]),
            response_deadline: s(&v["responseDeadline"]),
            filter: s(&v["filter"]),
            enabled: if v["enabled"] == true {
                "true".into()
            } else {
                String::new()
            },
            ..Self::default()
        }
    }

    fn text(s: &str) -> Value {
        match s.trim() {
            "" => Value::Null,
            t => Value::String(t.to_string()),
        }
    }

    /// The document the API receives: `null` for what the form leaves empty.
    fn doc(&self) -> Value {
        let http = self.kind != "EVENTBRIDGE";
        let auth = match self.auth_type.as_str() {
            "" => "NO_AUTH",
            a => a,
        };
        let http_config = http.then(|| {
            json!({
                "url": Self::text(&self.url),
                "httpDispatchMode": Self::text(&self.dispatch_mode),
                "httpAuthenticationType": auth,
                "basicAuthConfig": (auth == "BASIC_AUTH").then(|| json!({
                    "userName": Self::text(&self.user_name),
                    "password": Self::text(&self.password),
                })),
                "bearerTokenAuthConfig": (auth == "BEARER_TOKEN").then(|| json!({
                    "bearerToken": Self::text(&self.bearer_token),
                })),
            })
        });
        let eb = (!http).then(|| {
            json!({
                "awsAccount": Self::text(&self.aws_account),
                "awsRegion": Self::text(&self.aws_region),
            })
        });
        json!({
            "name": Self::text(&self.name),
            "type": Self::text(&self.kind),
            "enabled": !self.enabled.is_empty(),
            "responseDeadline": Self::text(&self.response_deadline),
            "filter": Self::text(&self.filter),
            "httpConfig": http_config,
            "eventBridgeConfig": eb,
        })
    }

    /// A create body: the document without its empty members, plus the trigger.
    fn create_body(&self) -> Value {
        let mut doc = without_nulls(self.doc());
        doc["triggerId"] = Value::String(self.trigger_id.trim().to_string());
        doc
    }

    fn groups(&self, triggers: Option<Vec<(String, String)>>) -> Vec<Group> {
        let trigger = match triggers {
            Some(options) => Field::text("triggerId", "Trigger", &self.trigger_id)
                .choices(options)
                .hint("The event this subscription receives (see the trigger catalog)."),
            None => Field::text("triggerId", "Trigger", &self.trigger_id)
                .kind("readonly")
                .hint("A subscription's trigger cannot be changed."),
        };
        vec![
            Group {
                legend: "Subscription",
                fields: vec![
                    Field::text("name", "Name", &self.name),
                    trigger,
                    Field::text("type", "Type", &self.kind).select(&[
                        ("HTTP", "HTTP"),
                        ("EVENTBRIDGE", "AWS EventBridge"),
                    ]),
                    Field::text("responseDeadline", "Response deadline", &self.response_deadline)
                        .hint("ISO 8601 duration, e.g. PT1H (request-response triggers). Empty: the default."),
                    Field::text("filter", "Filter", &self.filter)
                        .hint("A JSONPath expression the input must match; empty: every event."),
                    Field::checkbox("enabled", "Enabled", !self.enabled.is_empty()),
                ],
            },
            Group {
                legend: "HTTP destination (type HTTP)",
                fields: vec![
                    Field::text("url", "URL", &self.url),
                    Field::text("dispatchMode", "Dispatch mode", &self.dispatch_mode).select(&[
                        ("SYNC", "SYNC"),
                        ("ASYNC", "ASYNC"),
                        ("DYNAMIC", "DYNAMIC"),
                    ]),
                    Field::text("authType", "Authentication", &self.auth_type).select(&[
                        ("NO_AUTH", "none"),
                        ("BASIC_AUTH", "basic"),
                        ("BEARER_TOKEN", "bearer token"),
                    ]),
                    Field::text("userName", "Basic auth user name", &self.user_name),
                    Field::text("password", "Basic auth password", "")
                        .kind("password")
                        .hint("Left empty on an edit: the stored password is kept."),
                    Field::text("bearerToken", "Bearer token", "")
                        .kind("password")
                        .hint("Left empty on an edit: the stored token is kept."),
                ],
            },
            Group {
                legend: "EventBridge destination (type EVENTBRIDGE)",
                fields: vec![
                    Field::text("awsAccount", "AWS account", &self.aws_account),
                    Field::text("awsRegion", "AWS region", &self.aws_region),
                ],
            },
        ]
    }
}

/// `v` with `null` members dropped, recursively (a create sends only what was entered).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

/// The part of a subscription the form edits, as the API answered it.
fn editable(wire: &Value) -> Value {
    let keys = [
        "name",
        "type",
        "enabled",
        "responseDeadline",
        "filter",
        "httpConfig",
        "eventBridgeConfig",
    ];
    Value::Object(
        keys.iter()
            .map(|k| (k.to_string(), wire[*k].clone()))
            .collect(),
    )
}

/// The patch an edit sends: the form against the stored subscription. Secrets left empty and
/// an empty deadline keep what is stored.
fn edit_patch(wire: &Value, form: &SubForm) -> Vec<Value> {
    let old = editable(wire);
    let mut new = form.doc();
    if new["responseDeadline"].is_null() {
        new["responseDeadline"] = old["responseDeadline"].clone();
    }
    for (cfg, key) in [
        ("basicAuthConfig", "password"),
        ("bearerTokenAuthConfig", "bearerToken"),
    ] {
        // (`get_mut`, not indexing: indexing a `null` would turn it into an object.)
        let slot = new
            .get_mut("httpConfig")
            .and_then(|h| h.get_mut(cfg))
            .and_then(Value::as_object_mut);
        if let Some(m) = slot {
            if m.get(key).is_none_or(Value::is_null) {
                m.remove(key);
            }
        }
    }
    diff(&old, &new)
}

async fn trigger_options(c: &Console, session: &Session) -> Vec<(String, String)> {
    let answer = c.get(session, "/beta/triggers?limit=250").await;
    answer
        .body
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    let id = t["id"].as_str()?;
                    let name = t["name"].as_str().unwrap_or(id);
                    Some((id.to_string(), format!("{id} — {name}")))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn form_page(
    session: &Session,
    title: String,
    action: String,
    groups: Vec<Group>,
    buttons: Vec<Button>,
) -> FormPage {
    FormPage {
        chrome: Chrome::new(session, "routes", None),
        title,
        intro: String::new(),
        action,
        groups,
        error: None,
        preview: None,
        buttons,
        back: "/console/routes".into(),
        side_forms: Vec::new(),
    }
}

fn create_page(session: &Session, form: &SubForm, triggers: Vec<(String, String)>) -> FormPage {
    form_page(
        session,
        "New SailPoint subscription".into(),
        "/console/routes/subscriptions".into(),
        form.groups(Some(triggers)),
        vec![Button {
            value: "create",
            label: "Create subscription",
        }],
    )
}

fn edit_page(session: &Session, id: &str, form: &SubForm) -> FormPage {
    let mut page = form_page(
        session,
        format!("Edit subscription {}", form.name),
        format!("/console/routes/subscriptions/{}", segment(id)),
        form.groups(None),
        vec![
            Button {
                value: "preview",
                label: "Preview changes",
            },
            Button {
                value: "save",
                label: "Save changes",
            },
        ],
    );
    page.intro = format!(
        "Subscription {id}. Saving sends the JSON Patch shown by \"Preview changes\" to PATCH {API}/{id}."
    );
    page
}

/// `GET /console/routes/subscriptions/new`.
pub(super) async fn new_form(State(c): State<Console>, session: Session) -> Response {
    let triggers = trigger_options(&c, &session).await;
    let form = SubForm {
        kind: "HTTP".into(),
        dispatch_mode: "SYNC".into(),
        auth_type: "NO_AUTH".into(),
        enabled: "true".into(),
        ..SubForm::default()
    };
    page::html(StatusCode::OK, &create_page(&session, &form, triggers))
}

/// `POST /console/routes/subscriptions`: creates it, or shows the form with the API's message.
pub(super) async fn create(State(c): State<Console>, p: Posted<SubForm>) -> Response {
    let answer = c
        .call(&p.session, Method::POST, API, Some(&p.form.create_body()))
        .await;
    if let Some(out) = bounce(&c, &answer) {
        return out;
    }
    if answer.ok() {
        let id = answer.body["id"].as_str().unwrap_or_default();
        return back(&c, &answer, &format!("Subscription {id} created."));
    }
    let triggers = trigger_options(&c, &p.session).await;
    let mut page = create_page(&p.session, &p.form, triggers);
    page.place_error(&answer.error_text(), &ERRORS);
    page::html(answer.status, &page)
}

/// `GET /console/routes/subscriptions/{id}`: the edit form.
pub(super) async fn edit_form(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
) -> Response {
    let answer = c.get(&session, &format!("{API}/{}", segment(&id))).await;
    if answer.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    if !answer.ok() {
        return page::error_page(answer.status, page::Flash::error(answer.error_text()));
    }
    let form = SubForm::from_wire(&answer.body);
    page::html(StatusCode::OK, &edit_page(&session, &id, &form))
}

/// `POST /console/routes/subscriptions/{id}`: `action=preview` shows the JSON Patch the edit
/// makes; `action=save` sends it.
pub(super) async fn update(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<SubForm>,
) -> Response {
    let path = format!("{API}/{}", segment(&id));
    let current = c.get(&p.session, &path).await;
    if let Some(out) = bounce(&c, &current) {
        return out;
    }
    if !current.ok() {
        return back(&c, &current, "");
    }
    let mut form = p.form;
    form.trigger_id = current.body["triggerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ops = edit_patch(&current.body, &form);
    let patch = Value::Array(ops);
    let shown = serde_json::to_string_pretty(&patch).unwrap_or_default();
    let mut page = edit_page(&p.session, &id, &form);
    if form.action != "save" {
        let label = if patch.as_array().is_some_and(Vec::is_empty) {
            "No changes: nothing would be sent"
        } else {
            "JSON Patch that Save sends"
        };
        page.preview = Some((label.to_string(), shown));
        return page::html(StatusCode::OK, &page);
    }
    if patch.as_array().is_some_and(Vec::is_empty) {
        return back(
            &c,
            &current,
            &format!("Subscription {id}: nothing changed."),
        );
    }
    let answer = c.patch(&p.session, &path, &patch).await;
    if let Some(out) = bounce(&c, &answer) {
        return out;
    }
    if answer.ok() {
        return back(&c, &answer, &format!("Subscription {id} updated."));
    }
    page.preview = Some(("JSON Patch sent".to_string(), shown));
    page.place_error(&answer.error_text(), &ERRORS);
    page::html(answer.status, &page)
}

/// `POST /console/routes/subscriptions/{id}/delete`.
pub(super) async fn delete(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<super::deliveries::NoFields>,
) -> Response {
    let path = format!("{API}/{}", segment(&id));
    delete_then_back(
        &c,
        &p.session,
        &path,
        &format!("Subscription {id} deleted."),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_patches_what_changed_and_keeps_secrets_left_empty() {
        let wire = json!({"id": "s1", "name": "a", "triggerId": "t", "type": "HTTP",
            "responseDeadline": "PT1H", "enabled": true, "filter": null, "eventBridgeConfig": null,
            "httpConfig": {"url": "http://h/x", "httpDispatchMode": "SYNC",
                "httpAuthenticationType": "BASIC_AUTH", "bearerTokenAuthConfig": null,
                "basicAuthConfig": {"userName": "u", "password": null}}});
        let mut form = SubForm::from_wire(&wire);
        assert!(edit_patch(&wire, &form).is_empty());
        form.name = "b".into();
        form.response_deadline = String::new();
        form.filter = "$[?($.x)]".into();
        assert_eq!(
            edit_patch(&wire, &form),
            vec![
                json!({"op": "add", "path": "/filter", "value": "$[?($.x)]"}),
                json!({"op": "replace", "path": "/name", "value": "b"}),
            ]
        );
        form.password = "pw".into();
        assert!(edit_patch(&wire, &form).contains(
            &json!({"op": "add", "path": "/httpConfig/basicAuthConfig/password", "value": "pw"})
        ));
        form.kind = "EVENTBRIDGE".into();
        form.aws_account = "123456789012".into();
        let ops = edit_patch(&wire, &form);
        assert!(ops.contains(&json!({"op": "remove", "path": "/httpConfig"})));
        assert!(ops.contains(&json!({"op": "replace", "path": "/type", "value": "EVENTBRIDGE"})));
    }

    #[test]
    fn a_create_sends_only_what_was_entered() {
        let form = SubForm {
            name: "n".into(),
            trigger_id: "idn:x".into(),
            kind: "HTTP".into(),
            url: "http://127.0.0.1/h".into(),
            auth_type: "NO_AUTH".into(),
            enabled: "true".into(),
            ..SubForm::default()
        };
        assert_eq!(
            form.create_body(),
            json!({"name": "n", "triggerId": "idn:x", "type": "HTTP", "enabled": true,
                "httpConfig": {"url": "http://127.0.0.1/h", "httpAuthenticationType": "NO_AUTH"}})
        );
    }
}
