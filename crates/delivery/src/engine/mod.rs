//! The engine: one handle shared by the API (publishing) and the background tasks (claiming,
//! delivering, recording). Worker capacity is a semaphore: a publish that finds free permits
//! leases its invocations at once and hands them to workers from memory; otherwise they wait in
//! the durable queue and the claimer leases them as capacity frees up. Results are recorded by a
//! group-committing writer, so a worker never waits on the database.

mod accept;
mod claimer;
mod deliver;
mod enqueue;
mod failure_log;
mod recorder;
mod select;

use crate::metrics::Metrics;
use crate::publish::{
    build_event, check_event_id, check_payload, BuiltEvent, PublishError, PublishRequest, Published,
};
use crate::routing::Routing;
use crate::transport::eventbridge::EventBridgeSettings;
use crate::transport::tls::Trust;
use crate::transport::{aws, TransportConfig, Transports};
use crate::waiters::Waiters;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::crypto::InvocationSecrets;
use switchyard_core::netguard::OutboundPolicy;
use switchyard_core::retry::RetrySchedule;
use switchyard_core::{Clock, InstanceId};
use switchyard_store::queue::{InvocationOutcome, Outcome, PublishResult};
use switchyard_store::Store;
use tokio::sync::{mpsc, watch, Notify, Semaphore};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a claim is held; must exceed the longest request timeout.
    pub lease: Duration,
    pub schedule: RetrySchedule,
    /// Largest group-commit batch.
    pub max_batch: usize,
    /// Upper bound on the claimer's sleep: the fallback poll for expired leases.
    pub poll_interval: Duration,
    /// Accept but do not deliver: no fast path, no claims (the queue keeps everything).
    pub paused: bool,
    /// Which addresses deliveries may reach.
    pub outbound: Arc<OutboundPolicy>,
    /// The certificates outbound TLS trusts (receivers, brokers, AWS endpoints).
    pub trust: Arc<Trust>,
    /// Public base URL of the server: request-response callbacks go to
    /// `{callback_base}/trigger-invocations/v1/{id}/complete`.
    pub callback_base: String,
    /// Derives invocation secrets (bound to the master key in production).
    pub secrets: InvocationSecrets,
    /// Work one subscription filter may do on one event, in budget units (see
    /// [`switchyard_core::jsonpath::Budget`]); a filter that needs more does not match.
    pub filter_budget: u64,
    /// EventBridge `Source` and bus.
    pub eventbridge: EventBridgeSettings,
    /// The environment the AWS transports read (credentials, endpoint overrides).
    pub aws_env: aws::Env,
    /// The instances' web keys, for `PAYLOAD_TYPE_JWT` targets (none: such deliveries fail).
    pub web_keys: Option<Arc<crate::web_keys::WebKeys>>,
    /// When routes are reported failing and switched off (operator events).
    pub health: crate::health::HealthConfig,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            lease: Duration::from_secs(330),
            schedule: RetrySchedule::default(),
            max_batch: 512,
            poll_interval: Duration::from_secs(5),
            paused: false,
            outbound: Arc::new(OutboundPolicy::default()),
            trust: Arc::new(Trust::public()),
            callback_base: "http://127.0.0.1:8080".into(),
            secrets: InvocationSecrets::random(),
            filter_budget: switchyard_core::jsonpath::DEFAULT_BUDGET,
            eventbridge: EventBridgeSettings::default(),
            aws_env: aws::Env::from_process(),
            web_keys: None,
            health: crate::health::HealthConfig::default(),
        }
    }
}

/// Cheap-to-clone handle.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    routing: Arc<dyn Routing>,
    /// Every transport's long-lived clients.
    transports: Transports,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    permits: Arc<Semaphore>,
    wake: Notify,
    publisher: accept::Publisher,
    outcomes: mpsc::UnboundedSender<Outcome>,
    metrics: Metrics,
    stopping: watch::Sender<bool>,
    /// Outcomes sent to the writer and not yet committed.
    unrecorded: AtomicUsize,
    /// `wait`ers for ended invocations.
    waiters: Arc<Waiters>,
    /// Wakes the deadline sweeper (a new deadline may be the earliest).
    deadline_wake: Arc<Notify>,
    /// Events whose filters are evaluated on the blocking pool at once (one per core).
    filter_slots: Semaphore,
    /// Attempt outcomes for route health and operator events.
    signals: mpsc::UnboundedSender<crate::health::Signal>,
    /// The ZITADEL targets' circuit breakers (shared with synchronous calls), fed by event
    /// deliveries to targets too.
    breakers: std::sync::OnceLock<Arc<crate::calls::breakers::Breakers>>,
}

/// How often a `wait`er re-reads the store without a signal (another node may end its
/// invocations).
const WAIT_RECHECK: Duration = Duration::from_millis(500);

impl Engine {
    /// Starts the engine's background tasks. They run until [`Engine::shutdown`].
    pub fn start(
        store: Arc<dyn Store>,
        routing: Arc<dyn Routing>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> anyhow::Result<Self> {
        let transports = Transports::new(
            TransportConfig {
                max_idle_per_host: config.concurrency,
                policy: config.outbound.clone(),
                trust: config.trust.clone(),
                aws_env: config.aws_env.clone(),
                eventbridge: config.eventbridge.clone(),
            },
            clock.clone(),
        )?;
        let (outcomes, outcome_rx) = mpsc::unbounded_channel();
        let (signals, signal_rx) = mpsc::unbounded_channel();
        let (stopping, _) = watch::channel(false);
        let engine = Self {
            inner: Arc::new_cyclic(|engine| Inner {
                publisher: accept::spawn_publisher(store.clone(), config.max_batch, engine.clone()),
                permits: Arc::new(Semaphore::new(config.concurrency)),
                store,
                routing,
                transports,
                clock,
                config,
                wake: Notify::new(),
                outcomes,
                metrics: Metrics::default(),
                stopping,
                unrecorded: AtomicUsize::new(0),
                waiters: Arc::new(Waiters::default()),
                deadline_wake: Arc::new(Notify::new()),
                filter_slots: Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                ),
                signals,
                breakers: std::sync::OnceLock::new(),
            }),
        };
        let inner = &engine.inner;
        tokio::spawn(crate::deadlines::sweep_loop(
            inner.store.clone(),
            inner.clock.clone(),
            inner.waiters.clone(),
            inner.deadline_wake.clone(),
            inner.stopping.subscribe(),
            inner.config.poll_interval,
        ));
        tokio::spawn(engine.clone().record_loop(outcome_rx));
        tokio::spawn(engine.clone().health_loop(signal_rx));
        if !engine.inner.config.paused {
            tokio::spawn(engine.clone().claim_loop());
        }
        // Other nodes' new work (PostgreSQL NOTIFY) wakes the claimer; polling stays the fallback.
        if let Some(mut wakeups) = engine.inner.store.subscribe_wakeups() {
            let inner = Arc::downgrade(&engine.inner);
            tokio::spawn(async move {
                while wakeups.changed().await.is_ok() {
                    match inner.upgrade() {
                        Some(inner) => inner.wake.notify_one(),
                        None => return,
                    }
                }
            });
        }
        Ok(engine)
    }

    pub fn routing(&self) -> &Arc<dyn Routing> {
        &self.inner.routing
    }

    /// Every transport's clients, shared with synchronous calls.
    /// In EventBridge partner mode, the partner event source of a subscription (`None`
    /// otherwise, and in a build without the `aws` feature).
    pub fn eventbridge_partner_source(
        &self,
        subscription_id: &str,
        trigger_id: &str,
    ) -> Option<String> {
        #[cfg(feature = "aws")]
        return self
            .inner
            .transports
            .eventbridge()
            .partner_source(subscription_id, trigger_id);
        #[cfg(not(feature = "aws"))]
        {
            let _ = (subscription_id, trigger_id);
            None
        }
    }

    /// Creates (`create`) or deletes a partner event source (see
    /// [`Self::eventbridge_partner_source`]).
    pub async fn eventbridge_partner_source_op(
        &self,
        create: bool,
        name: &str,
        account: &str,
        region: &str,
    ) -> Result<(), String> {
        #[cfg(feature = "aws")]
        return self
            .inner
            .transports
            .eventbridge()
            .partner_source_op(create, name, account, region)
            .await;
        #[cfg(not(feature = "aws"))]
        {
            let _ = (create, name, account, region);
            crate::transport::compiled_in(switchyard_core::invocation::DestinationKind::EventBridge)
        }
    }

    pub(crate) fn transports(&self) -> &Transports {
        &self.inner.transports
    }

    /// `body` in a ZITADEL target's payload encoding at `now` (see [`crate::payload_type`]);
    /// the error is the attempt's error text. Shared with synchronous calls.
    pub(crate) async fn encode_payload(
        &self,
        encoding: &crate::payload_type::PayloadEncoding,
        instance: &InstanceId,
        now: switchyard_core::Timestamp,
        body: &[u8],
    ) -> Result<crate::payload_type::Encoded, String> {
        let web_keys = self.inner.config.web_keys.as_deref();
        crate::payload_type::encode(web_keys, encoding, instance, now, body).await
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub(crate) fn health_config(&self) -> &crate::health::HealthConfig {
        &self.inner.config.health
    }

    /// Event deliveries to ZITADEL targets feed these circuit breakers too.
    pub(crate) fn attach_breakers(&self, breakers: Arc<crate::calls::breakers::Breakers>) {
        let _ = self.inner.breakers.set(breakers);
    }

    /// Someone switched a route off through the API: subscribers of
    /// `switchyard:route-disabled` hear of it.
    pub fn route_disabled_by_operator(
        &self,
        instance: &InstanceId,
        kind: switchyard_store::queue::RouteKind,
        route_id: &str,
    ) {
        let _ = self
            .inner
            .signals
            .send(crate::health::Signal::DisabledByOperator {
                route: switchyard_store::health::RouteKey {
                    instance: instance.clone(),
                    kind,
                    route_id: route_id.to_string(),
                },
                at: self.inner.clock.now(),
            });
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The deriver of invocation secrets.
    pub fn secrets(&self) -> &InvocationSecrets {
        &self.inner.config.secrets
    }

    /// Tells `wait`ers that these invocations ended (a callback completed them).
    pub fn ended(&self, ids: &[String]) {
        self.inner.waiters.signal(ids.iter().map(String::as_str));
    }

    /// The current outcomes of `ids`, after waiting up to `wait` for all of them to end.
    pub async fn wait_for(
        &self,
        instance: &InstanceId,
        ids: &[String],
        wait: Duration,
    ) -> Result<Vec<InvocationOutcome>, switchyard_store::StoreError> {
        let inner = &self.inner;
        // Register before the first read, so an end committed in between still wakes us.
        let registration = inner.waiters.register(ids);
        let until = tokio::time::Instant::now() + wait;
        loop {
            let outcomes = inner.store.invocation_outcomes(instance, ids).await?;
            let now = tokio::time::Instant::now();
            if outcomes.iter().all(InvocationOutcome::is_final) || now >= until {
                return Ok(outcomes);
            }
            let nap = (until - now).min(WAIT_RECHECK);
            tokio::select! {
                _ = registration.notified() => {}
                _ = tokio::time::sleep(nap) => {}
            }
        }
    }

    /// Wakes the claimer (new due work was written by someone other than this engine).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Accepts an event: durable before this returns `Ok`.
    pub async fn publish(&self, req: PublishRequest) -> Result<Published, PublishError> {
        let inner = &self.inner;
        if *inner.stopping.borrow() {
            return Err(PublishError::Unavailable);
        }
        if let Some(id) = &req.id {
            check_event_id(id)?;
        }
        check_payload(&req.payload)?;
        let plan = inner.routing.plan(&req.instance, &req.event_type).await?;
        crate::publish::check_kind(&req, &plan)?;
        if let Some(validate) = &plan.validator {
            validate(&req.payload).map_err(|errors| {
                crate::routing::RoutingError::InvalidPayload {
                    trigger: req.event_type.clone(),
                    errors,
                }
            })?;
        }
        let (req, selected) = self.select_subscriptions(req, plan.clone()).await?;
        let now = inner.clock.now();
        let payload_text = req.payload.to_string();
        // Try the fast path: reserve a worker for each immediately-due invocation.
        let BuiltEvent {
            event,
            response,
            secrets,
        } = build_event(
            &req,
            &plan,
            &selected,
            payload_text,
            now,
            Some(now.plus(inner.config.lease)),
            &inner.config.secrets,
        );
        match self.commit(event).await? {
            PublishResult::Created => Ok(Published {
                response,
                duplicate: false,
                secrets,
            }),
            PublishResult::Duplicate { response } => Ok(Published {
                response: serde_json::from_str(&response).unwrap_or_default(),
                duplicate: true,
                secrets: Vec::new(),
            }),
        }
    }

    /// Stops claiming and publishing, waits (bounded) for deliveries in flight and for their
    /// results to be written.
    pub async fn shutdown(&self, grace: Duration) {
        let inner = &self.inner;
        let _ = inner.stopping.send(true);
        inner.wake.notify_one();
        let all = inner.config.concurrency as u32;
        let _ = tokio::time::timeout(grace, inner.permits.acquire_many(all)).await;
        // Let the writer flush what the last workers sent (bounded: anything unwritten is
        // still leased in the store and will be delivered again after a restart).
        for _ in 0..100 {
            if inner.unrecorded.load(Ordering::SeqCst) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
