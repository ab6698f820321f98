//! The standard AWS credential chain, in the SDKs' order: environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); the shared credentials
//! and config files (`AWS_PROFILE`, default `default`; `AWS_SHARED_CREDENTIALS_FILE`,
//! `AWS_CONFIG_FILE`, default `~/.aws/credentials` and `~/.aws/config`); web identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, exchanged with STS
//! `AssumeRoleWithWebIdentity`); the ECS container endpoint
//! (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`); and instance metadata (IMDSv2, unless
//! `AWS_EC2_METADATA_DISABLED=true`). Temporary credentials are cached until five minutes
//! before they expire; one refresh runs at a time and no lock is held across it.
//!
//! These requests go to AWS's own endpoints (or the operator's overrides), never to an address a
//! tenant chose, so they use a plain client rather than the outbound-protected one.

use super::Env;
use aws_credential_types::Credentials;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_core::Timestamp;
use tokio::sync::Notify;

/// Credentials and when they stop being usable (`None`: long-term).
#[derive(Debug, Clone)]
struct Cached {
    creds: Credentials,
    refresh_at: Option<Timestamp>,
}

/// Refresh temporary credentials this long before they expire.
const EARLY_MS: i64 = 5 * 60 * 1000;

/// The chain with its cache; cheap to share.
pub struct CredentialChain {
    env: Env,
    http: reqwest::Client,
    cached: RwLock<Option<Cached>>,
    refreshing: AtomicBool,
    refreshed: Notify,
}

impl CredentialChain {
    pub fn new(env: Env, http: reqwest::Client) -> Arc<Self> {
        Arc::new(Self {
            env,
            http,
            cached: RwLock::new(None),
            refreshing: AtomicBool::new(false),
            refreshed: Notify::new(),
        })
    }

    /// Current credentials, resolving or refreshing them when needed.
    pub async fn get(&self, now: Timestamp) -> Result<Credentials, String> {
        loop {
            if let Some(c) = self.fresh(now) {
                return Ok(c);
            }
            let waiter = self.refreshed.notified();
            if self
                .refreshing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                let result = self.resolve(now).await;
                if let Ok(c) = &result {
                    *self.cached.write().unwrap_or_else(|e| e.into_inner()) = Some(c.clone());
                }
                self.refreshing.store(false, Ordering::Release);
                self.refreshed.notify_waiters();
                return result.map(|c| c.creds);
            }
            // Someone else is refreshing: wait for them (bounded), then read again.
            let _ = tokio::time::timeout(Duration::from_secs(10), waiter).await;
            if let Some(c) = self.fresh(now) {
                return Ok(c);
            }
            if self.refreshing.load(Ordering::Acquire) {
                continue;
            }
            return Err("no AWS credentials could be resolved".into());
        }
    }

    fn fresh(&self, now: Timestamp) -> Option<Credentials> {
        let cached = self.cached.read().unwrap_or_else(|e| e.into_inner());
        cached
            .as_ref()
            .filter(|c| c.refresh_at.is_none_or(|t| now < t))
            .map(|c| c.creds.clone())
    }

    async fn resolve(&self, now: Timestamp) -> Result<Cached, String> {
        if let Some(creds) = from_env(&self.env) {
            return Ok(Cached {
                creds,
                refresh_at: None,
            });
        }
        if let Some(creds) = from_profile(&self.env)? {
            return Ok(Cached {
                creds,
                refresh_at: None,
            });
        }
        let temporary = if let Some(t) = self.web_identity().await? {
            Some(t)
        } else if let Some(t) = self.container().await? {
            Some(t)
        } else {
            self.instance_metadata().await?
        };
        match temporary {
            Some((creds, expires)) => Ok(Cached {
                creds,
                refresh_at: expires.map(|e| e.plus_millis(-EARLY_MS).max(now.plus_millis(60_000))),
            }),
            None => Err(
                "no AWS credentials found (environment, shared config files, web \
                         identity, container or instance metadata)"
                    .into(),
            ),
        }
    }

    /// `AssumeRoleWithWebIdentity` with the token file's contents.
    async fn web_identity(&self) -> Result<Option<(Credentials, Option<Timestamp>)>, String> {
        let (Some(token_file), Some(role)) = (
            self.env.get("AWS_WEB_IDENTITY_TOKEN_FILE"),
            self.env.get("AWS_ROLE_ARN"),
        ) else {
            return Ok(None);
        };
        let token = std::fs::read_to_string(&token_file)
            .map_err(|e| format!("cannot read AWS_WEB_IDENTITY_TOKEN_FILE {token_file}: {e}"))?;
        let session = self
            .env
            .get("AWS_ROLE_SESSION_NAME")
            .unwrap_or_else(|| "switchyard".into());
        let region = self.env.region();
        let endpoint = self.env.endpoint("STS", "sts", region.as_deref());
        let form = [
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", role.as_str()),
            ("RoleSessionName", session.as_str()),
            ("WebIdentityToken", token.trim()),
        ];
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .http
            .post(&endpoint)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| format!("STS AssumeRoleWithWebIdentity at {endpoint}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| format!("STS: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "STS AssumeRoleWithWebIdentity answered {status}: {}",
                xml_field(&text, "Message").unwrap_or_default()
            ));
        }
        let field =
            |name: &str| xml_field(&text, name).ok_or_else(|| format!("STS answer without {name}"));
        let creds = keys(
            field("AccessKeyId")?,
            field("SecretAccessKey")?,
            Some(field("SessionToken")?),
        );
        Ok(Some((
            creds,
            xml_field(&text, "Expiration").and_then(|e| parse_time(&e)),
        )))
    }

    /// The ECS/EKS container credentials endpoint.
    async fn container(&self) -> Result<Option<(Credentials, Option<Timestamp>)>, String> {
        let Some(relative) = self.env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") else {
            return Ok(None);
        };
        let url = format!("http://169.254.170.2{relative}");
        let resp = self
            .http
            .get(&url)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| format!("container credentials at {url}: {e}"))?;
        json_credentials(&resp.text().await.map_err(|e| e.to_string())?).map(Some)
    }

    /// IMDSv2: a session token, the role name, then the role's credentials.
    async fn instance_metadata(&self) -> Result<Option<(Credentials, Option<Timestamp>)>, String> {
        if self
            .env
            .get("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            return Ok(None);
        }
        let base = self
            .env
            .get("AWS_EC2_METADATA_SERVICE_ENDPOINT")
            .unwrap_or_else(|| "http://169.254.169.254".into());
        let base = base.trim_end_matches('/');
        let quick = Duration::from_secs(2);
        let Ok(token) = self
            .http
            .put(format!("{base}/latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
            .timeout(quick)
            .send()
            .await
        else {
            // Not on EC2: the chain simply ends here.
            return Ok(None);
        };
        let token = token.text().await.map_err(|e| e.to_string())?;
        let path = format!("{base}/latest/meta-data/iam/security-credentials/");
        let get = |url: String| {
            self.http
                .get(url)
                .header("x-aws-ec2-metadata-token", token.clone())
                .timeout(quick)
                .send()
        };
        let role = get(path.clone())
            .await
            .map_err(|e| format!("instance metadata: {e}"))?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        let role = role.lines().next().unwrap_or("").trim().to_string();
        if role.is_empty() {
            return Ok(None);
        }
        let body = get(format!("{path}{role}"))
            .await
            .map_err(|e| format!("instance metadata: {e}"))?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        json_credentials(&body).map(Some)
    }
}

fn from_env(env: &Env) -> Option<Credentials> {
    Some(keys(
        env.get("AWS_ACCESS_KEY_ID")?,
        env.get("AWS_SECRET_ACCESS_KEY")?,
        env.get("AWS_SESSION_TOKEN"),
    ))
}

/// Credentials as the signer takes them. Expiry is tracked by the chain's cache, not here.
fn keys(id: String, secret: String, token: Option<String>) -> Credentials {
    Credentials::new(id, secret, token, None, "switchyard")
}

/// Static keys of the selected profile, from the credentials file first, then the config file.
fn from_profile(env: &Env) -> Result<Option<Credentials>, String> {
    let profile = env.get("AWS_PROFILE").unwrap_or_else(|| "default".into());
    let home = env.get("HOME").unwrap_or_default();
    let files = [
        (
            env.get("AWS_SHARED_CREDENTIALS_FILE")
                .unwrap_or_else(|| format!("{home}/.aws/credentials")),
            profile.clone(),
        ),
        (
            env.get("AWS_CONFIG_FILE")
                .unwrap_or_else(|| format!("{home}/.aws/config")),
            if profile == "default" {
                profile.clone()
            } else {
                format!("profile {profile}")
            },
        ),
    ];
    for (path, section) in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let pairs = ini_section(&text, &section);
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Ok(Some(keys(id, secret, get("aws_session_token"))));
        }
    }
    Ok(None)
}

/// The `key = value` pairs of `[section]` in an INI text.
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
            continue;
        }
        if inside {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
    }
    out
}

/// Credentials in the container/IMDS JSON shape.
fn json_credentials(body: &str) -> Result<(Credentials, Option<Timestamp>), String> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("credentials answer is not JSON: {e}"))?;
    let field = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("credentials answer without {k}"))
    };
    Ok((
        keys(
            field("AccessKeyId")?,
            field("SecretAccessKey")?,
            field("Token").ok(),
        ),
        field("Expiration").ok().and_then(|e| parse_time(&e)),
    ))
}

/// The text of the first `<name>…</name>` element.
fn xml_field(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

fn parse_time(text: &str) -> Option<Timestamp> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64))
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_from_ini_sections() {
        let text = "[default]\naws_access_key_id = A\n aws_secret_access_key=B\n\n\
                    # comment\n[profile ops]\naws_access_key_id=C\naws_secret_access_key=D\n\
                    aws_session_token=E\n";
        let keys = ini_section(text, "profile ops");
        assert_eq!(
            keys,
            [
                ("aws_access_key_id".into(), "C".into()),
                ("aws_secret_access_key".into(), "D".into()),
                ("aws_session_token".into(), "E".into())
            ]
        );
        assert_eq!(ini_section(text, "default").len(), 2);
        assert!(ini_section(text, "none").is_empty());
    }

    #[test]
    fn sts_and_metadata_answers() {
        let xml = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>\
                   <Credentials><AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey>\
                   <SessionToken>t</SessionToken><Expiration>2026-11-30T00:00:00Z</Expiration>\
                   </Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        assert_eq!(xml_field(xml, "AccessKeyId").as_deref(), Some("ASIA1"));
        assert_eq!(
            parse_time("2026-11-30T00:00:00Z"),
            Some(Timestamp(1_795_996_800_000))
        );
        let (c, exp) = json_credentials(
            r#"{"AccessKeyId":"A","SecretAccessKey":"B","Token":"C","Expiration":"2026-11-30T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.session_token(), Some("C"));
        assert!(exp.is_some());
        assert_eq!(form_encode("a b/c=d"), "a%20b%2Fc%3Dd");
    }

    #[tokio::test]
    async fn environment_first_then_profile_files() {
        let dir = std::env::temp_dir().join(format!("sy-aws-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(
            &file,
            "[ops]\naws_access_key_id=P\naws_secret_access_key=Q\n",
        )
        .unwrap();
        let env = Env::from_pairs([
            ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
            ("AWS_PROFILE", "ops"),
            ("AWS_CONFIG_FILE", "/nonexistent"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]);
        let chain = CredentialChain::new(env, reqwest::Client::new());
        let c = chain.get(Timestamp(0)).await.unwrap();
        assert_eq!((c.access_key_id(), c.session_token()), ("P", None));
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "E1"),
            ("AWS_SECRET_ACCESS_KEY", "E2"),
            ("AWS_SHARED_CREDENTIALS_FILE", file.to_str().unwrap()),
            ("AWS_PROFILE", "ops"),
        ]);
        let chain = CredentialChain::new(env, reqwest::Client::new());
        assert_eq!(chain.get(Timestamp(0)).await.unwrap().access_key_id(), "E1");
        let chain = CredentialChain::new(
            Env::from_pairs([
                ("AWS_CONFIG_FILE", "/nonexistent"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]),
            reqwest::Client::new(),
        );
        assert!(chain.get(Timestamp(0)).await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
