//! Console sessions and CSRF protection.
//!
//! The session is one cookie holding the bearer token (and a CSRF token), sealed with the
//! server's master key: encrypted and authenticated, so the browser can neither read nor change
//! it, no session table is kept, and any node sharing the master key accepts it. Signing out
//! clears the cookie; the token inside stays valid until it expires like any other bearer token,
//! so sessions last at most [`LIFETIME_MS`] and never longer than the token (every page is an API
//! call with it, and an expired or revoked token sends the browser back to the sign-in page).
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page sends
//! it), `Path=/console` (the API never sees it: the API takes bearer tokens only) and `Secure`
//! when the public URL is https. Every state-changing request must in addition carry the
//! session's CSRF token (a hidden form field or an `X-CSRF-Token` header, compared in constant
//! time) and, when the browser says where it comes from (`Origin`, `Sec-Fetch-Site`), come from
//! this origin.

use super::page::{self, Flash};
use super::Console;
use crate::auth::Principal;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use switchyard_core::auth::{Scope, Scopes};
use switchyard_core::crypto::{random_token, MasterKey};

/// The session cookie's name.
pub const COOKIE: &str = "switchyard_console";
/// The longest a session lasts (8 hours).
pub const LIFETIME_MS: i64 = 8 * 3600 * 1000;

/// A signed-in operator: the token every page calls the API with, and what it allows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The bearer token.
    pub token: String,
    /// This session's CSRF token.
    pub csrf: String,
    /// The token's subject and instance, for the header line.
    pub subject: String,
    pub instance: String,
    /// The token's scopes (space-separated), to hide what the token cannot do. The API decides.
    pub scopes: String,
    /// When the session ends (Unix milliseconds).
    pub expires_at: i64,
    /// The instance a `system` token's pages look at, when not its own (every API call then
    /// names it with `instance.id`, the API's own selector; other tokens cannot set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewing: Option<String>,
}

impl Session {
    /// A new session for `token`, which `principal` was verified from.
    pub fn new(token: String, principal: &Principal, now_ms: i64) -> Self {
        let scopes = principal.scopes.to_string();
        Self {
            token,
            csrf: random_token(24),
            subject: principal.subject.clone(),
            instance: principal.instance.as_str().to_string(),
            scopes,
            expires_at: now_ms + LIFETIME_MS,
            viewing: None,
        }
    }

    /// Whether the token holds (or implies) `scope`; only used to hide buttons.
    pub fn allows(&self, scope: Scope) -> bool {
        Scopes::from_claim(&self.scopes).allows(scope)
    }

    /// Whether the token is a `system` token (it may look at any instance).
    pub fn is_system(&self) -> bool {
        Scopes::from_claim(&self.scopes).is_system()
    }

    /// The instance the pages show: the one chosen by a system token, else the token's own.
    pub fn shown_instance(&self) -> &str {
        self.viewing.as_deref().unwrap_or(&self.instance)
    }

    /// The `Set-Cookie` value that stores this session.
    pub fn cookie(&self, key: &MasterKey, secure: bool) -> String {
        let sealed = key.seal(&serde_json::to_vec(self).unwrap_or_default());
        format!(
            "{COOKIE}={sealed}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={}{}",
            LIFETIME_MS / 1000,
            if secure { "; Secure" } else { "" }
        )
    }

    /// The `Set-Cookie` value that removes the session.
    pub fn clear_cookie(secure: bool) -> String {
        format!(
            "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
            if secure { "; Secure" } else { "" }
        )
    }

    /// The session in the request's cookie, if it is one this server sealed and it has not
    /// ended.
    pub fn from_headers(headers: &HeaderMap, key: &MasterKey, now_ms: i64) -> Option<Session> {
        let sealed = cookie(headers, COOKIE)?;
        if sealed.len() > 8192 {
            return None;
        }
        let plain = key.open(sealed).ok()?;
        let session: Session = serde_json::from_slice(&plain).ok()?;
        (session.expires_at > now_ms).then_some(session)
    }

    /// True when `offered` is this session's CSRF token.
    fn csrf_matches(&self, offered: &str) -> bool {
        !offered.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(offered.as_bytes()))
    }
}

/// The value of the request's cookie `name`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// Whether the cookie should be `Secure`: the server is reached over https.
pub fn secure(console: &Console) -> bool {
    console.state.settings.public_url.starts_with("https://")
}

/// Pages need a session: without one a page view is sent to the sign-in page (303) and anything
/// else (a form post, an htmx or script request) is refused with 401.
impl FromRequestParts<Console> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, c: &Console) -> Result<Self, Self::Rejection> {
        let now = c.state.clock.now().millis();
        match Session::from_headers(&parts.headers, &c.state.master_key, now) {
            Some(s) => Ok(s),
            None => Err(signed_out(&parts.method, &parts.headers, secure(c))),
        }
    }
}

/// The answer to a request without a (valid) session.
pub fn signed_out(method: &Method, headers: &HeaderMap, secure: bool) -> Response {
    let clear = [(header::SET_COOKIE, Session::clear_cookie(secure))];
    let page_view = (method == Method::GET || method == Method::HEAD)
        && !headers.contains_key("hx-request")
        && !headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.starts_with("application/json"));
    if page_view {
        (clear, Redirect::to("/console/sign-in")).into_response()
    } else {
        let mut resp = (
            StatusCode::UNAUTHORIZED,
            clear,
            "sign in at /console/sign-in first",
        )
            .into_response();
        resp.headers_mut().insert(
            "hx-redirect",
            header::HeaderValue::from_static("/console/sign-in"),
        );
        resp
    }
}

/// True when the browser says the request comes from this origin, or says nothing (a client
/// that is not a browser, which cannot carry a victim's cookie either). `Origin` is compared
/// with the `Host` the request was sent to and with the configured public URL.
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
    };
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let origin = origin.trim_end_matches('/');
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        let host = text(header::HOST.as_str());
        let by_host = matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h));
        return by_host || origin.eq_ignore_ascii_case(public_url.trim_end_matches('/'));
    }
    match text("sec-fetch-site") {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// A state-changing request: a session, a same-origin request, the session's CSRF token and a
/// form body decoded into `T` (unknown fields, such as `csrf`, are ignored). The handler's
/// signature thereby states every precondition.
pub struct Posted<T> {
    pub session: Session,
    pub form: T,
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<Console> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, c: &Console) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, c).await?;
        if !same_origin(&parts.headers, &c.state.settings.public_url) {
            return Err(forbidden("this request came from another site"));
        }
        let req = Request::from_parts(parts, body);
        let header_token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = Bytes::from_request(req, c)
            .await
            .map_err(IntoResponse::into_response)?;
        let offered = match header_token {
            Some(t) => t,
            None => serde_urlencoded::from_bytes::<CsrfField>(&bytes)
                .map(|f| f.csrf)
                .unwrap_or_default(),
        };
        if !session.csrf_matches(&offered) {
            return Err(forbidden(
                "the form's security token is missing or stale; reload the page and try again",
            ));
        }
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            page::error_page(
                StatusCode::BAD_REQUEST,
                Flash::error(format!("bad form: {e}")),
            )
        })?;
        Ok(Posted { session, form })
    }
}

fn forbidden(why: &str) -> Response {
    page::error_page(StatusCode::FORBIDDEN, Flash::error(why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn origin_must_be_this_host_or_the_public_url() {
        let public = "https://hooks.example.com";
        assert!(same_origin(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            public
        ));
        assert!(same_origin(
            &headers(&[("host", "x"), ("origin", "https://hooks.example.com")]),
            public
        ));
        assert!(!same_origin(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example")
            ]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            public
        ));
        assert!(!same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            public
        ));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            public
        ));
        assert!(same_origin(&headers(&[]), public));
    }

    #[test]
    fn sealed_sessions_round_trip_and_expire() {
        let key = MasterKey::generate();
        let s = Session {
            token: "t".into(),
            csrf: "c".into(),
            subject: "s".into(),
            instance: "default".into(),
            scopes: "admin".into(),
            expires_at: 1_000,
            viewing: None,
        };
        let cookie = s.cookie(&key, false);
        let value = cookie.split(';').next().unwrap().to_string();
        let h = headers(&[("cookie", &format!("other=1; {value}"))]);
        assert_eq!(Session::from_headers(&h, &key, 999).unwrap().token, "t");
        assert!(Session::from_headers(&h, &key, 1_000).is_none());
        assert!(Session::from_headers(&h, &MasterKey::generate(), 0).is_none());
        assert!(s.csrf_matches("c") && !s.csrf_matches("") && !s.csrf_matches("d"));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/console") && !cookie.contains("Secure"));
    }
}
