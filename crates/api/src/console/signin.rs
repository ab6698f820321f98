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
