//! Signing in (a bearer token, or an OAuth client's id and secret exchanged at the server's own
//! `/oauth/token`) and out.

use super::page::{self, Flash};
use super::session::{same_origin, secure, Posted, Session};
use super::Console;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    flash: Option<Flash>,
    client_id: String,
}

/// `GET /console/sign-in`.
pub(super) async fn form(State(c): State<Console>, headers: HeaderMap) -> Response {
    let now = c.state.clock.now().millis();
    if Session::from_headers(&headers, &c.state.master_key, now).is_some() {
        return Redirect::to("/console").into_response();
    }
    page::html(
        StatusCode::OK,
        &SignInPage {
            flash: None,
            client_id: String::new(),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
}

/// `POST /console/sign-in`: a session cookie and a redirect to the overview, or the form again
/// with the reason.
pub(super) async fn submit(
    State(c): State<Console>,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> Response {
    let refuse = |status, text: String, client_id: &str| {
        page::html(
            status,
            &SignInPage {
                flash: Some(Flash::error(text)),
                client_id: client_id.chars().take(200).collect(),
            },
        )
    };
    // Signing a victim into the attacker's account is a CSRF too.
    if !same_origin(&headers, &c.state.settings.public_url) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this request came from another site".into(),
            "",
        );
    }
    let token = if !f.token.trim().is_empty() {
        f.token.trim().to_string()
    } else if !f.client_id.trim().is_empty() && !f.client_secret.is_empty() {
        let answer = c
            .post_form(
                "/oauth/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", f.client_id.trim()),
                    ("client_secret", &f.client_secret),
                ],
            )
            .await;
        match answer.body["access_token"].as_str() {
            Some(t) if answer.ok() => t.to_string(),
            _ => return refuse(StatusCode::UNAUTHORIZED, answer.error_text(), &f.client_id),
        }
    } else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "enter a token, or a client id and secret".into(),
            &f.client_id,
        );
    };
    if token.len() > 8192 {
        return refuse(StatusCode::BAD_REQUEST, "the token is too long".into(), "");
    }
    let principal = match c.state.auth.verifier.verify(&token) {
        Ok(p) => p,
        Err(e) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                format!("the token was refused: {}", e.0),
                &f.client_id,
            )
        }
    };
    let now = c.state.clock.now().millis();
    let session = Session::new(token, &principal, now);
    (
        [(
            header::SET_COOKIE,
            session.cookie(&c.state.master_key, secure(&c)),
        )],
        Redirect::to("/console"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct Nothing {}

/// `POST /console/sign-out`: forgets the cookie.
pub(super) async fn sign_out(State(c): State<Console>, _: Posted<Nothing>) -> Response {
    (
        [(header::SET_COOKIE, Session::clear_cookie(secure(&c)))],
        Redirect::to("/console/sign-in"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct InstanceForm {
    #[serde(default)]
    instance: String,
}

/// `POST /console/instance`: a `system` token picks the instance its pages look at (kept in the
/// sealed session; every API call then carries `instance.id`). Other tokens are bound to their
/// instance by the API itself, so the console refuses instead of pretending.
pub(super) async fn pick_instance(
    State(c): State<Console>,
    headers: HeaderMap,
    p: Posted<InstanceForm>,
) -> Response {
    let mut session = p.session;
    if !session.is_system() {
        return page::error_page(
            StatusCode::FORBIDDEN,
            Flash::error("only a system token may look at another instance"),
        );
    }
    let wanted = p.form.instance.trim();
    session.viewing = if wanted.is_empty() || wanted == session.instance {
        None
    } else {
        match switchyard_core::InstanceId::parse(wanted) {
            Ok(id) => Some(id.as_str().to_string()),
            Err(e) => {
                return page::error_page(
                    StatusCode::BAD_REQUEST,
                    Flash::error(format!("instance: {}", e.rule)),
                )
            }
        }
    };
    // Back to the page the form was on (same origin was checked), else the overview.
    let to = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/console").map(|i| r[i..].to_string()))
        .filter(|p| p.starts_with("/console") && !p.starts_with("/console/sign-in"))
        .map(|p| p.split('?').next().unwrap_or("/console").to_string())
        .unwrap_or_else(|| "/console".into());
    let cookie = session.cookie(&c.state.master_key, secure(&c));
    ([(header::SET_COOKIE, cookie)], Redirect::to(&to)).into_response()
}
