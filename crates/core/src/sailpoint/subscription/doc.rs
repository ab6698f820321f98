//! The wire documents of a subscription (POST and PUT bodies, the JSON Patch target, the stored
//! form). Every field is optional so validation can name what is missing; unknown fields are
//! rejected.

use super::config::HttpAuth;
use super::{Subscription, SubscriptionTarget};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        // The URL sent back as answered (a broker password masked) is the stored one.
        if http.url.as_deref() == Some(prev.masked_url().as_str()) {
            http.url = Some(prev.url().to_string());
        }
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
