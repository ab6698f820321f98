//! What the AWS transports (EventBridge, SQS) share: the environment they read (credentials,
//! endpoint overrides), the credential chain, and one signed JSON-protocol call over a pooled
//! reqwest client. Endpoints follow the SDKs' rules: `AWS_ENDPOINT_URL_<SERVICE>`, then
//! `AWS_ENDPOINT_URL`, then the service's regional endpoint.
//!
//! Signing is the AWS SDK's own SigV4 signer (`aws-sigv4`), used without the SDK's runtime or
//! HTTP stack: the project keeps one HTTP client (reqwest) and one crypto stack (rustls/ring).
//!
//! The client half (`client.rs`: credentials, signing, calls) is compiled with the cargo feature
//! `aws`; the environment snapshot is always there, since configuration builds it.

#[cfg(feature = "aws")]
mod client;
#[cfg(feature = "aws")]
pub mod credentials;
#[cfg(feature = "aws")]
mod profile;
#[cfg(feature = "aws")]
mod sts;

#[cfg(feature = "aws")]
pub use client::{attempt, error_text, Answer, Aws, Operation};
use std::collections::HashMap;

/// A snapshot of the environment variables the AWS transports read (injected in tests).
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    /// The process environment's `AWS_*` variables and `HOME`.
    pub fn from_process() -> Self {
        Self(
            std::env::vars()
                .filter(|(k, _)| k.starts_with("AWS_") || k == "HOME")
                .collect(),
        )
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    /// A non-empty variable.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// The default region (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    pub fn region(&self) -> Option<String> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }

    /// The endpoint of `service` (`EVENTBRIDGE`, `SQS`, `STS`) in `region`: the service's
    /// override, the global override, or `https://{prefix}.{region}.amazonaws.com`.
    pub fn endpoint(&self, service: &str, prefix: &str, region: Option<&str>) -> String {
        if let Some(url) = self
            .get(&format!("AWS_ENDPOINT_URL_{service}"))
            .or_else(|| self.get("AWS_ENDPOINT_URL"))
        {
            return url;
        }
        match region {
            Some(r) => format!("https://{prefix}.{r}.amazonaws.com"),
            None => format!("https://{prefix}.amazonaws.com"),
        }
    }
}

pub use switchyard_core::delivery_url::valid_aws_region as valid_region;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_override_rules() {
        let env = Env::from_pairs([("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")]);
        assert_eq!(
            env.endpoint("EVENTBRIDGE", "events", Some("eu-west-1")),
            "http://127.0.0.1:5000"
        );
        let env = Env::from_pairs([
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
            ("AWS_ENDPOINT_URL_EVENTBRIDGE", "http://127.0.0.1:6000"),
        ]);
        assert_eq!(
            env.endpoint("EVENTBRIDGE", "events", Some("eu-west-1")),
            "http://127.0.0.1:6000"
        );
        assert_eq!(
            Env::default().endpoint("EVENTBRIDGE", "events", Some("eu-west-1")),
            "https://events.eu-west-1.amazonaws.com"
        );
        assert!(valid_region("us-gov-west-1"));
        assert!(!valid_region("evil.com/x"));
        assert!(!valid_region(""));
    }
}
