//! What every console page shares: the frame around it ([`Chrome`]: navigation, who is signed
//! in, the CSRF token forms carry, a message), the message carried over a redirect in a sealed
//! short-lived cookie ([`redirect`], [`Incoming`]), rendering with the security headers every
//! page gets, and the error page.

use super::session::{self, Session};
use super::Console;
use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use switchyard_core::crypto::MasterKey;

/// Pages may load scripts, styles and data from this origin only, and no other site may frame
/// them.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A message shown above a page's content.
#[derive(Debug, Clone)]
pub struct Flash {
    /// `ok` or `error` (the CSS class and the ARIA role follow it).
    pub kind: &'static str,
    pub text: String,
}

impl Flash {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            kind: "ok",
            text: text.into(),
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Self {
            kind: "error",
            text: text.into(),
        }
    }
}

/// The cookie that carries a message over a redirect: sealed with the master key (no one else
/// can write one, so a crafted link cannot put words on a console page), kept out of URLs
/// (history, logs, `Referer`), and short-lived: the next page shows it and clears it.
pub const FLASH_COOKIE: &str = "switchyard_flash";
/// Seconds a flash cookie lives if no page consumes it.
const FLASH_MAX_AGE: u32 = 60;
/// The longest message carried (characters).
const FLASH_MAX_CHARS: usize = 500;

#[derive(Serialize, Deserialize)]
struct SealedFlash {
    error: bool,
    text: String,
}

impl Flash {
    fn cookie_value(&self, key: &MasterKey) -> String {
        let sealed = SealedFlash {
            error: self.kind == "error",
            text: self.text.chars().take(FLASH_MAX_CHARS).collect(),
        };
        key.seal(&serde_json::to_vec(&sealed).unwrap_or_default())
    }

    /// The message the request's flash cookie carries, if this server sealed it.
    pub fn from_cookie(headers: &HeaderMap, key: &MasterKey) -> Option<Flash> {
        let value = session::cookie(headers, FLASH_COOKIE)?;
        if value.len() > 4096 {
            return None;
        }
        let plain = key.open(value).ok()?;
        let f: SealedFlash = serde_json::from_slice(&plain).ok()?;
        Some(if f.error {
            Flash::error(f.text)
        } else {
            Flash::ok(f.text)
        })
    }
}

/// A 303 to `to` whose page shows `flash`.
pub fn redirect(c: &Console, to: &str, flash: Flash) -> Response {
    let cookie = format!(
        "{FLASH_COOKIE}={}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={FLASH_MAX_AGE}{}",
        flash.cookie_value(&c.state.master_key),
        if session::secure(c) { "; Secure" } else { "" }
    );
    ([(header::SET_COOKIE, cookie)], Redirect::to(to)).into_response()
}

/// The message carried to this page, for a handler's [`Chrome`].
pub struct Incoming(pub Option<Flash>);

impl FromRequestParts<Console> for Incoming {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Self::Rejection> {
        Ok(Incoming(Flash::from_cookie(
            &parts.headers,
            &c.state.master_key,
        )))
    }
}

/// Middleware: once a page (anything but a redirect) answers a request that carried a flash
/// cookie, the cookie is cleared, so the message is shown once.
pub async fn clear_shown_flash(State(c): State<Console>, req: Request, next: Next) -> Response {
    let carried = session::cookie(req.headers(), FLASH_COOKIE).is_some();
    let mut resp = next.run(req).await;
    if carried && !resp.status().is_redirection() {
        let clear = format!(
            "{FLASH_COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
            if session::secure(&c) { "; Secure" } else { "" }
        );
        if let Ok(v) = header::HeaderValue::from_str(&clear) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The frame of a signed-in page.
pub struct Chrome {
    /// Which navigation entry is current: `overview`, `deliveries` or `routes`.
    pub active: &'static str,
    pub subject: String,
    pub instance: String,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// A `system` token: the chrome offers to pick the instance.
    pub system: bool,
}

impl Chrome {
    pub fn new(session: &Session, active: &'static str, flash: Option<Flash>) -> Self {
        Self {
            active,
            subject: session.subject.clone(),
            instance: session.shown_instance().to_string(),
            csrf: session.csrf.clone(),
            flash,
            system: session.is_system(),
        }
    }
}

/// A rendered page with the console's security headers.
pub fn html<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CONTENT_SECURITY_POLICY, CSP),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::REFERRER_POLICY, "same-origin"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    status: u16,
    flash: Flash,
}

/// A page that only says what went wrong.
pub fn error_page(status: StatusCode, flash: Flash) -> Response {
    html(
        status,
        &ErrorPage {
            status: status.as_u16(),
            flash,
        },
    )
}
