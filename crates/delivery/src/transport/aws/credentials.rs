//! The standard AWS credential chain, in the SDKs' order: environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); the shared credentials
//! and config files (`AWS_PROFILE`, default `default`; `AWS_SHARED_CREDENTIALS_FILE`,
//! `AWS_CONFIG_FILE`, default `~/.aws/credentials` and `~/.aws/config`), whose profile may hold
//! static keys, a `credential_process` or a `role_arn` to assume (see [`super::profile`]); web
//! identity
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, exchanged with STS
//! `AssumeRoleWithWebIdentity`); the ECS container endpoint
//! (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`); and instance metadata (IMDSv2, unless
//! `AWS_EC2_METADATA_DISABLED=true`). Temporary credentials are cached until five minutes
//! before they expire; one refresh runs at a time and no lock is held across it.
//!
//! These requests go to AWS's own endpoints (or the operator's overrides), never to an address a
//! tenant chose, so they use a plain client rather than the outbound-protected one.

use super::profile::{self, Plan, Source};
use super::sts::{self, parse_time, Temporary};
use super::Env;
use aws_credential_types::Credentials;
use std::future::Future;
use std::pin::Pin;
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
        let found = match profile::plan(&self.env)? {
            Plan::Nothing => self.beyond_profiles().await?,
            plan => Some(self.follow(plan, now).await?),
        };
        match found {
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

    /// The sources after the profile files: web identity, the container, instance metadata.
    async fn beyond_profiles(&self) -> Result<Option<Temporary>, String> {
        if let Some(t) = self.web_identity().await? {
            return Ok(Some(t));
        }
        if let Some(t) = self.container().await? {
            return Ok(Some(t));
        }
        self.instance_metadata().await
    }

    /// The credentials a profile's plan yields (static keys never expire).
    fn follow(
        &self,
        plan: Plan,
        now: Timestamp,
    ) -> Pin<Box<dyn Future<Output = Result<Temporary, String>> + Send + '_>> {
        Box::pin(async move {
            match plan {
                Plan::Nothing => Err("the AWS profile holds no credentials".into()),
                Plan::Static(creds) => Ok((creds, None)),
                Plan::Process(command) => profile::run_process(&command).await,
                Plan::AssumeRole { role, source } => {
                    let (base, _) = match *source {
                        Source::Profile(plan) => self.follow(plan, now).await?,
                        Source::Environment => from_env(&self.env).map(|c| (c, None)).ok_or(
                            "credential_source Environment: AWS_ACCESS_KEY_ID and \
                             AWS_SECRET_ACCESS_KEY are not set",
                        )?,
                        Source::Container => self.container().await?.ok_or(
                            "credential_source EcsContainer: \
                             AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not set",
                        )?,
                        Source::InstanceMetadata => self
                            .instance_metadata()
                            .await?
                            .ok_or("credential_source Ec2InstanceMetadata: no instance role")?,
                    };
                    sts::assume_role(&self.http, &self.env, &base, &role, now).await
                }
            }
        })
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
        sts::with_web_identity(&self.http, &self.env, &role, &session, token.trim())
            .await
            .map(Some)
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
pub(super) fn keys(id: String, secret: String, token: Option<String>) -> Credentials {
    Credentials::new(id, secret, token, None, "switchyard")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_answers() {
        let (c, exp) = json_credentials(
            r#"{"AccessKeyId":"A","SecretAccessKey":"B","Token":"C","Expiration":"2026-11-30T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.session_token(), Some("C"));
        assert_eq!(exp, Some(Timestamp(1_795_996_800_000)));
    }

    #[tokio::test]
    async fn a_credential_process_profile_runs_its_command() {
        let dir = std::env::temp_dir().join(format!("sy-aws-proc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config");
        std::fs::write(
            &config,
            "[profile proc]\ncredential_process = printf '%s' '{\"Version\": 1, \"AccessKeyId\": \"PK\", \"SecretAccessKey\": \"PS\", \"SessionToken\": \"PT\", \"Expiration\": \"2026-11-30T00:00:00Z\"}'\n\
             [profile failing]\ncredential_process = echo nope >&2; exit 3\n",
        )
        .unwrap();
        let chain = |profile: &str| {
            CredentialChain::new(
                Env::from_pairs([
                    ("AWS_CONFIG_FILE", config.to_str().unwrap()),
                    ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
                    ("AWS_PROFILE", profile),
                    ("AWS_EC2_METADATA_DISABLED", "true"),
                ]),
                reqwest::Client::new(),
            )
        };
        let c = chain("proc").get(Timestamp(0)).await.unwrap();
        assert_eq!(
            (c.access_key_id(), c.secret_access_key(), c.session_token()),
            ("PK", "PS", Some("PT"))
        );
        let why = chain("failing").get(Timestamp(0)).await.unwrap_err();
        assert!(why.contains("nope"), "{why}");
        let _ = std::fs::remove_dir_all(&dir);
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
