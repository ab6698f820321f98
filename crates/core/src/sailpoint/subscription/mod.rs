//! Trigger subscriptions. [`SubscriptionDoc`] is the wire document (every field optional, so a
//! missing one can be reported by name); [`Subscription::from_doc`] applies every rule and yields
//! a value that can only be valid. Secrets (`password`, `bearerToken`) are write-only: they live
//! in [`Secret`]s, which the API seals with the master key before storage and which never appear
//! in a response.

mod config;
mod doc;

pub use config::{DispatchMode, EventBridgeConfig, HttpAuth, HttpConfig, ResponseDeadline, Secret};
pub use doc::{BasicAuthDoc, BearerTokenDoc, EventBridgeDoc, HttpConfigDoc, SubscriptionDoc};

use super::jsonpath::JsonPathFilter;
use crate::text;
use crate::ValidationError;
use config::{parse_event_bridge, parse_http, required};
use serde_json::{json, Value};

/// Longest accepted subscription name and description (the SDK sets none; these keep rows sane).
pub const MAX_NAME: usize = 255;
pub const MAX_DESCRIPTION: usize = 2000;
/// Longest password or bearer token, in characters.
pub const MAX_SECRET: usize = 4096;

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

impl Subscription {
    /// Applies every rule to `doc`. `id` and `trigger_id` come from the server (path, stored
    /// row); the trigger's existence is the caller's check.
    pub fn from_doc(
        id: &str,
        trigger_id: &str,
        doc: &SubscriptionDoc,
    ) -> Result<Self, ValidationError> {
        let name = required(&doc.name, "name")?;
        text::check_name("name", name, MAX_NAME)?;
        if let Some(d) = &doc.description {
            text::check_description("description", d, MAX_DESCRIPTION)?;
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
                        url: Some(h.url().to_string()),
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
                    aws_account: Some(e.aws_account().to_string()),
                    aws_region: Some(e.aws_region().to_string()),
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

    /// Checks the plaintext secrets (before they are sealed): bounded, no control characters
    /// (they end up in an `Authorization` header).
    pub fn check_secrets(&self) -> Result<(), ValidationError> {
        if let SubscriptionTarget::Http(h) = &self.target {
            match &h.auth {
                HttpAuth::NoAuth => {}
                HttpAuth::BasicAuth {
                    user_name,
                    password,
                } => {
                    text::check_name("httpConfig.basicAuthConfig.userName", user_name, MAX_NAME)?;
                    text::check_name(
                        "httpConfig.basicAuthConfig.password",
                        password.expose(),
                        MAX_SECRET,
                    )?;
                }
                HttpAuth::BearerToken { token } => text::check_name(
                    "httpConfig.bearerTokenAuthConfig.bearerToken",
                    token.expose(),
                    MAX_SECRET,
                )?,
            }
        }
        Ok(())
    }

    /// Transforms every secret (seal before storing, open after loading).
    pub fn map_secrets<E>(
        mut self,
        mut f: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<Self, E> {
        if let SubscriptionTarget::Http(h) = &mut self.target {
            h.map_url_password(&mut f)?;
            match &mut h.auth {
                HttpAuth::NoAuth => {}
                HttpAuth::BasicAuth { password, .. } => {
                    *password = Secret::new(f(password.expose())?)
                }
                HttpAuth::BearerToken { token } => *token = Secret::new(f(token.expose())?),
            }
        }
        Ok(self)
    }

    /// SailPoint's response shape: secrets are always `null`.
    pub fn to_wire(&self, trigger_name: &str) -> Value {
        let (http, eb) = match &self.target {
            SubscriptionTarget::Http(h) => {
                let mut cfg = json!({
                    "url": h.masked_url(),
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
                json!({"awsAccount": e.aws_account(), "awsRegion": e.aws_region()}),
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
