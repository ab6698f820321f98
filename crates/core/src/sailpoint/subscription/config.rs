//! The validated parts of a subscription's delivery configuration: write-only secrets, HTTP
//! (URL, dispatch mode, authentication), EventBridge (account, region) and the response deadline,
//! with the parsers that turn wire documents into them.

use super::doc::{EventBridgeDoc, HttpConfigDoc};
use crate::delivery_url::DeliveryUrl;
use crate::duration::{format_iso8601, parse_iso8601};
use crate::sailpoint::aws;
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

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
    url: DeliveryUrl,
    pub dispatch_mode: DispatchMode,
    pub auth: HttpAuth,
}

impl HttpConfig {
    /// The subscriber's absolute http(s) URL, as sent.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The parsed URL outbound protection checks and the client calls.
    pub fn delivery_url(&self) -> &DeliveryUrl {
        &self.url
    }

    /// The URL as answered: a password in it masked.
    pub fn masked_url(&self) -> String {
        self.url.masked()
    }

    /// Transforms the URL's password (a broker login), if it has one.
    pub(super) fn map_url_password<E>(
        &mut self,
        f: impl FnOnce(&str) -> Result<String, E>,
    ) -> Result<(), E> {
        self.url = self.url.map_password(f)?;
        Ok(())
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

/// A required, non-blank string field.
pub(super) fn required<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, ValidationError> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => Ok(v.as_deref().unwrap_or(s)),
        Some(_) => Err(ValidationError::new(field, "must not be empty")),
        None => Err(ValidationError::new(field, "is required")),
    }
}

pub(super) fn parse_http(doc: &HttpConfigDoc) -> Result<HttpConfig, ValidationError> {
    let url = DeliveryUrl::parse("httpConfig.url", required(&doc.url, "httpConfig.url")?)?;
    if url.password().as_deref() == Some("***") {
        return Err(ValidationError::new(
            "httpConfig.url",
            "the password '***' stands for a stored one: send the URL as answered to keep it, or the new password",
        ));
    }
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

pub(super) fn parse_event_bridge(
    doc: &EventBridgeDoc,
) -> Result<EventBridgeConfig, ValidationError> {
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
