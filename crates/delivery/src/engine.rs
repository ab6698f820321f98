//! The engine: one handle shared by the API (publishing) and the background tasks (claiming,
//! delivering, recording). Worker capacity is a semaphore: a publish that finds free permits
//! leases its invocations at once and hands them to workers from memory; otherwise they wait in
//! the durable queue and the claimer leases them as capacity frees up. Results are recorded by a
//! group-committing writer, so a worker never waits on the database.

mod enqueue;
mod select;

use crate::batch::GroupCommit;
use crate::metrics::{DeliveryOutcome, Metrics};
use crate::outcome::{describe, next_step, parked_wait, request_response_step, ResponseRules};
use crate::publish::{
    build_event, check_event_id, check_payload, immediately_due, BuiltEvent, PublishError,
    PublishRequest, Published,
};
use crate::request::{self, Prepared};
use crate::routing::{BodyStyle, Destination, Routing};
use crate::sender::{Response, Sender};
use crate::waiters::Waiters;
use rand::Rng;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::crypto::InvocationSecrets;
use switchyard_core::netguard::OutboundPolicy;
use switchyard_core::retry::RetrySchedule;
use switchyard_core::sailpoint::DispatchMode;
use switchyard_core::{Clock, InstanceId};
use switchyard_store::queue::{
    AttemptRecord, Claimed, InitialState, InvocationKind, InvocationOutcome, NewEvent, NextStep,
    Outcome, PublishResult, TIMED_OUT,
};
use switchyard_store::Store;
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};

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
    /// Which addresses deliveries may reach.
    pub outbound: Arc<OutboundPolicy>,
    /// Public base URL of the server: request-response callbacks go to
    /// `{callback_base}/trigger-invocations/v1/{id}/complete`.
    pub callback_base: String,
    /// Derives invocation secrets (bound to the master key in production).
    pub secrets: InvocationSecrets,
    /// Work one subscription filter may do on one event, in budget units (see
    /// [`switchyard_core::jsonpath::Budget`]); a filter that needs more does not match.
    pub filter_budget: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            lease: Duration::from_secs(330),
            schedule: RetrySchedule::default(),
            max_batch: 512,
            poll_interval: Duration::from_secs(5),
            outbound: Arc::new(OutboundPolicy::default()),
            callback_base: "http://127.0.0.1:8080".into(),
            secrets: InvocationSecrets::random(),
            filter_budget: switchyard_core::jsonpath::DEFAULT_BUDGET,
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
    sender: Sender,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    permits: Arc<Semaphore>,
    wake: Notify,
    publisher: GroupCommit<NewEvent, PublishResult>,
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
        let sender = Sender::new(config.concurrency, config.outbound.clone())?;
        let writer_store = store.clone();
        let publisher = GroupCommit::spawn(config.max_batch, move |batch: Vec<NewEvent>| {
            let store = writer_store.clone();
            async move { store.publish(&batch).await }
        });
        let (outcomes, outcome_rx) = mpsc::unbounded_channel();
        let (stopping, _) = watch::channel(false);
        let engine = Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(config.concurrency)),
                store,
                routing,
                sender,
                clock,
                config,
                wake: Notify::new(),
                publisher,
                outcomes,
                metrics: Metrics::default(),
                stopping,
                unrecorded: AtomicUsize::new(0),
                waiters: Arc::new(Waiters::default()),
                deadline_wake: Arc::new(Notify::new()),
                filter_slots: Semaphore::new(
                    std::thread::available_parallelism().map_or(2, |n| n.get()),
                ),
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
        tokio::spawn(engine.clone().claim_loop());
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

    /// The pooled, outbound-protected HTTP client, shared with synchronous calls.
    pub(crate) fn sender(&self) -> &Sender {
        &self.inner.sender
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

    /// Commits an event with its invocations (group commit) and starts its due deliveries: from
    /// memory when workers are free right now (the invocations were written leased to this node),
    /// else through the durable queue (written pending; the claimer is woken).
    async fn commit(&self, mut event: NewEvent) -> Result<PublishResult, PublishError> {
        let inner = &self.inner;
        let has_deadlines = event.invocations.iter().any(|i| i.deadline_at.is_some());
        let due = immediately_due(&event);
        let permits = match u32::try_from(due) {
            Ok(n) if n > 0 => inner.permits.clone().try_acquire_many_owned(n).ok(),
            _ => None,
        };
        if permits.is_none() {
            for inv in &mut event.invocations {
                if matches!(inv.state, InitialState::Leased(_)) {
                    inv.state = InitialState::Pending;
                }
            }
        }
        let jobs = permits.as_ref().map(|_| fast_path_jobs(&event));
        let invocations = event.invocations.len();
        let result = match inner.publisher.submit(event).await {
            Ok(r) => r,
            Err(crate::batch::CommitError::Closed) => return Err(PublishError::Unavailable),
            Err(e) => return Err(PublishError::Store(e.to_string())),
        };
        if result == PublishResult::Created {
            inner.metrics.accepted(invocations);
            if has_deadlines {
                inner.deadline_wake.notify_one();
            }
            match (jobs, permits) {
                (Some(jobs), Some(mut permits)) => {
                    for job in jobs {
                        let permit = permits.split(1).expect("one permit per due invocation");
                        tokio::spawn(self.clone().deliver(job, permit));
                    }
                }
                _ if due > 0 => inner.wake.notify_one(),
                _ => {}
            }
        }
        Ok(result)
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

    async fn claim_loop(self) {
        let inner = &self.inner;
        let mut stopping = inner.stopping.subscribe();
        loop {
            if *stopping.borrow() {
                return;
            }
            let capacity = inner
                .permits
                .available_permits()
                .min(inner.config.max_batch);
            let mut claimed_full = false;
            if capacity > 0 {
                let now = inner.clock.now();
                match inner
                    .store
                    .claim_due(now, now.plus(inner.config.lease), capacity as u32)
                    .await
                {
                    Ok(jobs) => {
                        claimed_full = jobs.len() == capacity;
                        for job in jobs {
                            match inner.permits.clone().try_acquire_owned() {
                                Ok(permit) => {
                                    tokio::spawn(self.clone().deliver(job, permit));
                                }
                                Err(_) => {
                                    // Capacity went to the fast path meanwhile; wait for a slot.
                                    let permit = match inner.permits.clone().acquire_owned().await {
                                        Ok(p) => p,
                                        Err(_) => return,
                                    };
                                    tokio::spawn(self.clone().deliver(job, permit));
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "claiming due deliveries failed; will retry")
                    }
                }
            }
            if claimed_full {
                continue;
            }
            let sleep = self.sleep_until_due().await;
            tokio::select! {
                _ = inner.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    /// How long the claimer may sleep: until the next known due time, at most the poll interval.
    async fn sleep_until_due(&self) -> Duration {
        let inner = &self.inner;
        let cap = inner.config.poll_interval;
        if inner.permits.available_permits() == 0 {
            return cap;
        }
        match inner.store.next_due_at().await {
            Ok(Some(t)) => {
                let ms = (t.millis() - inner.clock.now().millis()).max(0) as u64;
                Duration::from_millis(ms).min(cap)
            }
            _ => cap,
        }
    }

    /// Delivers one invocation and hands the outcome to the writer.
    async fn deliver(self, job: Claimed, _permit: OwnedSemaphorePermit) {
        let inner = &self.inner;
        let n = job.attempts_done + 1;
        let round_n = job.round_attempts + 1;
        let started = inner.clock.now();
        let jitter: f64 = rand::thread_rng().gen();
        let dest = inner
            .routing
            .destination(&job.instance, job.route_kind, &job.route_id)
            .await;
        let mut parked = false;
        let (attempt, next) = match dest {
            Ok(Some(dest)) => match dest.as_ref() {
                Destination::Http {
                    url,
                    timeout,
                    authorization,
                    signing,
                    body,
                    dispatch,
                } => {
                    // Request-response: the invocation carries its deadline; nothing is sent
                    // after it, and no request may outlive it.
                    let rr = job.deadline_at.map(|deadline| {
                        let meta = request::ResponseMeta {
                            mode: dispatch.unwrap_or(DispatchMode::Sync),
                            callback_url: format!(
                                "{}/trigger-invocations/v1/{}/complete",
                                inner.config.callback_base.trim_end_matches('/'),
                                job.id
                            ),
                            secret: inner.config.secrets.secret(&job.id),
                        };
                        (deadline, meta)
                    });
                    if rr.as_ref().is_some_and(|(d, _)| started >= *d) {
                        let attempt = failed_attempt(n, started, TIMED_OUT);
                        let next = NextStep::Failed(TIMED_OUT.into());
                        let label = DeliveryOutcome::of(&next);
                        return self.finish(job, attempt, next, label);
                    }
                    let style = match (&rr, *body) {
                        (Some(_), BodyStyle::SailPointFireAndForget) => {
                            BodyStyle::SailPointRequestResponse
                        }
                        (_, style) => style,
                    };
                    // A restAsync target of a call chain gets the call's body as built then.
                    let body = if job.kind == InvocationKind::Call {
                        job.payload.clone().into_bytes()
                    } else {
                        request::body(&job, style, rr.as_ref().map(|(_, m)| m))
                    };
                    let headers = request::headers(
                        &job,
                        &body,
                        signing,
                        authorization.as_deref(),
                        started.unix_seconds(),
                    );
                    let prepared = Prepared { body, headers };
                    let recorded = prepared.recorded_headers();
                    let timeout = match &rr {
                        Some((deadline, _)) => (*timeout).min(Duration::from_millis(
                            (deadline.millis() - started.millis()).max(1) as u64,
                        )),
                        None => *timeout,
                    };
                    let resp: Response = inner
                        .sender
                        .post(url, &prepared.headers, prepared.body, timeout)
                        .await;
                    inner.metrics.latency(resp.duration);
                    let next = match &rr {
                        Some((deadline, meta)) => {
                            let plan = inner.routing.plan(&job.instance, &job.event_type).await;
                            let validator = plan.ok().and_then(|p| p.output_validator.clone());
                            let rules = ResponseRules {
                                mode: meta.mode,
                                validate_output: validator.as_ref(),
                                deadline: *deadline,
                            };
                            request_response_step(
                                &resp,
                                &rules,
                                round_n,
                                &inner.config.schedule,
                                inner.clock.now(),
                                jitter,
                            )
                        }
                        None => next_step(
                            &resp,
                            round_n,
                            &inner.config.schedule,
                            inner.clock.now(),
                            jitter,
                        ),
                    };
                    let answered = resp.error.is_none()
                        && resp.status.is_some_and(|s| (200..300).contains(&s));
                    let error = match &next {
                        NextStep::Delivered
                        | NextStep::Completed(_)
                        | NextStep::AwaitingCallback => None,
                        // An answer that arrived but did not do (invalid output): say why.
                        NextStep::Failed(m) if answered => Some(m.clone()),
                        _ => Some(describe(&resp)),
                    };
                    (
                        AttemptRecord {
                            n,
                            at: started,
                            request_headers: recorded,
                            status: resp.status,
                            duration_ms: resp.duration.as_millis() as u64,
                            response_excerpt: resp.excerpt(),
                            error,
                        },
                        next,
                    )
                }
                Destination::EventBridge { .. } => {
                    let wait = parked_wait(&inner.config.schedule, round_n, jitter);
                    parked = true;
                    (
                        failed_attempt(
                            n,
                            started,
                            "EventBridge delivery not configured; the invocation stays queued",
                        ),
                        NextStep::RetryAt(started.plus(wait)),
                    )
                }
            },
            Ok(None) => (
                failed_attempt(n, started, "the route no longer exists or was disabled"),
                NextStep::Failed("the route no longer exists or was disabled".into()),
            ),
            Err(e) => {
                // Could not even look the route up (store trouble): try again soon.
                let wait = parked_wait(&inner.config.schedule, round_n, jitter);
                (
                    failed_attempt(n, started, &format!("route lookup failed: {e}")),
                    NextStep::RetryAt(started.plus(wait)),
                )
            }
        };
        let label = if parked {
            DeliveryOutcome::Parked
        } else {
            DeliveryOutcome::of(&next)
        };
        self.finish(job, attempt, next, label);
    }

    /// Counts the outcome and hands it to the writer.
    fn finish(&self, job: Claimed, attempt: AttemptRecord, next: NextStep, label: DeliveryOutcome) {
        let inner = &self.inner;
        inner.metrics.outcome(label);
        if let NextStep::FailedDisableRoute(_) = &next {
            inner.routing.invalidate(&job.instance);
        }
        inner.unrecorded.fetch_add(1, Ordering::SeqCst);
        let _ = inner.outcomes.send(Outcome {
            invocation_id: job.id,
            instance: job.instance,
            route_kind: job.route_kind,
            route_id: job.route_id,
            attempt,
            next,
            at: inner.clock.now(),
        });
    }

    /// Writes outcomes in batches; on a store error keeps them and tries again (a lease that
    /// expires meanwhile only causes a redelivery, never a loss).
    async fn record_loop(self, mut rx: mpsc::UnboundedReceiver<Outcome>) {
        let inner = &self.inner;
        let mut batch = Vec::with_capacity(inner.config.max_batch);
        while let Some(first) = rx.recv().await {
            batch.push(first);
            while batch.len() < inner.config.max_batch {
                match rx.try_recv() {
                    Ok(o) => batch.push(o),
                    Err(_) => break,
                }
            }
            let mut backoff = Duration::from_millis(50);
            loop {
                match inner.store.record_outcomes(&batch).await {
                    Ok(released) => {
                        inner.unrecorded.fetch_sub(batch.len(), Ordering::SeqCst);
                        inner.waiters.signal(
                            batch
                                .iter()
                                .filter(|o| o.next.is_terminal())
                                .map(|o| o.invocation_id.as_str()),
                        );
                        let retries = batch.iter().any(|o| matches!(o.next, NextStep::RetryAt(_)));
                        if released > 0 || retries {
                            inner.wake.notify_one();
                        }
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, n = batch.len(), "recording delivery outcomes failed; retrying");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                    }
                }
            }
            batch.clear();
        }
    }
}

fn failed_attempt(n: u32, at: switchyard_core::Timestamp, error: &str) -> AttemptRecord {
    AttemptRecord {
        n,
        at,
        request_headers: serde_json::json!({}),
        status: None,
        duration_ms: 0,
        response_excerpt: None,
        error: Some(error.to_string()),
    }
}

/// The invocations of a just-accepted event that this node delivers itself.
fn fast_path_jobs(ev: &NewEvent) -> Vec<Claimed> {
    ev.invocations
        .iter()
        .filter(|i| matches!(i.state, InitialState::Leased(_)))
        .map(|i| Claimed {
            id: i.id.clone(),
            instance: ev.instance.clone(),
            event_id: ev.id.clone(),
            event_type: ev.event_type.clone(),
            payload: ev.payload.clone(),
            event_created_at: ev.created_at,
            route_kind: i.route_kind,
            route_id: i.route_id.clone(),
            kind: ev.kind,
            attempts_done: 0,
            round_attempts: 0,
            deadline_at: i.deadline_at,
        })
        .collect()
}
