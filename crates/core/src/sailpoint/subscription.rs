//! Trigger subscriptions. [`SubscriptionDoc`] is the wire document (every field optional, so a
//! missing one can be reported by name); [`Subscription::from_doc`] applies every rule and yields
//! a value that can only be valid. Secrets (`password`, `bearerToken`) are write-only: they live
//! in [`Secret`]s, which the API seals with the master key before storage and which never appear
//! in a response.

use super::aws;
use super::jsonpath::JsonPathFilter;
use crate::duration::{format_iso8601, parse_iso8601};
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// Longest accepted subscription name and description (the SDK sets none; these keep rows sane).
pub const MAX_NAME: usize = 255;
pub const MAX_DESCRIPTION: usize = 2000;

/// A fresh Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes.
pub fn new_signing_secret() -> String {
    use base64::Engine;
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(crate::crypto::random_bytes(32))
    )
}

/// A write-only secret. Plaintext while a request is handled, sealed (`v1:…`) at rest; which one
/// is the caller's contract. Never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How a request-response subscriber answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchMode {
    Sync,
    Async,
    Dynamic,
}

impl DispatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "SYNC",
            Self::Async => "ASYNC",
            Self::Dynamic => "DYNAMIC",
        }
    }
}

/// How Switchyard authenticates to an HTTP subscriber.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpAuth {
    NoAuth,
    BasicAuth { user_name: String, password: Secret },
    BearerToken { token: Secret },
}

impl HttpAuth {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::NoAuth => "NO_AUTH",
            Self::BasicAuth { .. } => "BASIC_AUTH",
            Self::BearerToken { .. } => "BEARER_TOKEN",
        }
    }
}

/// Delivery to an HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    url: String,
    pub dispatch_mode: DispatchMode,
    pub auth: HttpAuth,
}

impl HttpConfig {
    /// The subscriber's absolute http(s) URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Delivery to an AWS EventBridge partner event source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBridgeConfig {
    aws_account: String,
    aws_region: String,
}

impl EventBridgeConfig {
    pub fn aws_account(&self) -> &str {
        &self.aws_account
    }

    pub fn aws_region(&self) -> &str {
        &self.aws_region
    }
}

/// Where a subscription delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionTarget {
    Http(HttpConfig),
    EventBridge(EventBridgeConfig),
}

impl SubscriptionTarget {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Http(_) => "HTTP",
            Self::EventBridge(_) => "EVENTBRIDGE",
        }
    }
}

/// How long a request-response invocation may take: PT1S to P7D, default PT1H.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseDeadline(Duration);

impl ResponseDeadline {
    pub const MIN: Duration = Duration::from_secs(1);
    pub const MAX: Duration = Duration::from_secs(7 * 86_400);

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let d = parse_iso8601(s).map_err(|e| ValidationError::new("responseDeadline", e))?;
        if d < Self::MIN || d > Self::MAX {
            return Err(ValidationError::new(
                "responseDeadline",
                format!("'{s}' must be from PT1S to P7D"),
            ));
        }
        Ok(Self(d))
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    pub fn iso8601(self) -> String {
        format_iso8601(self.0)
    }
}

impl Default for ResponseDeadline {
    fn default() -> Self {
        Self(Duration::from_secs(3600))
    }
}

/// `basicAuthConfig` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicAuthDoc {
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// `bearerTokenAuthConfig` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BearerTokenDoc {
    #[serde(default)]
    pub bearer_token: Option<String>,
}

/// `httpConfig` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpConfigDoc {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub http_dispatch_mode: Option<String>,
    #[serde(default)]
    pub http_authentication_type: Option<String>,
    #[serde(default)]
    pub basic_auth_config: Option<BasicAuthDoc>,
    #[serde(default)]
    pub bearer_token_auth_config: Option<BearerTokenDoc>,
}

/// `eventBridgeConfig` on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventBridgeDoc {
    #[serde(default)]
    pub aws_account: Option<String>,
    #[serde(default)]
    pub aws_region: Option<String>,
}

/// A subscription as a client sends it (POST, PUT) and as a JSON Patch sees it. `id`, `triggerId`
/// and `triggerName` are accepted so a client can send back what it read; the API checks them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionDoc {
    #[serde(default, skip_serializing)]
    pub id: Option<String>,
    #[serde(default, skip_serializing)]
    pub trigger_id: Option<String>,
    #[serde(default, skip_serializing)]
    pub trigger_name: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub response_deadline: Option<String>,
    #[serde(default)]
    pub http_config: Option<HttpConfigDoc>,
    #[serde(default)]
    pub event_bridge_config: Option<EventBridgeDoc>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub workflow_config: Option<Value>,
}

impl SubscriptionDoc {
    fn auth_type(&self) -> &str {
        self.http_config
            .as_ref()
            .and_then(|h| h.http_authentication_type.as_deref())
            .unwrap_or("NO_AUTH")
    }

    /// Fills secrets the document leaves out from `previous` when the authentication type is
    /// unchanged, so a PUT or PATCH that does not mention a secret keeps it.
    pub fn inherit_secrets(&mut self, previous: &Subscription) {
        let SubscriptionTarget::Http(prev) = &previous.target else {
            return;
        };
        let auth = self.auth_type().to_string();
        let Some(http) = self.http_config.as_mut() else {
            return;
        };
        match (&prev.auth, auth.as_str()) {
            (HttpAuth::BasicAuth { password, .. }, "BASIC_AUTH") => {
                let cfg = http.basic_auth_config.get_or_insert_with(Default::default);
                if cfg.password.is_none() {
                    cfg.password = Some(password.expose().to_string());
                }
            }
            (HttpAuth::BearerToken { token }, "BEARER_TOKEN") => {
                let cfg = http
                    .bearer_token_auth_config
                    .get_or_insert_with(Default::default);
                if cfg.bearer_token.is_none() {
                    cfg.bearer_token = Some(token.expose().to_string());
                }
            }
            _ => {}
        }
    }
}

/// A valid subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub trigger_id: String,
    pub name: String,
    pub description: Option<String>,
    pub target: SubscriptionTarget,
    pub response_deadline: ResponseDeadline,
    pub enabled: bool,
    pub filter: Option<JsonPathFilter>,
}

fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, ValidationError> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(v.as_deref().unwrap_or(s)),
        Some(_) => Err(ValidationError::new(field, "must not be empty")),
        None => Err(ValidationError::new(field, "is required")),
    }
}

/// Accepts absolute `http://` and `https://` URLs with a host.
fn parse_url(url: &str) -> Result<String, ValidationError> {
    let bad = |why: &str| ValidationError::new("httpConfig.url", format!("'{url}' {why}"));
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| bad("must be an absolute http:// or https:// URL"))?;
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("must not contain whitespace"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("has an unterminated IPv6 host"))?;
        (h, after.strip_prefix(':'))
    } else {
        match host_port.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (host_port, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:".contains(c))
    {
        return Err(bad("must name a host"));
    }
    if let Some(p) = port {
        if p.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(bad("has an invalid port"));
        }
    }
    Ok(url.to_string())
}

fn parse_http(doc: &HttpConfigDoc) -> Result<HttpConfig, ValidationError> {
    let url = parse_url(required(&doc.url, "httpConfig.url")?)?;
    let dispatch_mode = match doc.http_dispatch_mode.as_deref().unwrap_or("SYNC") {
        "SYNC" => DispatchMode::Sync,
        "ASYNC" => DispatchMode::Async,
        "DYNAMIC" => DispatchMode::Dynamic,
        other => {
            return Err(ValidationError::new(
                "httpConfig.httpDispatchMode",
                format!("'{other}' must be one of SYNC, ASYNC, DYNAMIC"),
            ))
        }
    };
    let auth = match doc.http_authentication_type.as_deref().unwrap_or("NO_AUTH") {
        "NO_AUTH" => HttpAuth::NoAuth,
        "BASIC_AUTH" => {
            let cfg = doc.basic_auth_config.as_ref().ok_or_else(|| {
                ValidationError::new(
                    "httpConfig.basicAuthConfig",
                    "is required when httpAuthenticationType is BASIC_AUTH",
                )
            })?;
            HttpAuth::BasicAuth {
                user_name: required(&cfg.user_name, "httpConfig.basicAuthConfig.userName")?
                    .to_string(),
                password: Secret::new(required(
                    &cfg.password,
                    "httpConfig.basicAuthConfig.password",
                )?),
            }
        }
        "BEARER_TOKEN" => {
            let cfg = doc.bearer_token_auth_config.as_ref().ok_or_else(|| {
                ValidationError::new(
                    "httpConfig.bearerTokenAuthConfig",
                    "is required when httpAuthenticationType is BEARER_TOKEN",
                )
            })?;
            HttpAuth::BearerToken {
                token: Secret::new(required(
                    &cfg.bearer_token,
                    "httpConfig.bearerTokenAuthConfig.bearerToken",
                )?),
            }
        }
        other => {
            return Err(ValidationError::new(
                "httpConfig.httpAuthenticationType",
                format!("'{other}' must be one of NO_AUTH, BASIC_AUTH, BEARER_TOKEN"),
            ))
        }
    };
    Ok(HttpConfig {
        url,
        dispatch_mode,
        auth,
    })
}

fn parse_event_bridge(doc: &EventBridgeDoc) -> Result<EventBridgeConfig, ValidationError> {
    let account = required(&doc.aws_account, "eventBridgeConfig.awsAccount")?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            "eventBridgeConfig.awsAccount",
            format!("'{account}' must be a 12-digit AWS account number"),
        ));
    }
    let region = required(&doc.aws_region, "eventBridgeConfig.awsRegion")?;
    if !aws::is_region(region) {
        return Err(ValidationError::new(
            "eventBridgeConfig.awsRegion",
            format!("'{region}' is not an AWS region name (e.g. us-east-1)"),
        ));
    }
    Ok(EventBridgeConfig {
        aws_account: account.to_string(),
        aws_region: region.to_string(),
    })
}

impl Subscription {
    /// Applies every rule to `doc`. `id` and `trigger_id` come from the server (path, stored
    /// row); the trigger's existence is the caller's check.
    pub fn from_doc(
        id: &str,
        trigger_id: &str,
        doc: &SubscriptionDoc,
    ) -> Result<Self, ValidationError> {
        let name = required(&doc.name, "name")?;
        if name.chars().count() > MAX_NAME {
            return Err(ValidationError::new(
                "name",
                format!("must be at most {MAX_NAME} characters"),
            ));
        }
        if doc
            .description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(ValidationError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters"),
            ));
        }
        if doc.workflow_config.as_ref().is_some_and(|w| !w.is_null()) {
            return Err(ValidationError::new(
                "workflowConfig",
                "WORKFLOW subscriptions are not supported; use HTTP or EVENTBRIDGE",
            ));
        }
        let target = match required(&doc.kind, "type")? {
            "HTTP" => SubscriptionTarget::Http(parse_http(doc.http_config.as_ref().ok_or_else(
                || ValidationError::new("httpConfig", "is required when type is HTTP"),
            )?)?),
            "EVENTBRIDGE" => SubscriptionTarget::EventBridge(parse_event_bridge(
                doc.event_bridge_config.as_ref().ok_or_else(|| {
                    ValidationError::new(
                        "eventBridgeConfig",
                        "is required when type is EVENTBRIDGE",
                    )
                })?,
            )?),
            t @ ("INLINE" | "SCRIPT" | "WORKFLOW") => {
                return Err(ValidationError::new(
                    "type",
                    format!("'{t}' subscriptions are not supported; use HTTP or EVENTBRIDGE"),
                ))
            }
            other => {
                return Err(ValidationError::new(
                    "type",
                    format!("'{other}' must be HTTP or EVENTBRIDGE"),
                ))
            }
        };
        let response_deadline = match doc.response_deadline.as_deref() {
            None => ResponseDeadline::default(),
            Some(s) => ResponseDeadline::parse(s)?,
        };
        let filter = match doc.filter.as_deref() {
            None => None,
            Some(f) if f.trim().is_empty() => None,
            Some(f) => Some(JsonPathFilter::parse(f)?),
        };
        Ok(Self {
            id: id.to_string(),
            trigger_id: trigger_id.to_string(),
            name: name.to_string(),
            description: doc.description.clone(),
            target,
            response_deadline,
            enabled: doc.enabled.unwrap_or(true),
            filter,
        })
    }

    /// The full document, secrets included (the patch target and the stored form).
    pub fn to_doc(&self) -> SubscriptionDoc {
        let (http_config, event_bridge_config) = match &self.target {
            SubscriptionTarget::Http(h) => {
                let (basic, bearer) = match &h.auth {
                    HttpAuth::NoAuth => (None, None),
                    HttpAuth::BasicAuth {
                        user_name,
                        password,
                    } => (
                        Some(BasicAuthDoc {
                            user_name: Some(user_name.clone()),
                            password: Some(password.expose().to_string()),
                        }),
                        None,
                    ),
                    HttpAuth::BearerToken { token } => (
                        None,
                        Some(BearerTokenDoc {
                            bearer_token: Some(token.expose().to_string()),
                        }),
                    ),
                };
                (
                    Some(HttpConfigDoc {
                        url: Some(h.url.clone()),
                        http_dispatch_mode: Some(h.dispatch_mode.as_str().into()),
                        http_authentication_type: Some(h.auth.type_name().into()),
                        basic_auth_config: basic,
                        bearer_token_auth_config: bearer,
                    }),
                    None,
                )
            }
            SubscriptionTarget::EventBridge(e) => (
                None,
                Some(EventBridgeDoc {
                    aws_account: Some(e.aws_account.clone()),
                    aws_region: Some(e.aws_region.clone()),
                }),
            ),
        };
        SubscriptionDoc {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            kind: Some(self.target.type_name().into()),
            response_deadline: Some(self.response_deadline.iso8601()),
            http_config,
            event_bridge_config,
            enabled: Some(self.enabled),
            filter: self.filter.as_ref().map(|f| f.as_str().to_string()),
            ..Default::default()
        }
    }

    /// Transforms every secret (seal before storing, open after loading).
    pub fn map_secrets<E>(
        mut self,
        mut f: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        if let SubscriptionTarget::Http(h) = &mut self.target {
            match &mut h.auth {
                HttpAuth::NoAuth => {}
                HttpAuth::BasicAuth { password, .. } => *password = Secret(f(&password.0)?),
                HttpAuth::BearerToken { token } => *token = Secret(f(&token.0)?),
            }
        }
        Ok(self)
    }

    /// SailPoint's response shape: secrets are always `null`.
    pub fn to_wire(&self, trigger_name: &str) -> Value {
        let (http, eb) = match &self.target {
            SubscriptionTarget::Http(h) => {
                let mut cfg = json!({
                    "url": h.url,
                    "httpDispatchMode": h.dispatch_mode.as_str(),
                    "httpAuthenticationType": h.auth.type_name(),
                    "basicAuthConfig": null,
                    "bearerTokenAuthConfig": null,
                });
                match &h.auth {
                    HttpAuth::NoAuth => {}
                    HttpAuth::BasicAuth { user_name, .. } => {
                        cfg["basicAuthConfig"] = json!({"userName": user_name, "password": null});
                    }
                    HttpAuth::BearerToken { .. } => {
                        cfg["bearerTokenAuthConfig"] = json!({"bearerToken": null});
                    }
                }
                (cfg, Value::Null)
            }
            SubscriptionTarget::EventBridge(e) => (
                Value::Null,
                json!({"awsAccount": e.aws_account, "awsRegion": e.aws_region}),
            ),
        };
        json!({
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "triggerId": self.trigger_id,
            "triggerName": trigger_name,
            "type": self.target.type_name(),
            "responseDeadline": self.response_deadline.iso8601(),
            "httpConfig": http,
            "eventBridgeConfig": eb,
            "enabled": self.enabled,
            "filter": self.filter.as_ref().map(|f| f.as_str()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> SubscriptionDoc {
        serde_json::from_value(v).unwrap()
    }

    fn err(v: Value) -> ValidationError {
        Subscription::from_doc("s1", "idn:identity-created", &doc(v)).unwrap_err()
    }

    #[test]
    fn minimal_http_subscription_gets_defaults() {
        let s = Subscription::from_doc(
            "s1",
            "idn:identity-created",
            &doc(json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://example.com/hook"}})),
        )
        .unwrap();
        assert!(s.enabled);
        assert_eq!(s.response_deadline.iso8601(), "PT1H");
        let SubscriptionTarget::Http(h) = &s.target else {
            panic!()
        };
        assert_eq!(h.dispatch_mode, DispatchMode::Sync);
        assert_eq!(h.auth, HttpAuth::NoAuth);
        let w = s.to_wire("Identity Created");
        assert_eq!(w["httpConfig"]["httpAuthenticationType"], "NO_AUTH");
        assert_eq!(w["triggerName"], "Identity Created");
    }

    #[test]
    fn rules_name_their_field() {
        let http = json!({"url": "https://x.example"});
        for (v, field) in [
            (json!({"type": "HTTP", "httpConfig": http}), "name"),
            (
                json!({"name": " ", "type": "HTTP", "httpConfig": http}),
                "name",
            ),
            (json!({"name": "n"}), "type"),
            (json!({"name": "n", "type": "FTP"}), "type"),
            (json!({"name": "n", "type": "INLINE"}), "type"),
            (json!({"name": "n", "type": "HTTP"}), "httpConfig"),
            (
                json!({"name": "n", "type": "EVENTBRIDGE"}),
                "eventBridgeConfig",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "ftp://x"}}),
                "httpConfig.url",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "/relative"}}),
                "httpConfig.url",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://"}}),
                "httpConfig.url",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x:99999"}}),
                "httpConfig.url",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpDispatchMode": "LATER"}}),
                "httpConfig.httpDispatchMode",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "OAUTH"}}),
                "httpConfig.httpAuthenticationType",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BASIC_AUTH"}}),
                "httpConfig.basicAuthConfig",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "u"}}}),
                "httpConfig.basicAuthConfig.password",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"password": "p"}}}),
                "httpConfig.basicAuthConfig.userName",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BEARER_TOKEN", "bearerTokenAuthConfig": {"bearerToken": null}}}),
                "httpConfig.bearerTokenAuthConfig.bearerToken",
            ),
            (
                json!({"name": "n", "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "12345678901", "awsRegion": "us-east-1"}}),
                "eventBridgeConfig.awsAccount",
            ),
            (
                json!({"name": "n", "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "mars-1"}}),
                "eventBridgeConfig.awsRegion",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": http, "responseDeadline": "PT0S"}),
                "responseDeadline",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": http, "responseDeadline": "P8D"}),
                "responseDeadline",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": http, "responseDeadline": "1h"}),
                "responseDeadline",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": http, "filter": "$[?("}),
                "filter",
            ),
            (
                json!({"name": "n", "type": "HTTP", "httpConfig": http, "workflowConfig": {}}),
                "workflowConfig",
            ),
            (
                json!({"name": "x".repeat(256), "type": "HTTP", "httpConfig": http}),
                "name",
            ),
        ] {
            assert_eq!(err(v.clone()).field, field, "{v}");
        }
    }

    #[test]
    fn signing_secrets_are_whsec_base64_of_32_bytes() {
        use base64::Engine;
        let s = new_signing_secret();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(s.strip_prefix("whsec_").unwrap())
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert_ne!(s, new_signing_secret());
    }

    #[test]
    fn deadline_bounds_are_inclusive() {
        assert!(ResponseDeadline::parse("PT1S").is_ok());
        assert!(ResponseDeadline::parse("P7D").is_ok());
        assert!(ResponseDeadline::parse("PT0.5S").is_err());
    }

    #[test]
    fn secrets_are_null_on_the_wire_and_inherited() {
        let d = doc(
            json!({"name": "n", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "u", "password": "hunter2"}}}),
        );
        let s = Subscription::from_doc("s", "t", &d).unwrap();
        let w = s.to_wire("T").to_string();
        assert!(!w.contains("hunter2"));
        assert!(w.contains("\"password\":null"));
        let mut put = doc(
            json!({"name": "m", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BASIC_AUTH", "basicAuthConfig": {"userName": "v", "password": null}}}),
        );
        put.inherit_secrets(&s);
        let s2 = Subscription::from_doc("s", "t", &put).unwrap();
        let SubscriptionTarget::Http(h) = &s2.target else {
            panic!()
        };
        assert_eq!(
            h.auth,
            HttpAuth::BasicAuth {
                user_name: "v".into(),
                password: Secret::new("hunter2")
            }
        );
        // A different auth type does not inherit: the bearer token is missing.
        let mut put = doc(
            json!({"name": "m", "type": "HTTP", "httpConfig": {"url": "https://x", "httpAuthenticationType": "BEARER_TOKEN"}}),
        );
        put.inherit_secrets(&s);
        assert_eq!(
            Subscription::from_doc("s", "t", &put).unwrap_err().field,
            "httpConfig.bearerTokenAuthConfig"
        );
    }

    #[test]
    fn doc_round_trip_and_secret_mapping() {
        let d = doc(
            json!({"name": "n", "description": "d", "type": "HTTP", "enabled": false, "filter": "$.a", "responseDeadline": "PT5M", "httpConfig": {"url": "https://x", "httpDispatchMode": "ASYNC", "httpAuthenticationType": "BEARER_TOKEN", "bearerTokenAuthConfig": {"bearerToken": "tok"}}}),
        );
        let s = Subscription::from_doc("s", "t", &d).unwrap();
        assert_eq!(Subscription::from_doc("s", "t", &s.to_doc()).unwrap(), s);
        let sealed = s
            .clone()
            .map_secrets(|x| Ok::<_, ()>(format!("sealed({x})")))
            .unwrap();
        let SubscriptionTarget::Http(h) = &sealed.target else {
            panic!()
        };
        assert_eq!(
            h.auth,
            HttpAuth::BearerToken {
                token: Secret::new("sealed(tok)")
            }
        );
        let eb = doc(
            json!({"name": "n", "type": "EVENTBRIDGE", "eventBridgeConfig": {"awsAccount": "123456789012", "awsRegion": "us-west-1"}}),
        );
        let s = Subscription::from_doc("s", "t", &eb).unwrap();
        assert_eq!(
            s.to_wire("T")["eventBridgeConfig"]["awsRegion"],
            "us-west-1"
        );
        assert!(s.to_wire("T")["httpConfig"].is_null());
    }
}
