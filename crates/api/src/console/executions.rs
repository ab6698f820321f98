//! ZITADEL executions on the Routes page: list, set and delete, through the API's v3alpha
//! calls (`PUT /resources/v3alpha/actions/executions`, `.../_search`), the surface whose
//! executions carry both targets and includes. An execution is keyed by its condition, so
//! "edit" is setting the same condition again and "delete" is setting it with no entries.
//!
//! A condition is written as a kind and a value (`request.method` + a gRPC method path,
//! `event.group` + `user.human`, `function` + a function name); entries are one per line: a
//! target id or name, or `include <kind> <value>` for another execution's condition.

use super::backend::{with_query, Answer};
use super::form::{Button, Field, FieldErrors, FormPage, Group};
use super::page::{self, Chrome};
use super::routes_page::back;
use super::session::{secure, signed_out, Posted, Session};
use super::Console;
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

const SET: &str = "/resources/v3alpha/actions/executions";
const SEARCH: &str = "/resources/v3alpha/actions/executions/_search";

/// The condition kinds, as the form offers them.
const KINDS: &[(&str, &str)] = &[
    ("request.method", "request: one method"),
    ("request.service", "request: a whole service"),
    ("request.all", "request: every method"),
    ("response.method", "response: one method"),
    ("response.service", "response: a whole service"),
    ("response.all", "response: every method"),
    ("function", "function"),
    ("event.event", "event: one event type"),
    ("event.group", "event: an event group"),
    ("event.all", "event: every event"),
];

const ERRORS: FieldErrors = FieldErrors(&[
    ("condition", "condition"),
    ("condition.request", "value"),
    ("condition.response", "value"),
    ("condition.function", "value"),
    ("condition.event", "value"),
    ("execution", "entries"),
    // "target 'x' does not exist"
    ("target", "entries"),
    ("include", "entries"),
]);

/// A condition as the API writes it, from a kind and a value.
pub(super) fn condition_json(kind: &str, value: &str) -> Result<Value, String> {
    let v = value.trim();
    Ok(match kind {
        "request.method" => json!({"request": {"method": v}}),
        "request.service" => json!({"request": {"service": v}}),
        "request.all" => json!({"request": {"all": true}}),
        "response.method" => json!({"response": {"method": v}}),
        "response.service" => json!({"response": {"service": v}}),
        "response.all" => json!({"response": {"all": true}}),
        "function" => json!({"function": {"name": v}}),
        "event.event" => json!({"event": {"event": v}}),
        "event.group" => json!({"event": {"group": v}}),
        "event.all" => json!({"event": {"all": true}}),
        other => return Err(format!("'{other}' is not a condition kind")),
    })
}

/// The kind and value of a condition the API answered.
pub(super) fn condition_text(c: &Value) -> (String, String) {
    for side in ["request", "response"] {
        let m = &c[side];
        if m.is_object() {
            if let Some(x) = m["method"].as_str() {
                return (format!("{side}.method"), x.to_string());
            }
            if let Some(x) = m["service"].as_str() {
                return (format!("{side}.service"), x.to_string());
            }
            return (format!("{side}.all"), String::new());
        }
    }
    if let Some(n) = c["function"]["name"].as_str() {
        return ("function".into(), n.to_string());
    }
    let e = &c["event"];
    if let Some(x) = e["event"].as_str() {
        return ("event.event".into(), x.to_string());
    }
    if let Some(x) = e["group"].as_str() {
        return ("event.group".into(), x.to_string());
    }
    ("event.all".into(), String::new())
}

/// An execution row of the Routes page.
pub(super) struct ExecutionRow {
    pub kind: String,
    pub value: String,
    /// One line per entry, as the form writes them.
    pub entries: Vec<String>,
    /// The edit form's address for this condition.
    pub edit_href: String,
}

fn entry_lines(execution: &Value, names: &[(String, String)]) -> Vec<String> {
    execution["execution"]["targets"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| match e["target"].as_str() {
                    Some(id) => names
                        .iter()
                        .find(|(i, _)| i == id)
                        .map(|(_, n)| format!("{id} ({n})"))
                        .unwrap_or_else(|| id.to_string()),
                    None => {
                        let (k, v) = condition_text(&e["include"]);
                        format!("include {k} {v}").trim_end().to_string()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The instance's executions; `names` are (target id, name) to label entries.
pub(super) async fn list(
    c: &Console,
    session: &Session,
    names: &[(String, String)],
) -> Result<Vec<ExecutionRow>, String> {
    let answer = c
        .call(session, Method::POST, SEARCH, Some(&json!([])))
        .await;
    let body = answer.parse::<Value>()?;
    Ok(body["result"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|e| {
                    let (kind, value) = condition_text(&e["condition"]);
                    ExecutionRow {
                        edit_href: with_query(
                            "/console/routes/executions/edit",
                            &[("condition", &kind), ("value", &value)],
                        ),
                        kind,
                        value,
                        entries: entry_lines(e, names),
                    }
                })
                .collect()
        })
        .unwrap_or_default())
}

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ExecutionForm {
    condition: String,
    value: String,
    entries: String,
}

impl ExecutionForm {
    /// `execution.targets` of the API: a target id (or a name of `targets`) per line, or
    /// `include <kind> <value>`.
    fn entries(&self, targets: &[(String, String)]) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        for (i, line) in self.entries.lines().map(str::trim).enumerate() {
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("include ") {
                let rest = rest.trim();
                let (kind, value) = rest.split_once(' ').unwrap_or((rest, ""));
                let c = condition_json(kind, value).map_err(|e| format!("line {}: {e}", i + 1))?;
                out.push(json!({"include": c}));
                continue;
            }
            // "id (name)" as the page lists them, a bare id, or a target's name.
            let word = line.split(" (").next().unwrap_or(line).trim();
            let id = targets
                .iter()
                .find(|(id, name)| id == word || name == line)
                .map(|(id, _)| id.clone())
                .unwrap_or_else(|| word.to_string());
            out.push(json!({"target": id}));
        }
        Ok(out)
    }

    fn groups(&self, targets: &[(String, String)]) -> Vec<Group> {
        let known = targets
            .iter()
            .map(|(id, n)| format!("{n} = {id}"))
            .collect::<Vec<_>>()
            .join("; ");
        vec![Group {
            legend: "Execution",
            fields: vec![
                Field::text("condition", "Condition", &self.condition).select(KINDS),
                Field::text("value", "Condition value", &self.value).hint(
                    "A gRPC method (/zitadel.user.v2.UserService/AddHumanUser), a service, a \
                     function name or an event type / group; empty for the \"every\" kinds.",
                ),
                Field::text("entries", "Targets and includes, in order", &self.entries)
                    .kind("textarea")
                    .hint(format!(
                        "One per line: a target id or name, or \"include <condition> <value>\". \
                         Targets: {}",
                        if known.is_empty() { "none yet" } else { &known }
                    )),
            ],
        }]
    }
}

async fn target_names(c: &Console, session: &Session) -> Vec<(String, String)> {
    let a = c
        .call(
            session,
            Method::POST,
            "/v2/actions/targets/search",
            Some(&json!({})),
        )
        .await;
    a.body["targets"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| Some((t["id"].as_str()?.into(), t["name"].as_str()?.into())))
                .collect()
        })
        .unwrap_or_default()
}

fn form_page(session: &Session, form: &ExecutionForm, targets: &[(String, String)]) -> FormPage {
    FormPage {
        chrome: Chrome::new(session, "routes", None),
        title: "Set a ZITADEL execution".into(),
        intro: "Setting a condition that already has an execution replaces its entries.".into(),
        action: "/console/routes/executions".into(),
        groups: form.groups(targets),
        error: None,
        preview: None,
        buttons: vec![Button {
            value: "save",
            label: "Set execution",
        }],
        back: "/console/routes".into(),
        side_forms: Vec::new(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Which {
    condition: String,
    value: String,
}

/// `GET /console/routes/executions/edit?condition=..&value=..`: the form, filled with the
/// execution of that condition when there is one.
pub(super) async fn form(
    State(c): State<Console>,
    session: Session,
    Query(q): Query<Which>,
) -> Response {
    let targets = target_names(&c, &session).await;
    let mut form = ExecutionForm {
        condition: if q.condition.is_empty() {
            "request.method".into()
        } else {
            q.condition.clone()
        },
        value: q.value.clone(),
        entries: String::new(),
    };
    if let Ok(rows) = list(&c, &session, &targets).await {
        if let Some(r) = rows
            .into_iter()
            .find(|r| r.kind == q.condition && r.value == q.value)
        {
            form.entries = r.entries.join("\n");
        }
    }
    page::html(StatusCode::OK, &form_page(&session, &form, &targets))
}

async fn set(c: &Console, session: &Session, condition: Value, entries: Vec<Value>) -> Answer {
    let body = json!({"condition": condition, "execution": {"targets": entries}});
    c.call(session, Method::PUT, SET, Some(&body)).await
}

/// `POST /console/routes/executions`: sets the execution, or shows the form with the API's
/// message beside the field it names.
pub(super) async fn save(State(c): State<Console>, p: Posted<ExecutionForm>) -> Response {
    let targets = target_names(&c, &p.session).await;
    let mut page = form_page(&p.session, &p.form, &targets);
    let condition = match condition_json(&p.form.condition, &p.form.value) {
        Ok(v) => v,
        Err(e) => {
            page.place_error(&format!("condition: {e}"), &ERRORS);
            return page::html(StatusCode::BAD_REQUEST, &page);
        }
    };
    let entries = match p.form.entries(&targets) {
        Ok(v) => v,
        Err(e) => {
            page.place_error(&format!("execution: {e}"), &ERRORS);
            return page::html(StatusCode::BAD_REQUEST, &page);
        }
    };
    let answer = set(&c, &p.session, condition, entries).await;
    if answer.unauthenticated() {
        return signed_out(&Method::POST, &Default::default(), secure(&c));
    }
    if answer.ok() {
        let what = format!("{} {}", p.form.condition, p.form.value.trim());
        return back(&c, &answer, &format!("Execution {} set.", what.trim()));
    }
    page.place_error(&answer.error_text(), &ERRORS);
    page::html(answer.status, &page)
}

/// `POST /console/routes/executions/delete`: the condition set with no entries.
pub(super) async fn delete(State(c): State<Console>, p: Posted<Which>) -> Response {
    let condition = match condition_json(&p.form.condition, &p.form.value) {
        Ok(v) => v,
        Err(e) => {
            let a = Answer {
                status: StatusCode::BAD_REQUEST,
                body: Value::String(e),
            };
            return back(&c, &a, "");
        }
    };
    let answer = set(&c, &p.session, condition, Vec::new()).await;
    let what = format!("{} {}", p.form.condition, p.form.value.trim());
    back(&c, &answer, &format!("Execution {} deleted.", what.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_round_trip_through_kind_and_value() {
        for (k, v) in [
            ("request.method", "/a.B/C"),
            ("response.service", "a.B"),
            ("request.all", ""),
            ("function", "preuserinfo"),
            ("event.group", "user.human"),
            ("event.all", ""),
        ] {
            let c = condition_json(k, v).unwrap();
            assert_eq!(condition_text(&c), (k.to_string(), v.to_string()));
        }
        assert!(condition_json("nope", "").is_err());
    }

    #[test]
    fn entries_are_targets_by_id_or_name_and_includes_in_order() {
        let f = ExecutionForm {
            entries: "t1 (audit)\n\nbilling\ninclude event.event user.human.added\nzzz".into(),
            ..Default::default()
        };
        let ts = vec![
            ("t1".into(), "audit".into()),
            ("t2".into(), "billing".into()),
        ];
        assert_eq!(
            f.entries(&ts).unwrap(),
            vec![
                json!({"target": "t1"}),
                json!({"target": "t2"}),
                json!({"include": {"event": {"event": "user.human.added"}}}),
                json!({"target": "zzz"}),
            ]
        );
        let bad = ExecutionForm {
            entries: "include nope x".into(),
            ..Default::default()
        };
        assert!(bad.entries(&ts).unwrap_err().starts_with("line 1"));
    }
}
