//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4), which is how the
//! SailPoint SDK obtains its token. The client authenticates with `client_id`/`client_secret` in
//! the form body or with HTTP Basic; the answer is a short-lived HS256 JWT carrying the client's
//! instance and scopes. Errors use OAuth's own shape `{error, error_description}`.

use super::jwt::{mint, Claims};
use crate::extract::read_body;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Serialize;
use serde_json::json;
use switchyard_core::auth::Scopes;
use switchyard_core::crypto::{hash_secret, verify_secret};
use utoipa::ToSchema;

/// A token request (RFC 6749 §4.4), form-encoded. Described for the document; the handler
/// parses the form itself so it can refuse repeated parameters.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`.
    grant_type: String,
    /// Or HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
    /// Space-separated scopes, a subset of the client's (default: all of them).
    scope: Option<String>,
}

/// A successful token answer.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    scope: String,
}

/// An OAuth error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    error: &'static str,
    error_description: String,
    #[serde(skip)]
    status: u16,
    #[serde(skip)]
    basic: bool,
}

impl OAuthError {
    fn request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, description)
    }

    fn new(error: &'static str, status: u16, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: description.into(),
            status,
            basic: false,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        tracing::info!(
            error = self.error,
            "token request refused: {}",
            self.error_description
        );
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let basic = self.basic;
        let mut resp = (status, Json(self)).into_response();
        if basic && status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"switchyard\""),
            );
        }
        no_store(resp)
    }
}

/// Exchanges client credentials for an access token.
#[utoipa::path(post, path = "/oauth/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "the client's credentials (or HTTP Basic) and optionally fewer scopes"),
    responses(
        (status = 200, description = "a bearer token", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 503, description = "server_error: the client store is unavailable", body = OAuthError)))]
pub async fn token(State(state): State<AppState>, req: Request) -> Result<Response, OAuthError> {
    let headers = req.headers().clone();
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.split(';').next().unwrap_or("").trim() != "application/x-www-form-urlencoded" {
        return Err(OAuthError::request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let body = read_body(req, &())
        .await
        .map_err(|e| OAuthError::request(e.message))?;
    let form = Form::parse(&body)?;
    match form.get("grant_type")? {
        Some("client_credentials") => {}
        Some(other) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                400,
                format!("grant_type '{other}' is not supported; use client_credentials"),
            ))
        }
        None => return Err(OAuthError::request("grant_type is required")),
    }
    let (id, secret, basic) = credentials(&headers, &form)?;
    let invalid_client = || OAuthError {
        basic,
        ..OAuthError::new("invalid_client", 401, "unknown client or wrong secret")
    };
    let client = state.store.client(&id).await.map_err(|e| {
        tracing::error!(error = %e, "client lookup failed");
        OAuthError::new(
            "server_error",
            503,
            "the token service is unavailable; try again",
        )
    })?;
    // Compare against a dummy digest for unknown ids so timing does not reveal which ids exist.
    let digest = client
        .as_ref()
        .map(|c| c.secret_hash.clone())
        .unwrap_or_else(|| hash_secret("no such client"));
    let ok = verify_secret(&secret, &digest);
    let client = match client {
        Some(c) if ok => c,
        _ => return Err(invalid_client()),
    };
    let scopes = match form.get("scope")? {
        None | Some("") => client.scopes,
        Some(requested) => {
            let wanted = Scopes::parse(requested)
                .map_err(|e| OAuthError::new("invalid_scope", 400, e.rule))?;
            let granted = switchyard_core::auth::Scope::ALL
                .into_iter()
                .filter(|s| wanted.contains(*s))
                .all(|s| client.scopes.contains(s));
            if !granted {
                return Err(OAuthError::new(
                    "invalid_scope",
                    400,
                    format!("the client may only request: {}", client.scopes),
                ));
            }
            wanted
        }
    };
    let now = state.clock.now().unix_seconds();
    let ttl = state.auth.token_ttl.as_secs().max(1);
    let verifier = &state.auth.verifier;
    let claims = Claims {
        sub: Some(client.id.clone()),
        instance: Some(client.instance.as_str().to_string()),
        scope: scopes.to_string(),
        exp: now + ttl as i64,
        iat: Some(now),
        iss: verifier.issuer().map(Into::into),
        aud: verifier.audience().map(|a| json!(a)),
        client_id: Some(client.id),
    };
    let body = TokenResponse {
        access_token: mint(verifier.secret(), &claims),
        token_type: "Bearer",
        expires_in: ttl,
        scope: claims.scope,
    };
    Ok(no_store(Json(body).into_response()))
}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A parsed form body; each parameter may appear at most once (RFC 6749 §3.2).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Result<Form, OAuthError> {
        serde_urlencoded::from_bytes(body)
            .map(Form)
            .map_err(|e| OAuthError::request(format!("malformed form body: {e}")))
    }

    fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v.as_str());
        if found.next().is_some() {
            return Err(OAuthError::request(format!(
                "{name} is given more than once"
            )));
        }
        Ok(first)
    }
}

/// The client's id and secret from HTTP Basic or the body (not both); the flag says Basic.
fn credentials(headers: &HeaderMap, form: &Form) -> Result<(String, String, bool), OAuthError> {
    let body_id = form.get("client_id")?;
    let body_secret = form.get("client_secret")?;
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| OAuthError::request("malformed Authorization header"))?;
            let (scheme, b64) = v
                .split_once(' ')
                .ok_or_else(|| OAuthError::request("malformed Authorization header"))?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::request(
                    "only HTTP Basic client authentication is supported",
                ));
            }
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::request("malformed HTTP Basic credentials"))?;
            let (id, secret) = raw
                .split_once(':')
                .ok_or_else(|| OAuthError::request("malformed HTTP Basic credentials"))?;
            Some((id.to_string(), secret.to_string()))
        }
    };
    match (basic, body_id, body_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::request(
            "use either HTTP Basic or client_secret in the body, not both",
        )),
        (Some((id, secret)), body_id, None) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(OAuthError::request(
                    "client_id in the body differs from HTTP Basic",
                ));
            }
            Ok((id, secret, true))
        }
        (None, Some(id), Some(secret)) => Ok((id.to_string(), secret.to_string(), false)),
        (None, None, _) => Err(OAuthError::request("client_id is required")),
        (None, Some(_), None) => Err(OAuthError::request("client_secret is required")),
    }
}
