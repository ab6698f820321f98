//! How the selected profile of the shared files (`~/.aws/credentials`, `~/.aws/config`; see
//! the chain in `credentials.rs`) gets its credentials, as the AWS SDKs read it:
//! - `role_arn`: a role assumed with STS `AssumeRole`, signed with the credentials of
//!   `source_profile` (resolved the same way, so roles chain) or of `credential_source`
//!   (`Environment`, `EcsContainer`, `Ec2InstanceMetadata`); `role_session_name`,
//!   `external_id` and `duration_seconds` are passed on;
//! - `credential_process`: a command whose JSON output holds the keys;
//! - `aws_access_key_id` / `aws_secret_access_key` (/ `aws_session_token`): static keys.
//!
//! An IAM Identity Center (SSO) profile is an error that says what to use instead, rather than
//! being skipped for other credentials the operator did not mean. The files are the operator's,
//! read at each (rare) refresh; the work is bounded by the depth of a role chain.

use super::credentials::keys;
use super::sts::{parse_time, Temporary};
use super::Env;
use aws_credential_types::Credentials;
use std::time::Duration;

/// Longest chain of `source_profile` hops (a loop ends here too).
const MAX_CHAIN: usize = 5;

/// Where a profile's credentials come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The profile holds none: the chain goes on to its next source.
    Nothing,
    Static(Credentials),
    /// Run this command (`sh -c`) and read its JSON output.
    Process(String),
    /// Assume `role` with the credentials `source` gives.
    AssumeRole {
        role: Role,
        source: Box<Source>,
    },
}

/// The credentials a role is assumed with.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Profile(Plan),
    Environment,
    Container,
    InstanceMetadata,
}

/// An `AssumeRole` call's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
}

/// The plan of the selected profile (`AWS_PROFILE`, default `default`).
pub fn plan(env: &Env) -> Result<Plan, String> {
    let files = Files::read(env);
    let profile = env.get("AWS_PROFILE").unwrap_or_else(|| "default".into());
    plan_of(&files, &profile, 0)
}

fn plan_of(files: &Files, profile: &str, depth: usize) -> Result<Plan, String> {
    if depth > MAX_CHAIN {
        return Err(format!(
            "AWS profile {profile}: source_profile chain longer than {MAX_CHAIN} (or a loop)"
        ));
    }
    let get = |key: &str| files.get(profile, key);
    if get("sso_session").is_some() || get("sso_start_url").is_some() {
        return Err(format!(
            "AWS profile {profile} signs in with IAM Identity Center (SSO), which Switchyard \
             cannot do; give it `credential_process = aws configure export-credentials \
             --profile {profile} --format process` or use another source"
        ));
    }
    if let Some(arn) = get("role_arn") {
        let source = match (get("source_profile"), get("credential_source")) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "AWS profile {profile} names both source_profile and credential_source"
                ))
            }
            // A profile that is its own source uses its static keys.
            (Some(source), None) if source == profile => match static_keys(files, profile) {
                Some(keys) => Source::Profile(Plan::Static(keys)),
                None => {
                    return Err(format!(
                        "AWS profile {profile} is its own source_profile but holds no keys"
                    ))
                }
            },
            (Some(source), None) => match plan_of(files, &source, depth + 1)? {
                Plan::Nothing => {
                    return Err(format!(
                        "AWS profile {profile}: its source_profile {source} has no credentials"
                    ))
                }
                plan => Source::Profile(plan),
            },
            (None, Some(named)) => match named.as_str() {
                "Environment" => Source::Environment,
                "EcsContainer" => Source::Container,
                "Ec2InstanceMetadata" => Source::InstanceMetadata,
                other => {
                    return Err(format!(
                        "AWS profile {profile}: credential_source {other} is not Environment, \
                         EcsContainer or Ec2InstanceMetadata"
                    ))
                }
            },
            (None, None) => {
                return Err(format!(
                    "AWS profile {profile} has role_arn but neither source_profile nor \
                     credential_source"
                ))
            }
        };
        let duration_seconds = match get("duration_seconds") {
            Some(d) => Some(d.parse::<u32>().map_err(|_| {
                format!("AWS profile {profile}: duration_seconds {d} is not a number of seconds")
            })?),
            None => None,
        };
        let role = Role {
            arn,
            session_name: get("role_session_name").unwrap_or_else(|| "switchyard".into()),
            external_id: get("external_id"),
            duration_seconds,
        };
        return Ok(Plan::AssumeRole {
            role,
            source: Box::new(source),
        });
    }
    if let Some(command) = get("credential_process") {
        return Ok(Plan::Process(command));
    }
    Ok(static_keys(files, profile).map_or(Plan::Nothing, Plan::Static))
}

/// Longest a `credential_process` may run.
const PROCESS_TIMEOUT: Duration = Duration::from_secs(60);
/// Most output a `credential_process` may write.
const PROCESS_OUTPUT: usize = 64 * 1024;

/// Runs a `credential_process` command (with `sh -c`, as the SDKs do on Unix) and reads its JSON
/// output: `Version` 1, `AccessKeyId`, `SecretAccessKey`, and optionally `SessionToken` and
/// `Expiration` (without one the keys are kept until the server restarts).
pub async fn run_process(command: &str) -> Result<Temporary, String> {
    let run = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PROCESS_TIMEOUT, run)
        .await
        .map_err(|_| format!("credential_process did not finish within {PROCESS_TIMEOUT:?}"))?
        .map_err(|e| format!("credential_process could not run: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let excerpt: String = stderr.trim().chars().take(300).collect();
        return Err(format!("credential_process {}: {excerpt}", out.status));
    }
    if out.stdout.len() > PROCESS_OUTPUT {
        return Err(format!(
            "credential_process wrote more than {PROCESS_OUTPUT} bytes"
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("credential_process output is not JSON: {e}"))?;
    if v.get("Version").and_then(serde_json::Value::as_u64) != Some(1) {
        return Err("credential_process output is not Version 1".into());
    }
    let field = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let (Some(id), Some(secret)) = (field("AccessKeyId"), field("SecretAccessKey")) else {
        return Err("credential_process output lacks AccessKeyId or SecretAccessKey".into());
    };
    let expires = match field("Expiration") {
        Some(e) => Some(
            parse_time(&e)
                .ok_or_else(|| format!("credential_process Expiration {e} is not RFC 3339"))?,
        ),
        None => None,
    };
    Ok((keys(id, secret, field("SessionToken")), expires))
}

fn static_keys(files: &Files, profile: &str) -> Option<Credentials> {
    let id = files.get(profile, "aws_access_key_id")?;
    let secret = files.get(profile, "aws_secret_access_key")?;
    Some(keys(id, secret, files.get(profile, "aws_session_token")))
}

/// The two files' texts (either may be missing).
struct Files {
    credentials: String,
    config: String,
}

impl Files {
    fn read(env: &Env) -> Self {
        let home = env.get("HOME").unwrap_or_default();
        let read = |var: &str, default: &str| {
            let path = env
                .get(var)
                .unwrap_or_else(|| format!("{home}/.aws/{default}"));
            std::fs::read_to_string(path).unwrap_or_default()
        };
        Files {
            credentials: read("AWS_SHARED_CREDENTIALS_FILE", "credentials"),
            config: read("AWS_CONFIG_FILE", "config"),
        }
    }

    /// `key` of `profile`: the credentials file first, then the config file (where profiles
    /// other than `default` are `[profile NAME]`).
    fn get(&self, profile: &str, key: &str) -> Option<String> {
        let in_config = if profile == "default" {
            profile.to_string()
        } else {
            format!("profile {profile}")
        };
        value(&self.credentials, profile, key).or_else(|| value(&self.config, &in_config, key))
    }
}

/// The value of `key` in `[section]` of an INI text.
fn value(text: &str, section: &str, key: &str) -> Option<String> {
    ini_section(text, section)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// The `key = value` pairs of `[section]` in an INI text.
pub fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(credentials: &str, config: &str) -> Files {
        Files {
            credentials: credentials.into(),
            config: config.into(),
        }
    }

    #[test]
    fn profiles_from_ini_sections() {
        let text = "[default]\naws_access_key_id = A\n aws_secret_access_key=B\n\n\
                    # comment\n[profile ops]\naws_access_key_id=C\naws_secret_access_key=D\n\
                    aws_session_token=E\n";
        assert_eq!(
            ini_section(text, "profile ops"),
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
    fn roles_chain_through_source_profiles() {
        let f = files(
            "[base]\naws_access_key_id=K\naws_secret_access_key=S\n",
            "[profile hooks]\nrole_arn=arn:aws:iam::1:role/hooks\nsource_profile=mid\n\
             external_id=x-1\nduration_seconds=900\n\
             [profile mid]\nrole_arn=arn:aws:iam::1:role/mid\nsource_profile=base\n\
             [profile proc]\ncredential_process=/bin/echo hi\n\
             [profile ec2]\nrole_arn=arn:aws:iam::1:role/ec2\ncredential_source=Ec2InstanceMetadata\n",
        );
        let Plan::AssumeRole { role, source } = plan_of(&f, "hooks", 0).unwrap() else {
            panic!("a role");
        };
        assert_eq!(role.arn, "arn:aws:iam::1:role/hooks");
        assert_eq!(role.external_id.as_deref(), Some("x-1"));
        assert_eq!(role.duration_seconds, Some(900));
        assert_eq!(role.session_name, "switchyard");
        let Source::Profile(Plan::AssumeRole { role, source }) = *source else {
            panic!("the middle role");
        };
        assert_eq!(role.arn, "arn:aws:iam::1:role/mid");
        assert!(
            matches!(*source, Source::Profile(Plan::Static(ref c)) if c.access_key_id() == "K")
        );
        assert_eq!(
            plan_of(&f, "proc", 0).unwrap(),
            Plan::Process("/bin/echo hi".into())
        );
        assert!(matches!(
            plan_of(&f, "ec2", 0).unwrap(),
            Plan::AssumeRole { source, .. } if *source == Source::InstanceMetadata
        ));
        assert_eq!(plan_of(&f, "absent", 0).unwrap(), Plan::Nothing);
    }

    #[test]
    fn unusable_profiles_say_why() {
        let f = files(
            "",
            "[profile loop]\nrole_arn=arn:aws:iam::1:role/a\nsource_profile=loop2\n\
             [profile loop2]\nrole_arn=arn:aws:iam::1:role/b\nsource_profile=loop\n\
             [profile sso]\nsso_session=corp\nsso_account_id=1\n\
             [profile bare]\nrole_arn=arn:aws:iam::1:role/c\n\
             [profile empty]\nrole_arn=arn:aws:iam::1:role/d\nsource_profile=nobody\n",
        );
        let why = |p: &str| plan_of(&f, p, 0).unwrap_err();
        assert!(why("loop").contains("loop"), "{}", why("loop"));
        assert!(why("sso").contains("export-credentials"), "{}", why("sso"));
        assert!(
            why("bare").contains("neither source_profile"),
            "{}",
            why("bare")
        );
        assert!(
            why("empty").contains("has no credentials"),
            "{}",
            why("empty")
        );
    }
}
