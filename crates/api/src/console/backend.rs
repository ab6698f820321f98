//! The console's way to the data: requests to the API router itself, in process, carrying the
//! session's bearer token. Each page is thereby exactly what the API would answer that token:
//! the same guard (token, revocation, rate limit, scope), the same instance, the same
//! validation messages. Nothing crosses a socket; the cost is one JSON encode and decode.

use super::session::Session;
use super::Console;
use axum::body::{to_bytes, Body};
use axum::http::{header, Method, Request, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

/// The largest API answer a page reads (pages are bounded lists and single records).
const MAX_ANSWER: usize = 16 * 1024 * 1024;

/// An API answer: its status and JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The body as `T`, when the call succeeded and the body has that shape.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        if !self.ok() {
            return Err(self.error_text());
        }
        serde_json::from_value(self.body.clone())
            .map_err(|e| format!("unexpected answer from the API: {e}"))
    }

    /// The error message in whichever dialect's shape the API answered.
    pub fn error_text(&self) -> String {
        let b = &self.body;
        let text = b["message"]
            .as_str()
            .or_else(|| b["causes"][0]["text"].as_str())
            .or_else(|| b["error_description"].as_str())
            .or_else(|| b["error"].as_str())
            .or_else(|| b["messages"][0]["text"].as_str())
            .or_else(|| b.as_str());
        match text {
            Some(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => format!("the API answered {}", self.status),
        }
    }

    /// True when the token no longer works (expired, revoked): the session is over.
    pub fn unauthenticated(&self) -> bool {
        self.status == StatusCode::UNAUTHORIZED
    }
}

impl Console {
    /// Calls the API as `session` (`body` sent as JSON).
    pub async fn call(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Answer {
        self.call_typed(session, method, path, body, "application/json")
            .await
    }

    /// Sends a JSON Patch as `session`.
    pub async fn patch(&self, session: &Session, path: &str, patch: &Value) -> Answer {
        let ct = "application/json-patch+json";
        self.call_typed(session, Method::PATCH, path, Some(patch), ct)
            .await
    }

    async fn call_typed(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        body: Option<&Value>,
        content_type: &str,
    ) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        let path = match &session.viewing {
            Some(instance) => with_query(path, &[("instance.id", instance)]),
            None => path.to_string(),
        };
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", session.token));
        if bytes.is_some() {
            req = req.header(header::CONTENT_TYPE, content_type);
        }
        let req = req.body(Body::from(bytes.unwrap_or_default()));
        self.send(req).await
    }

    /// Sends a form to a public API route (the token endpoint).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(form).unwrap_or_default();
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body));
        self.send(req).await
    }

    pub async fn get(&self, session: &Session, path: &str) -> Answer {
        self.call(session, Method::GET, path, None).await
    }

    async fn send(&self, req: Result<Request<Body>, axum::http::Error>) -> Answer {
        let internal = |what: String| Answer {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            body: Value::String(what),
        };
        let req = match req {
            Ok(r) => r,
            Err(e) => return internal(format!("bad request to the API: {e}")),
        };
        let resp = match self.api.clone().oneshot(req).await {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let status = resp.status();
        match to_bytes(resp.into_body(), MAX_ANSWER).await {
            Ok(b) => Answer {
                status,
                body: serde_json::from_slice(&b)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&b).into_owned())),
            },
            Err(e) => internal(format!("could not read the API's answer: {e}")),
        }
    }
}

/// `path?query` with the non-empty `pairs` as the query.
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (*k, v.trim()))
        .collect();
    if kept.is_empty() {
        return path.to_string();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!(
        "{path}{sep}{}",
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    )
}

/// `s` as one path segment (ids are tenant text).
pub fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_skip_empty_values_and_segments_are_escaped() {
        assert_eq!(with_query("/p", &[("a", ""), ("b", " ")]), "/p");
        assert_eq!(with_query("/p", &[("a", "x y"), ("b", "")]), "/p?a=x+y");
        assert_eq!(with_query("/p?a=1", &[("b", "2")]), "/p?a=1&b=2");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }

    #[test]
    fn error_text_reads_every_dialect() {
        let a = |body| Answer {
            status: StatusCode::BAD_REQUEST,
            body,
        };
        assert_eq!(a(serde_json::json!({"message": "m"})).error_text(), "m");
        assert_eq!(
            a(serde_json::json!({"causes": [{"text": "c"}]})).error_text(),
            "c"
        );
        assert_eq!(
            a(Value::Null).error_text(),
            "the API answered 400 Bad Request"
        );
    }
}
