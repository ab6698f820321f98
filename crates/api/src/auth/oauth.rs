//! The token endpoints. `POST /oauth/token` is the OAuth 2.0 client-credentials grant (RFC 6749
//! §4.4), which is how the SailPoint SDK obtains its token: the client authenticates with
//! `client_id`/`client_secret` in the form body or with HTTP Basic. `POST /oauth/v2/token` is
//! ZITADEL's path, which the `zitadel-client` SDK finds through the OpenID configuration: the same
//! grant (OpenID and ZITADEL scopes such as `openid` or `urn:zitadel:...` are accepted and
//! ignored) and the JWT profile grant (RFC 7523, `urn:ietf:params:oauth:grant-type:jwt-bearer`)
//! with an assertion signed by a client's key file (see `jwt_profile`). Either way the answer is
//! a short-lived HS256 JWT carrying the client's instance and scopes, valid on every dialect's
//! API. Errors use OAuth's own shape `{error, error_description}`.

use super::jwt::{mint, Claims};
use super::jwt_profile;
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
use switchyard_store::ApiClient;
use utoipa::ToSchema;

/// The JWT profile grant type (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

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
    pub(super) fn request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", 400, description)
    }

    pub(super) fn new(error: &'static str, status: u16, description: impl Into<String>) -> Self {
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
    let (headers, form) = read_form(req).await?;
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
    let client = client_credentials(&state, &headers, &form).await?;
    let scopes = granted_scopes(&client, form.get("scope")?, false)?;
    Ok(issue(&state, client, scopes))
}

/// ZITADEL's token endpoint: client credentials or the JWT profile grant.
#[utoipa::path(post, path = "/oauth/v2/token", tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded",
        description = "grant_type client_credentials (the client's credentials in the body or HTTP Basic) or urn:ietf:params:oauth:grant-type:jwt-bearer with an `assertion` signed by the client's key file; `scope` may name Switchyard scopes (OpenID and ZITADEL scopes are ignored)"),
    responses(
        (status = 200, description = "a bearer token", body = TokenResponse),
        (status = 400, description = "invalid_request, invalid_grant, unsupported_grant_type or invalid_scope", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
        (status = 503, description = "server_error: the client store is unavailable", body = OAuthError)))]
pub async fn token_v2(State(state): State<AppState>, req: Request) -> Result<Response, OAuthError> {
    let origin = request_origin(req.headers());
    let (headers, form) = read_form(req).await?;
    let client = match form.get("grant_type")? {
        Some("client_credentials") => client_credentials(&state, &headers, &form).await?,
        Some(JWT_BEARER) => {
            let assertion = form
                .get("assertion")?
                .ok_or_else(|| OAuthError::request("assertion is required"))?;
            let audiences = [
                Some(state.settings.public_url.trim_end_matches('/').to_string()),
                origin,
            ];
            let audiences: Vec<&str> = audiences.iter().flatten().map(String::as_str).collect();
            jwt_profile::verify(&state, assertion, &audiences).await?
        }
        Some(other) => {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                400,
                format!(
                    "grant_type '{other}' is not supported; use client_credentials or {JWT_BEARER}"
                ),
            ))
        }
        None => return Err(OAuthError::request("grant_type is required")),
    };
    let scopes = granted_scopes(&client, form.get("scope")?, true)?;
    Ok(issue(&state, client, scopes))
}

/// `http://host` and `https://host` are both plausible for the Host the client called; the
/// scheme the client used is not known behind a proxy, so the one `public_url` names wins.
fn request_origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    Some(format!("http://{host}"))
}

async fn read_form(req: Request) -> Result<(HeaderMap, Form), OAuthError> {
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
    Ok((headers, Form::parse(&body)?))
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "client lookup failed");
    OAuthError::new(
        "server_error",
        503,
        "the token service is unavailable; try again",
    )
}

/// The client whose id and secret the request carries.
async fn client_credentials(
    state: &AppState,
    headers: &HeaderMap,
    form: &Form,
) -> Result<ApiClient, OAuthError> {
    let (id, secret, basic) = credentials(headers, form)?;
    let invalid_client = || OAuthError {
        basic,
        ..OAuthError::new("invalid_client", 401, "unknown client or wrong secret")
    };
    let client = state.store.client(&id).await.map_err(unavailable)?;
    // Compare against a dummy digest for unknown ids so timing does not reveal which ids exist.
    let digest = client
        .as_ref()
        .map(|c| c.secret_hash.clone())
        .unwrap_or_else(|| hash_secret("no such client"));
    let ok = verify_secret(&secret, &digest);
    match client {
        Some(c) if ok => Ok(c),
        _ => Err(invalid_client()),
    }
}

/// Scope values of OpenID Connect and ZITADEL that a ZITADEL client sends by habit; they grant
/// nothing here.
fn is_foreign_scope(s: &str) -> bool {
    matches!(
        s,
        "openid" | "profile" | "email" | "phone" | "address" | "offline_access"
    ) || s.starts_with("urn:zitadel:")
}

/// The scopes the token gets: those requested (a subset of the client's), or all of the
/// client's. `lenient` drops OpenID and ZITADEL scope values first.
fn granted_scopes(
    client: &ApiClient,
    requested: Option<&str>,
    lenient: bool,
) -> Result<Scopes, OAuthError> {
    let requested = requested.map(|r| {
        if lenient {
            r.split_whitespace()
                .filter(|s| !is_foreign_scope(s))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            r.to_string()
        }
    });
    match requested.as_deref() {
        None | Some("") => Ok(client.scopes),
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
            Ok(wanted)
        }
    }
}

/// The token answer for `client` with `scopes`.
fn issue(state: &AppState, client: ApiClient, scopes: Scopes) -> Response {
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
    no_store(Json(body).into_response())
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
