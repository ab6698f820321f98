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
    /// `text` (default) or `json` lines on stderr (`SWITCHYARD_LOG_FORMAT`); `RUST_LOG` filters.
    pub log_format: LogFormat,
    /// Where the SQLite database and the master key live.
    pub data_dir: PathBuf,
    /// PostgreSQL URL (`postgres://user@host/db`) for several nodes sharing one database; empty
    /// means the embedded SQLite file in `data_dir` (`SWITCHYARD_DATABASE_URL`, `--database-url`).
    pub database_url: String,
    /// Master key file; default `<data_dir>/master.key`. Nodes sharing a database must use the
    /// same key (point them all at one file, or copy it).
    pub master_key_file: Option<PathBuf>,
    /// Public base URL of this server (for callback URLs); defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    pub limits: Limits,
    /// Non-public networks deliveries may reach, comma-separated CIDRs (`SWITCHYARD_ALLOW_NETWORKS`).
    pub allow_networks: String,
    /// Refuse plain-http targets and subscriptions.
    pub https_only: bool,
    /// A PEM file of CA certificates outbound TLS trusts besides the public web roots, for
    /// receivers, brokers and AWS endpoints behind a private CA (`SWITCHYARD_CA_FILE`).
    pub ca_file: Option<PathBuf>,
    /// Waits between delivery tries, e.g. "5s,30s,2m" (`SWITCHYARD_RETRY_SCHEDULE`).
    pub retry_schedule: String,
    pub delivery: Delivery,
    pub eventbridge: EventBridge,
    pub retention: Retention,
    /// Domains bound to instances, for `instance.domain`.
    pub instances: Vec<InstanceBinding>,
    pub auth: AuthConfig,
    /// Names ZITADEL execution conditions may use beyond the built-in catalog.
    pub zitadel_catalog: CatalogExtension,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for a log shipper.
    Json,
}

/// `[auth]`: token verification, the token endpoint and rate limits. Authentication is always on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 secret (at least 32 bytes). Default: the generated `<data_dir>/jwt.secret`.
    pub jwt_secret: Option<String>,
    /// File holding the HS256 secret instead of `jwt_secret`.
    pub jwt_secret_file: Option<PathBuf>,
    /// JWKS file with the public keys of an identity provider (RS256, ES256, …).
    pub jwks_file: Option<PathBuf>,
    /// Required `iss` of every token, when set.
    pub issuer: Option<String>,
    /// Required `aud` of every token, when set.
    pub audience: Option<String>,
    /// Lifetime of tokens issued by `/oauth/token` (`30m`, `1h`).
    pub token_ttl: String,
    /// Algorithm of newly generated web keys (`PAYLOAD_TYPE_JWT`, `/oauth/v2/keys`): `RS256`
    /// or `ES256`.
    pub web_key_algorithm: String,
    /// Per-caller limit on the management APIs.
    pub rate_limit: RateLimitConfig,
    /// Per-caller limit on the producer API (`/v1/events`, `/v1/invocations`, `/v1/calls`);
    /// unset = unlimited.
    pub producer_rate_limit: Option<RateLimitConfig>,
}

/// `{requests = 100, per = "10s"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    pub requests: u32,
    pub per: String,
}

impl RateLimitConfig {
    /// The validated limit.
    pub fn parse(&self, key: &str) -> anyhow::Result<switchyard_core::auth::RateLimit> {
        let per = switchyard_core::duration::parse_human(&self.per)
            .map_err(|e| anyhow::anyhow!("{key}.per: {e}"))?;
        switchyard_core::auth::RateLimit::new(self.requests, per)
            .map_err(|e| anyhow::anyhow!("{key}: {}", e.rule))
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_secret_file: None,
            jwks_file: None,
            issuer: None,
            audience: None,
            token_ttl: "1h".into(),
            web_key_algorithm: "RS256".into(),
            rate_limit: RateLimitConfig {
                requests: 100,
                per: "10s".into(),
            },
            producer_rate_limit: None,
        }
    }
}

impl AuthConfig {
    /// Lifetime of issued tokens, between 1 minute and 1 day.
    pub fn token_ttl(&self) -> anyhow::Result<std::time::Duration> {
        let ttl = switchyard_core::duration::parse_human(&self.token_ttl)
            .map_err(|e| anyhow::anyhow!("auth.token_ttl: {e}"))?;
        if ttl < std::time::Duration::from_secs(60) || ttl > std::time::Duration::from_secs(86_400)
        {
            bail!("auth.token_ttl must be between 1m and 1d");
        }
        Ok(ttl)
    }

    /// The algorithm of new web keys.
    pub fn web_key_algorithm(
        &self,
    ) -> anyhow::Result<switchyard_core::jose::web_key::WebKeyAlgorithm> {
        switchyard_core::jose::web_key::WebKeyAlgorithm::parse(&self.web_key_algorithm)
            .ok_or_else(|| anyhow::anyhow!("auth.web_key_algorithm must be RS256 or ES256"))
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.jwt_secret.is_some() && self.jwt_secret_file.is_some() {
            bail!("set only one of auth.jwt_secret and auth.jwt_secret_file");
        }
        if self.jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            bail!("auth.jwt_secret must be at least 32 characters");
        }
        self.token_ttl()?;
        self.web_key_algorithm()?;
        self.rate_limit.parse("auth.rate_limit")?;
        if let Some(p) = &self.producer_rate_limit {
            p.parse("auth.producer_rate_limit")?;
        }
        Ok(())
    }
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
    /// Consecutive failures that open a target's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open circuit stays open before one probe is let through.
    pub breaker_cooldown: String,
    /// Accept events but deliver nothing (maintenance); they wait in the queue until a node
    /// runs without it.
    pub paused: bool,
    /// Failed attempts in a row after which a route is reported `switchyard:route-failing`.
    pub failing_after: u32,
    /// A route failing without a single success this long is disabled (`"off"`: never); a
    /// route's policy (`autoDisable.after`) overrides it.
    pub auto_disable_after: String,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            concurrency: 256,
            lease: "330s".into(),
            subscription_timeout: "10s".into(),
            poll_interval: "5s".into(),
            max_batch: 512,
            breaker_failures: 5,
            breaker_cooldown: "30s".into(),
            paused: false,
            failing_after: 5,
            auto_disable_after: "72h".into(),
        }
    }
}

/// `[eventbridge]`: how SailPoint EVENTBRIDGE subscriptions are delivered. Credentials and
/// endpoints come from the standard AWS environment (see the README).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventBridge {
    /// The `Source` of every event (AWS refuses sources beginning with `aws.`).
    pub source: String,
    /// The event bus in the subscription's account.
    pub bus: String,
    /// Partner mode: each subscription gets the partner event source
    /// `aws.partner/{partner}/{subscriptionId}/idn/{trigger}` and is delivered with
    /// `PutPartnerEvents` (for an operator registered as an EventBridge partner).
    pub partner: Option<String>,
}

impl Default for EventBridge {
    fn default() -> Self {
        let d = switchyard_delivery::transport::eventbridge::EventBridgeSettings::default();
        Self {
            source: d.source,
            bus: d.bus,
            partner: d.partner,
        }
    }
}

/// `[retention]`: how long history is kept and how the background purge paces itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Age after which attempt-log entries are purged (`"off"` keeps them).
    pub attempts: String,
    /// Age after which events that ended (all their invocations) are purged with their
    /// invocations and attempts, and call records with theirs (`"off"` keeps them).
    pub events: String,
    /// Time between purge passes.
    pub interval: String,
    /// Most rows one purge batch deletes per table (one short transaction each).
    pub batch: u32,
    /// How long one background purge batch should take: batches are sized to it, so the
    /// purge never holds publishes and result writes up for much longer.
    pub batch_time: String,
    /// Shortest pause between two batches (the pause is at least as long as the last batch).
    pub pause: String,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            attempts: "30d".into(),
            events: "30d".into(),
            interval: "1m".into(),
            batch: 1000,
            batch_time: "20ms".into(),
            pause: "20ms".into(),
        }
    }
}

impl Retention {
    /// The validated policy.
    pub fn policy(&self) -> anyhow::Result<switchyard_delivery::retention::RetentionPolicy> {
        let dur = |name: &str, v: &str| {
            switchyard_core::duration::parse_human(v)
                .map_err(|e| anyhow::anyhow!("retention.{name}: {e}"))
        };
        let age = |name: &str, v: &str| -> anyhow::Result<Option<std::time::Duration>> {
            if v.trim().eq_ignore_ascii_case("off") {
                return Ok(None);
            }
            let d = dur(name, v)?;
            if d < std::time::Duration::from_secs(1) {
                bail!("retention.{name} must be at least 1s (or \"off\")");
            }
            Ok(Some(d))
        };
        if !(1..=10_000).contains(&self.batch) {
            bail!("retention.batch must be from 1 to 10000");
        }
        let batch_time = dur("batch_time", &self.batch_time)?;
        if !(std::time::Duration::from_millis(1)..=std::time::Duration::from_secs(10))
            .contains(&batch_time)
        {
            bail!("retention.batch_time must be from 1ms to 10s");
        }
        let interval = dur("interval", &self.interval)?;
        if interval < std::time::Duration::from_millis(100) {
            bail!("retention.interval must be at least 100ms");
        }
        Ok(switchyard_delivery::retention::RetentionPolicy {
            attempts: age("attempts", &self.attempts)?,
            events: age("events", &self.events)?,
            batch: self.batch,
            batch_time,
            pause: dur("pause", &self.pause)?,
            interval,
        })
    }
}

/// `[limits]`: what any one request may ask of the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Largest event payload, invocation input or output, or call payload (compact JSON bytes).
    pub max_payload_bytes: usize,
    /// Deepest nesting of arrays and objects in such a document.
    pub max_payload_depth: usize,
    /// Work one subscription filter may do on one event, in budget units (about one node
    /// visited each; a million take ~15 ms). A filter that needs more does not match.
    pub filter_budget: u64,
}

impl Limits {
    /// The payload bounds, validated.
    pub fn payload(&self) -> anyhow::Result<switchyard_core::payload::PayloadLimits> {
        if self.max_payload_bytes < 1024 || self.max_payload_bytes > self.max_body_bytes {
            bail!("limits.max_payload_bytes must be from 1024 to limits.max_body_bytes");
        }
        if !(8..=128).contains(&self.max_payload_depth) {
            bail!("limits.max_payload_depth must be from 8 to 128");
        }
        Ok(switchyard_core::payload::PayloadLimits {
            max_bytes: self.max_payload_bytes,
            max_depth: self.max_payload_depth,
        })
    }
}

/// Extra names for the ZITADEL execution catalog (your own services, methods, functions, events).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CatalogExtension {
    /// Full gRPC method names, `/my.pkg.v1.MyService/DoThing` (their services become known).
    pub methods: Vec<String>,
    /// Services without listed methods, `my.pkg.v1.MyService`.
    pub services: Vec<String>,
    /// Function names, e.g. `preuserinfo`.
    pub functions: Vec<String>,
    /// Event types, `myapp.order.created` (their dotted prefixes become groups).
    pub events: Vec<String>,
}

impl CatalogExtension {
    /// ZITADEL's well-known names plus these.
    pub fn catalog(&self) -> switchyard_core::zitadel::ZitadelCatalog {
        let mut c = switchyard_core::zitadel::ZitadelCatalog::with_defaults();
        c.add_methods(self.methods.iter().cloned());
        c.add_services(self.services.iter().cloned());
        c.add_functions(self.functions.iter().cloned());
        c.add_events(self.events.iter().cloned());
        c
    }
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
            log_format: LogFormat::Text,
            data_dir: PathBuf::from("switchyard-data"),
            database_url: String::new(),
            master_key_file: None,
            public_url: None,
            limits: Limits::default(),
            allow_networks: String::new(),
            https_only: false,
            ca_file: None,
            retry_schedule: "5s,30s,2m,10m,30m,1h,3h,6h,12h,24h".into(),
            delivery: Delivery::default(),
            eventbridge: EventBridge::default(),
            retention: Retention::default(),
            instances: Vec::new(),
            auth: AuthConfig::default(),
            zitadel_catalog: CatalogExtension::default(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        let payload = switchyard_core::payload::PayloadLimits::default();
        Self {
            max_body_bytes: 1024 * 1024,
            max_payload_bytes: payload.max_bytes,
            max_payload_depth: payload.max_depth,
            filter_budget: switchyard_core::jsonpath::DEFAULT_BUDGET,
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
            paused: d.paused,
            outbound: std::sync::Arc::new(self.outbound()?),
            trust: std::sync::Arc::new(self.trust()?),
            filter_budget: self.limits.filter_budget,
            eventbridge: self.eventbridge_settings()?,
            health: self.health()?,
            // The callback base and the secret key come from the running server (lib.rs).
            ..Default::default()
        })
    }

    /// The EventBridge settings, checked.
    fn eventbridge_settings(
        &self,
    ) -> anyhow::Result<switchyard_delivery::transport::eventbridge::EventBridgeSettings> {
        let e = &self.eventbridge;
        if e.source.is_empty() || e.source.len() > 256 || e.source.starts_with("aws.") {
            bail!("eventbridge.source must be 1 to 256 characters and not begin with 'aws.'");
        }
        let bus_ok = |c: char| c.is_ascii_alphanumeric() || "._-/".contains(c);
        if e.bus.is_empty() || e.bus.len() > 256 || !e.bus.chars().all(bus_ok) {
            bail!("eventbridge.bus must be an event bus name (letters, digits, . _ - /)");
        }
        if let Some(p) = &e.partner {
            if !switchyard_delivery::transport::eventbridge::valid_partner(p) {
                bail!("eventbridge.partner must be 1 to 64 letters, digits, '.', '-' or '_'");
            }
        }
        Ok(
            switchyard_delivery::transport::eventbridge::EventBridgeSettings {
                source: e.source.clone(),
                bus: e.bus.clone(),
                partner: e.partner.clone(),
            },
        )
    }

    /// Route health: when routes are reported failing and switched off.
    pub fn health(&self) -> anyhow::Result<switchyard_delivery::health::HealthConfig> {
        let d = &self.delivery;
        if !(1..=1_000_000).contains(&d.failing_after) {
            bail!("delivery.failing_after must be from 1 to 1000000");
        }
        let auto_disable_after = if d.auto_disable_after.trim().eq_ignore_ascii_case("off") {
            None
        } else {
            let after = switchyard_core::duration::parse_human(&d.auto_disable_after)
                .map_err(|e| anyhow::anyhow!("delivery.auto_disable_after: {e}"))?;
            if after < std::time::Duration::from_secs(1) {
                bail!("delivery.auto_disable_after must be at least 1s (or \"off\")");
            }
            Some(after)
        };
        Ok(switchyard_delivery::health::HealthConfig {
            failing_after: d.failing_after,
            auto_disable_after,
        })
    }

    /// The circuit breaker policy of synchronous calls.
    pub fn breaker(&self) -> anyhow::Result<switchyard_core::breaker::BreakerPolicy> {
        let cooldown = switchyard_core::duration::parse_human(&self.delivery.breaker_cooldown)
            .map_err(|e| anyhow::anyhow!("delivery.breaker_cooldown: {e}"))?;
        switchyard_core::breaker::BreakerPolicy::new(self.delivery.breaker_failures, cooldown)
            .map_err(|e| anyhow::anyhow!("delivery.{}: {}", e.field, e.rule))
    }

    /// The outbound protection policy.
    pub fn outbound(&self) -> anyhow::Result<switchyard_core::netguard::OutboundPolicy> {
        switchyard_core::netguard::OutboundPolicy::new(&self.allow_networks, self.https_only)
            .map_err(|e| anyhow::anyhow!("allow_networks: {e}"))
    }

    /// The certificates outbound TLS trusts: the public roots, plus `ca_file`'s.
    pub fn trust(&self) -> anyhow::Result<switchyard_delivery::transport::tls::Trust> {
        use switchyard_delivery::transport::tls::Trust;
        match &self.ca_file {
            Some(path) => Trust::with_ca_file(path),
            None => Ok(Trust::public()),
        }
    }

    /// How long a subscriber may take to answer.
    pub fn subscription_timeout(&self) -> anyhow::Result<std::time::Duration> {
        switchyard_core::duration::parse_human(&self.delivery.subscription_timeout)
            .map_err(|e| anyhow::anyhow!("delivery.subscription_timeout: {e}"))
    }

    /// Checks values that serde cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.engine()?;
        self.breaker()?;
        self.retention.policy()?;
        if self.limits.max_body_bytes < 1024 {
            bail!("limits.max_body_bytes must be at least 1024");
        }
        self.limits.payload()?;
        if !(1_000..=1_000_000_000).contains(&self.limits.filter_budget) {
            bail!("limits.filter_budget must be from 1000 to 1000000000");
        }
        if !self.database_url.is_empty() && !switchyard_store::is_postgres_url(&self.database_url) {
            bail!("database_url must be empty (SQLite in data_dir) or a postgres:// URL");
        }
        if let Some(url) = &self.public_url {
            switchyard_core::delivery_url::DeliveryUrl::parse("public_url", url)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        self.auth.validate()
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

    #[test]
    fn a_ca_file_that_cannot_be_used_stops_the_start() {
        let c = Config {
            ca_file: Some("/nonexistent/private-ca.pem".into()),
            ..Config::default()
        };
        let error = c.validate().unwrap_err().to_string();
        assert!(
            error.contains("ca_file /nonexistent/private-ca.pem"),
            "{error}"
        );
    }

    #[test]
    fn auth_settings_are_validated() {
        let ok = Config::default();
        ok.validate().unwrap();
        let mut c = Config {
            database_url: "mysql://x".into(),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        c.database_url = "postgres://postgres@127.0.0.1/db".into();
        c.validate().unwrap();
        let mut c = Config::default();
        c.auth.rate_limit.requests = 0;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.auth.token_ttl = "5s".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.auth.jwt_secret = Some("short".into());
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.delivery.breaker_failures = 0;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.limits.max_payload_bytes = c.limits.max_body_bytes + 1;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.limits.max_payload_depth = 500;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.limits.filter_budget = 0;
        assert!(c.validate().is_err());
        let c = Config {
            public_url: Some("http:///callbacks".into()),
            ..Config::default()
        };
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.delivery.breaker_cooldown = "soon".into();
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.delivery.failing_after = 0;
        assert!(c.validate().is_err());
        let mut c = Config::default();
        c.delivery.auto_disable_after = "0s".into();
        assert!(c.validate().is_err());
        c.delivery.auto_disable_after = "off".into();
        assert_eq!(c.health().unwrap().auto_disable_after, None);
        for (attempts, events, batch) in
            [("0s", "30d", 1000), ("30d", "soon", 1000), ("1d", "1d", 0)]
        {
            let mut c = Config::default();
            c.retention.attempts = attempts.into();
            c.retention.events = events.into();
            c.retention.batch = batch;
            assert!(c.validate().is_err(), "{attempts} {events} {batch}");
        }
        for batch_time in ["0ms", "11s"] {
            let mut c = Config::default();
            c.retention.batch_time = batch_time.into();
            assert!(c.validate().is_err(), "{batch_time}");
        }
        let mut c = Config::default();
        c.retention.attempts = "off".into();
        let policy = c.retention.policy().unwrap();
        assert_eq!(policy.attempts, None);
        assert_eq!(
            policy.events,
            Some(std::time::Duration::from_secs(30 * 86_400))
        );
        let mut c = Config::default();
        c.auth.producer_rate_limit = Some(RateLimitConfig {
            requests: 10,
            per: "fortnight".into(),
        });
        assert!(c.validate().is_err());
    }
}
