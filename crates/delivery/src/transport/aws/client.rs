//! The AWS client: the credential chain, SigV4 signing (the `aws-sigv4` crate) and one signed
//! JSON-protocol call over a pooled reqwest client (built with the cargo feature `aws`).

use super::credentials::CredentialChain;
use super::Env;
use crate::transport::http::describe;
use crate::transport::tls::Trust;
use crate::transport::{Response, SendError};
use aws_credential_types::Credentials;
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard_core::Clock;

/// The shared AWS client: environment, credentials, pooled HTTP.
pub struct Aws {
    pub env: Env,
    http: reqwest::Client,
    credentials: Arc<CredentialChain>,
    clock: Arc<dyn Clock>,
}

/// The attempt one AWS call made (EventBridge, SQS): a timeout, a failure, AWS's refusal
/// (`{service} {call} answered {status}: {error}`), or the acknowledgement `ack` reads from the
/// answer (an error there fails the attempt too). A refusal whose error code is in `permanent`
/// is about the message itself, so no retry can change it.
pub fn attempt(
    service: &str,
    call: &str,
    answer: Result<Answer, String>,
    started: Instant,
    permanent: &[&str],
    ack: impl FnOnce(&[u8]) -> Result<String, String>,
) -> Response {
    match answer {
        Err(e) if e.starts_with("timed out") => {
            Response::failed(SendError::TimedOut(format!("{service}: {e}")), started)
        }
        Err(e) => Response::failed(SendError::Failed(format!("{service}: {e}")), started),
        Ok(a) if !(200..300).contains(&a.status) => {
            let text = format!(
                "{service} {call} answered {}: {}",
                a.status,
                error_text(a.status, &a.body)
            );
            let refusal = match error_code(&a.body) {
                Some(code) if permanent.contains(&code.as_str()) => SendError::Rejected(text),
                _ => SendError::Failed(text),
            };
            Response::failed(refusal, started)
        }
        Ok(a) => match ack(&a.body) {
            Ok(id) => Response::acknowledged(id, started),
            Err(e) => Response::failed(SendError::Failed(e), started),
        },
    }
}

/// One AWS JSON-protocol operation.
pub struct Operation<'a> {
    /// The service endpoint (see [`Env::endpoint`]).
    pub endpoint: &'a str,
    pub region: &'a str,
    /// The signing name (`events`, `sqs`).
    pub service: &'a str,
    /// The `X-Amz-Target` (`AWSEvents.PutEvents`).
    pub target: &'a str,
    /// The protocol's JSON content type (`application/x-amz-json-1.1`).
    pub content_type: &'a str,
}

/// What an AWS JSON call answered.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Aws {
    pub fn new(env: Env, clock: Arc<dyn Clock>, trust: &Trust) -> anyhow::Result<Self> {
        let http = trust
            .http_client(reqwest::Client::builder())?
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("Switchyard/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            credentials: CredentialChain::new(env.clone(), http.clone()),
            env,
            http,
            clock,
        })
    }

    /// One signed JSON-protocol call.
    pub async fn call(
        &self,
        op: &Operation<'_>,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let Operation {
            endpoint,
            region,
            service,
            target,
            content_type,
        } = *op;
        let creds = self.credentials.get(self.clock.now()).await?;
        let url = reqwest::Url::parse(endpoint)
            .map_err(|e| format!("invalid AWS endpoint {endpoint}: {e}"))?;
        let headers = [
            ("content-type", content_type.to_string()),
            ("x-amz-target", target.to_string()),
        ];
        let at = std::time::UNIX_EPOCH + Duration::from_millis(self.clock.now().0.max(0) as u64);
        let signed = sign(&creds, region, service, at, &url, &headers, &body)?;
        let mut req = self.http.post(url).timeout(timeout);
        for (k, v) in headers.iter().chain(&signed) {
            req = req.header(*k, v);
        }
        let resp = req.body(body).send().await.map_err(|e| describe(&e))?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| describe(&e))?.to_vec();
        Ok(Answer { status, body })
    }
}

/// The headers that sign a POST of `body` to `url` with `headers` (`authorization`,
/// `x-amz-date`, and `x-amz-security-token` for temporary credentials). `host` is signed as
/// reqwest will send it (with the port when the URL names one).
pub(super) fn sign(
    creds: &Credentials,
    region: &str,
    service: &str,
    at: std::time::SystemTime,
    url: &reqwest::Url,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Result<Vec<(&'static str, String)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err(format!("invalid AWS endpoint {url}: no host")),
    };
    let identity = creds.clone().into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("cannot sign the AWS request: {e}"))?
        .into();
    let all = headers
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain([("host", host.as_str())]);
    let request = SignableRequest::new("POST", url.as_str(), all, SignableBody::Bytes(body))
        .map_err(|e| format!("cannot sign the AWS request: {e}"))?;
    let (instructions, _) = aws_sigv4::http_request::sign(request, &params)
        .map_err(|e| format!("cannot sign the AWS request: {e}"))?
        .into_parts();
    let (signed, _) = instructions.into_parts();
    Ok(signed
        .into_iter()
        .map(|h| (h.name(), h.value().to_string()))
        .collect())
}

/// The error code and message of an AWS JSON error answer (`__type`, `message`/`Message`).
pub fn error_text(status: u16, body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let code = error_code(body).unwrap_or_else(|| format!("HTTP {status}"));
    let message = v
        .get("message")
        .or_else(|| v.get("Message"))
        .and_then(|m| m.as_str())
        .unwrap_or("");
    if message.is_empty() {
        code
    } else {
        format!("{code}: {message}")
    }
}

/// The error code of an AWS JSON error answer (`__type`, namespace removed).
fn error_code(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let t = v.get("__type")?.as_str()?;
    Some(t.rsplit('#').next().unwrap_or(t).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_json_call_matches_the_reference_signature() {
        // The vector the hand-written signer was checked against (aws-sigv4 1.6, session token).
        let creds = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("TOKEN123".into()),
            None,
            "test",
        );
        let url = reqwest::Url::parse("http://127.0.0.1:5000/").unwrap();
        let headers = [
            ("content-type", "application/x-amz-json-1.1".to_string()),
            ("x-amz-target", "AWSEvents.PutEvents".to_string()),
        ];
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1_795_910_400);
        let signed = sign(
            &creds,
            "us-east-1",
            "events",
            at,
            &url,
            &headers,
            br#"{"Entries":[]}"#,
        )
        .unwrap();
        let get = |name: &str| {
            signed
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-amz-date"), Some("20261129T000000Z"));
        assert_eq!(get("x-amz-security-token"), Some("TOKEN123"));
        assert_eq!(
            get("authorization"),
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261129/us-east-1/events/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
                 Signature=e3079ad9bf89b9a68faa9b862e738c3e732fc0e6ce9ff44e038303bcb50d95c4"
            )
        );
    }

    #[test]
    fn aws_error_answers() {
        assert_eq!(
            error_text(
                400,
                br#"{"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"}"#
            ),
            "ThrottlingException: Rate exceeded"
        );
        assert_eq!(error_text(500, b"oops"), "HTTP 500");
    }

    #[test]
    fn refusals_of_the_message_itself_are_permanent() {
        let refusal = |body: &[u8]| {
            let answer = Ok(Answer {
                status: 400,
                body: body.to_vec(),
            });
            attempt(
                "SQS",
                "SendMessage",
                answer,
                Instant::now(),
                &["InvalidMessageContents"],
                |_| Ok(String::new()),
            )
            .error
        };
        let contents = br#"{"__type":"com.amazonaws.sqs#InvalidMessageContents","message":"bad"}"#;
        assert!(matches!(refusal(contents), Some(SendError::Rejected(m)) if m.contains("bad")));
        let throttled = br#"{"__type":"com.amazonaws#ThrottlingException"}"#;
        assert!(matches!(refusal(throttled), Some(SendError::Failed(_))));
        assert!(matches!(refusal(b"not json"), Some(SendError::Failed(_))));
    }
}
