//! Creating, editing, deleting ZITADEL targets and rotating their signing keys from the Routes
//! page, with the API's v2 REST calls (`/v2/actions/targets`). A rotation sends
//! `expirationSigningKey`; the page then says until when the previous key still signs (the
//! change date the API answers plus the grace period). Each target's circuit breaker, and
//! whether it is switched off (when, why), comes from `GET /v1/targets/{id}/health`; the
//! operator switch is `POST /v1/targets/{id}/disable` / `enable`.

use super::backend::{segment, Answer};
use super::form::{Button, Field, FieldErrors, FormPage, Group, SideForm};
use super::page::{self, Chrome, Flash, Incoming};
use super::routes_page::{back, bounce, delete_then_back};
use super::session::{secure, signed_out, Posted, Session};
use super::Console;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::zitadel::KeyExpiration;
use switchyard_core::Timestamp;

const API: &str = "/v2/actions/targets";

const ERRORS: FieldErrors = FieldErrors(&[
    ("name", "name"),
    ("endpoint", "endpoint"),
    ("timeout", "timeout"),
    ("payloadType", "payloadType"),
    ("restWebhook", "kind"),
    ("restCall", "kind"),
    ("restAsync", "kind"),
    ("expirationSigningKey", "expirationSigningKey"),
]);

/// The target form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TargetForm {
    name: String,
    endpoint: String,
    timeout: String,
    kind: String,
    interrupt_on_error: String,
    payload_type: String,
}

impl TargetForm {
    fn from_wire(t: &Value) -> Self {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let kind = ["restWebhook", "restCall", "restAsync"]
            .into_iter()
            .find(|k| t.get(*k).is_some_and(|v| !v.is_null()))
            .unwrap_or("restWebhook");
        Self {
            name: s(&t["name"]),
            endpoint: s(&t["endpoint"]),
            timeout: s(&t["timeout"]),
            kind: kind.to_string(),
            interrupt_on_error: if t[kind]["interruptOnError"] == true {
                "true".into()
            } else {
                String::new()
            },
            payload_type: s(&t["payloadType"]),
        }
    }

    /// The API's body; `keep_endpoint` leaves the endpoint out (unchanged; the answer masks
    /// broker passwords, so sending it back would store the mask).
    fn body(&self, keep_endpoint: bool) -> Value {
        let interrupt = !self.interrupt_on_error.is_empty();
        let mut b = json!({
            "name": self.name.trim(),
            "timeout": self.timeout.trim(),
            "payloadType": self.payload_type,
        });
        if !keep_endpoint {
            b["endpoint"] = json!(self.endpoint.trim());
        }
        match self.kind.as_str() {
            "restAsync" => b["restAsync"] = json!({}),
            "restCall" => b["restCall"] = json!({"interruptOnError": interrupt}),
            _ => b["restWebhook"] = json!({"interruptOnError": interrupt}),
        }
        b
    }

    fn groups(&self) -> Vec<Group> {
        vec![Group {
            legend: "ZITADEL target",
            fields: vec![
                Field::text("name", "Name", &self.name),
                Field::text("endpoint", "Endpoint", &self.endpoint).hint(
                    "http(s) URL, or a broker URL (nats://, amqp://, redis://, mqtt://, sqs://).",
                ),
                Field::text("timeout", "Timeout", &self.timeout).hint("A duration such as 10s."),
                Field::text("kind", "Type", &self.kind).select(&[
                    ("restWebhook", "restWebhook (response ignored)"),
                    ("restCall", "restCall (response replaces the payload)"),
                    ("restAsync", "restAsync (fire and forget)"),
                ]),
                Field::checkbox(
                    "interruptOnError",
                    "Interrupt on error (restWebhook, restCall)",
                    !self.interrupt_on_error.is_empty(),
                ),
                Field::text("payloadType", "Payload type", &self.payload_type).select(&[
                    ("PAYLOAD_TYPE_JSON", "JSON"),
                    ("PAYLOAD_TYPE_JWT", "JWT (signed)"),
                    ("PAYLOAD_TYPE_JWE", "JWE (encrypted)"),
                ]),
            ],
        }]
    }
}

fn page_for(session: &Session, title: String, action: String, form: &TargetForm) -> FormPage {
    FormPage {
        chrome: Chrome::new(session, "routes", None),
        title,
        intro: String::new(),
        action,
        groups: form.groups(),
        error: None,
        preview: None,
        buttons: vec![Button {
            value: "save",
            label: "Save target",
        }],
        back: "/console/routes".into(),
        side_forms: Vec::new(),
    }
}

fn rotate_form(id: &str, signing_key: &str, value: &str) -> SideForm {
    SideForm {
        title: "Rotate the signing key",
        note: format!(
            "The current signing key ends in …{}. A rotation makes a new key; the previous one \
             keeps signing beside it for the grace period, then stops.",
            signing_key
                .chars()
                .rev()
                .take(6)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        ),
        action: format!("/console/routes/targets/{}/rotate", segment(id)),
        fields: vec![Field::text(
            "expirationSigningKey",
            "Grace period of the previous key",
            value,
        )
        .hint("A duration up to 604800s (7 days), such as 86400s; 0s stops it at once.")],
        button: "Rotate signing key",
    }
}

/// `GET /console/routes/targets/new`.
pub(super) async fn new_form(session: Session) -> Response {
    let form = TargetForm {
        timeout: "10s".into(),
        kind: "restWebhook".into(),
        payload_type: "PAYLOAD_TYPE_JSON".into(),
        ..TargetForm::default()
    };
    let page = page_for(
        &session,
        "New ZITADEL target".into(),
        "/console/routes/targets".into(),
        &form,
    );
    page::html(StatusCode::OK, &page)
}

/// `POST /console/routes/targets`.
pub(super) async fn create(State(c): State<Console>, p: Posted<TargetForm>) -> Response {
    let answer = c
        .call(&p.session, Method::POST, API, Some(&p.form.body(false)))
        .await;
    if let Some(out) = bounce(&c, &answer) {
        return out;
    }
    if answer.ok() {
        let id = answer.body["id"].as_str().unwrap_or_default();
        return back(&c, &answer, &format!("Target {id} created."));
    }
    let mut page = page_for(
        &p.session,
        "New ZITADEL target".into(),
        "/console/routes/targets".into(),
        &p.form,
    );
    page.place_error(&answer.error_text(), &ERRORS);
    page::html(answer.status, &page)
}

async fn load(c: &Console, session: &Session, id: &str) -> Answer {
    c.get(session, &format!("{API}/{}", segment(id))).await
}

fn edit_page(session: &Session, id: &str, target: &Value, form: &TargetForm) -> FormPage {
    let mut page = page_for(
        session,
        format!("Edit target {}", form.name),
        format!("/console/routes/targets/{}", segment(id)),
        form,
    );
    page.intro = format!("Target {id}.");
    page.side_forms.push(rotate_form(
        id,
        target["signingKey"].as_str().unwrap_or_default(),
        "",
    ));
    page
}

/// `GET /console/routes/targets/{id}`.
pub(super) async fn edit_form(
    State(c): State<Console>,
    session: Session,
    Path(id): Path<String>,
    Incoming(incoming): Incoming,
) -> Response {
    let answer = load(&c, &session, &id).await;
    if answer.unauthenticated() {
        return signed_out(&Method::GET, &Default::default(), secure(&c));
    }
    if !answer.ok() {
        return page::error_page(answer.status, Flash::error(answer.error_text()));
    }
    let target = &answer.body["target"];
    let mut page = edit_page(&session, &id, target, &TargetForm::from_wire(target));
    page.chrome.flash = incoming;
    page::html(StatusCode::OK, &page)
}

/// `POST /console/routes/targets/{id}`: the API's update with every field of the form.
pub(super) async fn update(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<TargetForm>,
) -> Response {
    let current = load(&c, &p.session, &id).await;
    if let Some(out) = bounce(&c, &current) {
        return out;
    }
    if !current.ok() {
        return back(&c, &current, "");
    }
    let target = &current.body["target"];
    let keep_endpoint = target["endpoint"].as_str() == Some(p.form.endpoint.trim());
    let path = format!("{API}/{}", segment(&id));
    let answer = c
        .call(
            &p.session,
            Method::POST,
            &path,
            Some(&p.form.body(keep_endpoint)),
        )
        .await;
    if let Some(out) = bounce(&c, &answer) {
        return out;
    }
    if answer.ok() {
        return back(&c, &answer, &format!("Target {id} updated."));
    }
    let mut page = edit_page(&p.session, &id, target, &p.form);
    page.place_error(&answer.error_text(), &ERRORS);
    page::html(answer.status, &page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct RotateForm {
    expiration_signing_key: String,
}

/// When the previous key stops signing: the API's change date plus the grace period.
fn grace_end(change_date: &str, grace: &str) -> Option<String> {
    let at = Timestamp::parse_rfc3339(change_date)?;
    let grace = KeyExpiration::parse(grace).ok()?;
    Some(at.plus_millis(grace.grace_millis()).rfc3339())
}

/// `POST /console/routes/targets/{id}/rotate`: the API's update with only
/// `expirationSigningKey`.
pub(super) async fn rotate(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<RotateForm>,
) -> Response {
    let grace = p.form.expiration_signing_key.trim().to_string();
    let path = format!("{API}/{}", segment(&id));
    let answer = c
        .call(
            &p.session,
            Method::POST,
            &path,
            Some(&json!({"expirationSigningKey": grace})),
        )
        .await;
    if let Some(out) = bounce(&c, &answer) {
        return out;
    }
    let edit = format!("/console/routes/targets/{}", segment(&id));
    if answer.ok() {
        let changed = answer.body["changeDate"].as_str().unwrap_or_default();
        let text = match grace_end(changed, &grace) {
            Some(end) => format!(
                "Signing key rotated at {changed}. The previous key keeps signing for {grace}, \
                 until {end}; after that only the new key signs."
            ),
            None => format!("Signing key rotated at {changed}."),
        };
        return page::redirect(&c, &edit, Flash::ok(text));
    }
    let current = load(&c, &p.session, &id).await;
    if !current.ok() {
        return back(&c, &answer, "");
    }
    let target = &current.body["target"];
    let mut page = edit_page(&p.session, &id, target, &TargetForm::from_wire(target));
    let message = answer.error_text();
    page.side_forms[0] = rotate_form(
        &id,
        target["signingKey"].as_str().unwrap_or_default(),
        &grace,
    );
    page.side_forms[0].fields[0].error = Some(message.clone());
    page.error = Some(format!("Grace period: {message}"));
    page::html(answer.status, &page)
}

/// `POST /console/routes/targets/{id}/delete`.
pub(super) async fn delete(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<super::deliveries::NoFields>,
) -> Response {
    let path = format!("{API}/{}", segment(&id));
    delete_then_back(&c, &p.session, &path, &format!("Target {id} deleted.")).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct SwitchForm {
    enabled: String,
}

/// `POST /console/routes/targets/{id}/enabled`: the API's operator switch
/// (`POST /v1/targets/{id}/enable` or `/disable`).
pub(super) async fn switch(
    State(c): State<Console>,
    Path(id): Path<String>,
    p: Posted<SwitchForm>,
) -> Response {
    let on = p.form.enabled == "true";
    let path = format!(
        "/v1/targets/{}/{}",
        segment(&id),
        if on { "enable" } else { "disable" }
    );
    let answer = c.call(&p.session, Method::POST, &path, None).await;
    let done = format!("Target {id} switched {}.", if on { "on" } else { "off" });
    back(&c, &answer, &done)
}

/// A target's circuit breaker as the Routes page shows it.
pub(super) struct Breaker {
    pub state: String,
    pub failures: u64,
    pub retry_at: String,
    /// When and why the target was switched off, while it is.
    pub disabled: Option<(String, String)>,
}

/// The breaker of each of `ids` (an unreadable one shows the API's message as its state).
pub(super) async fn breakers(c: &Console, session: &Session, ids: &[String]) -> Vec<Breaker> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let a = c
            .get(session, &format!("/v1/targets/{}/health", segment(id)))
            .await;
        out.push(if a.ok() {
            Breaker {
                state: a.body["state"].as_str().unwrap_or("unknown").to_string(),
                failures: a.body["consecutiveFailures"].as_u64().unwrap_or(0),
                retry_at: a.body["retryAt"].as_str().unwrap_or_default().to_string(),
                disabled: a.body["disabled"].as_object().map(|d| {
                    let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (s("at"), s("reason"))
                }),
            }
        } else {
            Breaker {
                state: a.error_text(),
                failures: 0,
                retry_at: String::new(),
                disabled: None,
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grace_period_ends_at_the_change_date_plus_the_expiration() {
        assert_eq!(
            grace_end("2026-11-30T05:00:00Z", "86400s").as_deref(),
            Some("2026-12-01T05:00:00Z")
        );
        assert_eq!(grace_end("nope", "60s"), None);
    }

    #[test]
    fn an_unchanged_masked_endpoint_is_not_sent_back() {
        let t = json!({"name": "t", "endpoint": "nats://u:***@h/s", "timeout": "5s",
            "payloadType": "PAYLOAD_TYPE_JSON", "restCall": {"interruptOnError": true}});
        let f = TargetForm::from_wire(&t);
        assert_eq!(f.kind, "restCall");
        let b = f.body(true);
        assert!(b.get("endpoint").is_none());
        assert_eq!(b["restCall"]["interruptOnError"], true);
    }
}
