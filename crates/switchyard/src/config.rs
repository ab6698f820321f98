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
    /// Domains bound to instances, for `instance.domain`.
    pub instances: Vec<InstanceBinding>,
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
        fig = fig.merge(
            Env::prefixed("SWITCHYARD_")
                .ignore(&["CONFIG"])
                .split("__"),
        );
        fig.extract().context("invalid configuration")
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
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
    fn example_file_matches_the_defaults() {
        let text = include_str!("../../../switchyard.example.toml");
        let from_file: Config = Figment::from(Toml::string(text)).extract().unwrap();
        let a = serde_json::to_value(&from_file).unwrap();
        let b = serde_json::to_value(Config::default()).unwrap();
        assert_eq!(a, b, "switchyard.example.toml must document exactly the defaults");
    }
}
