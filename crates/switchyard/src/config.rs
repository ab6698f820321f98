//! Configuration: built-in defaults, then an optional TOML file (`--config` or
//! `SWITCHYARD_CONFIG`, see `switchyard.example.toml` for every key with its default), then
//! `SWITCHYARD_*` environment variables, then command-line flags. Validated before start.

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// Where the SQLite database and the master key live.
    pub data_dir: PathBuf,
    /// Public base URL of this server (for callback URLs); defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    pub limits: Limits,
    /// Waits between delivery tries, e.g. "5s,30s,2m" (`SWITCHYARD_RETRY_SCHEDULE`).
    pub retry_schedule: String,
    pub delivery: Delivery,
    /// Domains bound to instances, for `instance.domain`.
    pub instances: Vec<InstanceBinding>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Delivery {
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a worker holds a claimed delivery; must exceed every request timeout.
    pub lease: String,
    /// How long a subscriber has to answer a delivery.
    pub subscription_timeout: String,
    /// Longest sleep of the queue claimer (fallback poll for expired leases).
    pub poll_interval: String,
    /// Largest group-commit batch.
    pub max_batch: usize,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            concurrency: 256,
            lease: "330s".into(),
            subscription_timeout: "10s".into(),
            poll_interval: "5s".into(),
            max_batch: 512,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceBinding {
    pub id: String,
    pub domain: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("switchyard-data"),
            public_url: None,
            limits: Limits::default(),
            retry_schedule: "5s,30s,2m,10m,30m,1h,3h,6h,12h,24h".into(),
            delivery: Delivery::default(),
            instances: Vec::new(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
        }
    }
}

impl Config {
    /// Defaults ← file ← `SWITCHYARD_*` environment. Nested keys use `__` (`SWITCHYARD_LIMITS__MAX_BODY_BYTES`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                bail!("config file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        // Only variables that name a configuration key are configuration; others with the same
        // prefix (SWITCHYARD_BIN for test scripts, SWITCHYARD_CONFIG) are left alone.
        let known: Vec<String> = match serde_json::to_value(Config::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        };
        fig = fig.merge(
            Env::prefixed("SWITCHYARD_")
                .filter(move |key| {
                    let top = key.as_str().split("__").next().unwrap_or("");
                    known.iter().any(|k| k.eq_ignore_ascii_case(top))
                })
                .split("__"),
        );
        fig.extract().context("invalid configuration")
    }

    /// The delivery engine's settings, parsed.
    pub fn engine(&self) -> anyhow::Result<switchyard_delivery::EngineConfig> {
        let d = &self.delivery;
        let dur = |name: &str, v: &str| {
            switchyard_core::duration::parse_human(v)
                .map_err(|e| anyhow::anyhow!("delivery.{name}: {e}"))
        };
        let schedule = switchyard_core::retry::RetrySchedule::parse(&self.retry_schedule)
            .map_err(|e| anyhow::anyhow!("retry_schedule: {e}"))?;
        let lease = dur("lease", &d.lease)?;
        let subscription_timeout = dur("subscription_timeout", &d.subscription_timeout)?;
        if lease <= subscription_timeout {
            bail!("delivery.lease must be longer than delivery.subscription_timeout");
        }
        if d.concurrency == 0 || d.max_batch == 0 {
            bail!("delivery.concurrency and delivery.max_batch must be at least 1");
        }
        Ok(switchyard_delivery::EngineConfig {
            concurrency: d.concurrency,
            lease,
            schedule,
            max_batch: d.max_batch,
            poll_interval: dur("poll_interval", &d.poll_interval)?,
        })
    }

    /// How long a subscriber may take to answer.
    pub fn subscription_timeout(&self) -> anyhow::Result<std::time::Duration> {
        switchyard_core::duration::parse_human(&self.delivery.subscription_timeout)
            .map_err(|e| anyhow::anyhow!("delivery.subscription_timeout: {e}"))
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.engine()?;
        if self.limits.max_body_bytes < 1024 {
            bail!("limits.max_body_bytes must be at least 1024");
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("public_url must be an absolute http(s) URL");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
    fn unrelated_environment_variables_are_ignored() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SWITCHYARD_BIN", "/usr/bin/true");
            jail.set_env("SWITCHYARD_LISTEN", "127.0.0.1:9999");
            jail.set_env("SWITCHYARD_DELIVERY__CONCURRENCY", "7");
            jail.set_env("SWITCHYARD_RETRY_SCHEDULE", "1s,2s");
            let c = Config::load(None).expect("loads");
            assert_eq!(c.listen, "127.0.0.1:9999");
            assert_eq!(c.delivery.concurrency, 7);
            assert_eq!(c.retry_schedule, "1s,2s");
            Ok(())
        });
    }

    #[test]
    fn example_file_matches_the_defaults() {
        let text = include_str!("../../../switchyard.example.toml");
        let from_file: Config = Figment::from(Toml::string(text)).extract().unwrap();
        let a = serde_json::to_value(&from_file).unwrap();
        let b = serde_json::to_value(Config::default()).unwrap();
        assert_eq!(
            a, b,
            "switchyard.example.toml must document exactly the defaults"
        );
    }
}
