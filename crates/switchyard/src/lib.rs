//! The Switchyard server as a library: [`Application::build`] opens the data directory and the
//! store (SQLite in the data directory, or PostgreSQL when `database_url` is set), binds the
//! listener (port 0 in tests) and wires API and workers; [`Application::run`] serves until the
//! shutdown future resolves and then stops everything together. `main.rs` stays thin.

pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod data_dir;
mod startup;

pub use config::Config;

use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use switchyard_api::{ApiSettings, AppState};
use switchyard_core::{Clock, SystemClock};
use switchyard_delivery::calls::CallRunner;
use switchyard_delivery::store_routing::StoreRouting;
use switchyard_delivery::Engine;
use switchyard_store::Store;
use tokio::net::TcpListener;

/// Opens the configured store: PostgreSQL when `database_url` is set, else the SQLite file in
/// the data directory (kept owner-only).
pub async fn open_store(
    config: &Config,
    data: &data_dir::DataDir,
) -> anyhow::Result<Arc<dyn Store>> {
    let sqlite_path = if config.database_url.is_empty() {
        data.private_database_path()?
    } else {
        data.database_path()
    };
    switchyard_store::open(&config.database_url, &sqlite_path).await
}

/// Opens the data directory with the configured master key file.
pub fn open_data_dir(config: &Config) -> anyhow::Result<data_dir::DataDir> {
    data_dir::DataDir::open_with_key(&config.data_dir, config.master_key_file.as_deref())
}

/// `switchyard migrate`: creates the data directory and applies pending database migrations,
/// nothing else. No claim loop starts, so against a live PostgreSQL cluster it never leases (and
/// strands) work, and on SQLite it leaves work in flight as the last server left it.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    config.validate()?;
    let data = open_data_dir(config)?;
    let _lock = data.lock()?;
    switchyard_store::migrate(&config.database_url, &data.database_path()).await
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    store: Arc<dyn Store>,
    engine: Engine,
    calls: CallRunner,
    /// What the startup line says besides the address.
    storage: String,
    allow_networks: String,
    workers: usize,
    retention: switchyard_delivery::retention::Retention,
    /// Held while the server runs: no second server or maintenance command on this data dir.
    _lock: data_dir::DataDirLock,
}

impl Application {
    /// Opens storage, runs migrations and binds the listen address.
    /// Nothing is created or migrated before the configuration is valid and the listen address
    /// is bound.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .with_context(|| format!("listen address {}", config.listen))?;
        let addr = listener.local_addr()?;
        let data = open_data_dir(&config)?;
        let lock = data.lock()?;
        let store = open_store(&config, &data).await?;
        for binding in &config.instances {
            let id = switchyard_core::InstanceId::parse(&binding.id)?;
            store.bind_domain(&id, &binding.domain).await?;
        }
        let public_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        let shared = store.clone();
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let zitadel_catalog = Arc::new(config.zitadel_catalog.catalog());
        let routing = Arc::new(
            StoreRouting::new(
                shared.clone(),
                data.master_key.clone(),
                clock.clone(),
                zitadel_catalog.clone(),
                config.subscription_timeout()?,
            )
            .with_eventbridge_partner(config.eventbridge.partner.clone()),
        );
        let mut engine_config = config.engine()?;
        engine_config.callback_base = public_url.clone();
        engine_config.secrets =
            switchyard_core::crypto::InvocationSecrets::from_master(&data.master_key);
        let outbound = engine_config.outbound.clone();
        let web_keys = Arc::new(switchyard_delivery::web_keys::WebKeys::new(
            shared.clone(),
            data.master_key.clone(),
            clock.clone(),
            config.auth.web_key_algorithm()?,
        ));
        engine_config.web_keys = Some(web_keys.clone());
        let engine = Engine::start(shared.clone(), routing, clock.clone(), engine_config)?;
        let retention = switchyard_delivery::retention::Retention::start(
            shared.clone(),
            clock.clone(),
            config.retention.policy()?,
        );
        let calls = CallRunner::new(
            &engine,
            shared.clone(),
            data.master_key.clone(),
            clock.clone(),
            config.breaker()?,
        );
        let state = AppState {
            store: shared,
            master_key: data.master_key.clone(),
            clock,
            settings: Arc::new(ApiSettings {
                max_body_bytes: config.limits.max_body_bytes,
                public_url,
                payload: config.limits.payload()?,
                filter_budget: config.limits.filter_budget,
            }),
            engine: engine.clone(),
            calls: calls.clone(),
            retention: retention.clone(),
            zitadel_catalog,
            outbound,
            auth: auth::auth_state(&config, &data.path)?,
            web_keys,
        };
        Ok(Self {
            listener,
            addr,
            state,
            store,
            engine,
            calls,
            storage: startup::storage_summary(&config.database_url, &data.database_path()),
            allow_networks: if config.allow_networks.is_empty() {
                "none".into()
            } else {
                config.allow_networks.clone()
            },
            workers: config.delivery.concurrency,
            retention,
            _lock: lock,
        })
    }

    /// The bound address (the real port when configured with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests and closes storage.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            listen = %self.addr,
            storage = %self.storage,
            allowed_networks = %self.allow_networks,
            workers = self.workers,
            "switchyard {} listening on http://{}",
            env!("CARGO_PKG_VERSION"),
            self.addr
        );
        let router = switchyard_api::router(self.state);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving HTTP")?;
        self.retention.stop().await;
        // API stopped accepting; let deliveries in flight finish and their results be written.
        self.engine.shutdown(Duration::from_secs(10)).await;
        self.calls.flush(Duration::from_secs(5)).await;
        self.store.close().await;
        tracing::info!("switchyard stopped");
        Ok(())
    }
}
