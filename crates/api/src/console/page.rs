//! What every console page shares: the frame around it ([`Chrome`]: navigation, who is signed
//! in, the CSRF token forms carry, a message), rendering with the security headers every page
//! gets, and the error page.

use super::session::Session;
use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

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

    /// `ok` and `error` messages carried over a redirect in the query (`?ok=..` / `?error=..`).
    pub fn from_query(ok: Option<&str>, error: Option<&str>) -> Option<Flash> {
        let cut = |s: &str| s.chars().take(500).collect::<String>();
        match (ok, error) {
            (_, Some(e)) if !e.is_empty() => Some(Flash::error(cut(e))),
            (Some(o), _) if !o.is_empty() => Some(Flash::ok(cut(o))),
            _ => None,
        }
    }
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
