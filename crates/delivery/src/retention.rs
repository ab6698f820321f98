//! Retention: a background purger that keeps the database bounded. Every `interval` the node
//! holding the `retention` maintenance lease (one node of a PostgreSQL cluster; the only node on
//! SQLite) deletes attempt-log entries older than `attempts` and events older than `events`
//! (with their invocations and attempts, once none of those is live) in batches of at most
//! `batch` rows per table, each its own short transaction, pausing `pause` between batches so
//! publishes and outcome writes are never queued behind the purge for long. A pass goes on until
//! a batch comes back short, renewing its lease as it goes. `switchyard prune` runs the same
//! pass once, without pauses, offline.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::{Clock, Timestamp};
use switchyard_store::retention::Purged;
use switchyard_store::{Store, StoreResult};
use tokio::sync::watch;

/// Name of the maintenance lease the purging node holds.
const LEASE: &str = "retention";

/// How long history is kept and how the purge paces itself.
#[derive(Debug, Clone, PartialEq)]
pub struct RetentionPolicy {
    /// Age after which attempt-log entries (and call attempts) are purged; `None` keeps them.
    pub attempts: Option<Duration>,
    /// Age after which ended events (and call records) are purged; `None` keeps them.
    pub events: Option<Duration>,
    /// Most rows one batch deletes from each table.
    pub batch: u32,
    /// Pause between two batches of a pass.
    pub pause: Duration,
    /// Time between passes.
    pub interval: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            attempts: Some(Duration::from_secs(30 * 86_400)),
            events: Some(Duration::from_secs(30 * 86_400)),
            batch: 1000,
            pause: Duration::from_millis(20),
            interval: Duration::from_secs(60),
        }
    }
}

impl RetentionPolicy {
    /// How long a lease lasts without renewal: another node takes over this long after the
    /// purging node died.
    fn lease_ttl(&self) -> Duration {
        (self.interval * 3).max(Duration::from_secs(30))
    }
}

/// Rows purged and events expunged, for `/metrics`.
#[derive(Debug, Default)]
pub struct RetentionMetrics {
    purged: [AtomicU64; 5],
    expunged: AtomicU64,
    passes: AtomicU64,
}

const TABLES: [&str; 5] = [
    "events",
    "invocations",
    "attempts",
    "calls",
    "call_attempts",
];

impl RetentionMetrics {
    /// Counts a purge batch.
    pub fn purged(&self, p: &Purged) {
        let counts = [
            p.events,
            p.invocations,
            p.attempts,
            p.calls,
            p.call_attempts,
        ];
        for (slot, n) in self.purged.iter().zip(counts) {
            slot.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Counts an expunged event.
    pub fn expunged(&self) {
        self.expunged.fetch_add(1, Ordering::Relaxed);
    }

    /// Appends the retention metrics in Prometheus text format.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP switchyard_purged_rows_total Rows deleted by the retention purge, by table.\n# TYPE switchyard_purged_rows_total counter\n");
        for (table, n) in TABLES.iter().zip(&self.purged) {
            let _ = writeln!(
                out,
                "switchyard_purged_rows_total{{table=\"{table}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP switchyard_retention_passes_total Purge passes this node ran (holding the retention lease).\n# TYPE switchyard_retention_passes_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_retention_passes_total {}",
            self.passes.load(Ordering::Relaxed)
        );
        out.push_str("# HELP switchyard_expunged_events_total Events whose data was erased on request.\n# TYPE switchyard_expunged_events_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_expunged_events_total {}",
            self.expunged.load(Ordering::Relaxed)
        );
    }
}

/// What happens between two batches of a pass: pausing, renewing the lease. False stops the
/// pass early.
pub trait Between {
    fn between(&mut self) -> impl std::future::Future<Output = bool> + Send;
}

/// No pause (`switchyard prune`: nothing else is running).
pub struct NoPause;

impl Between for NoPause {
    async fn between(&mut self) -> bool {
        true
    }
}

/// One purge pass: attempts, then events, then ended FIFO lines, each in batches until one comes
/// back short.
pub async fn purge_pass(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: Timestamp,
    metrics: &RetentionMetrics,
    pacer: &mut impl Between,
) -> StoreResult<Purged> {
    let mut total = Purged::default();
    let limit = u64::from(policy.batch);
    if let Some(age) = policy.attempts {
        let before = cutoff(now, age);
        loop {
            let p = store.purge_attempts(before, policy.batch).await?;
            metrics.purged(&p);
            total.add(p);
            if p.attempts < limit && p.call_attempts < limit || !pacer.between().await {
                break;
            }
        }
    }
    if let Some(age) = policy.events {
        let before = cutoff(now, age);
        loop {
            let p = store.purge_events(before, policy.batch).await?;
            metrics.purged(&p);
            total.add(p);
            if p.events < limit && p.calls < limit || !pacer.between().await {
                break;
            }
        }
    }
    // FIFO lines whose newest invocation has ended are forgotten, so the table of line tails
    // stays as small as the keys in use (a new event of such a key starts a new line).
    loop {
        let swept = store.sweep_ordering_tails(policy.batch).await?;
        if (swept as u64) < limit || !pacer.between().await {
            break;
        }
    }
    metrics.passes.fetch_add(1, Ordering::Relaxed);
    Ok(total)
}

/// The background pass's pacing: a pause between batches, the lease renewed once a third of it
/// has passed, and a stop as soon as the server stops or the lease was lost.
struct Paced {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    holder: String,
    ttl: Duration,
    pause: Duration,
    renewed: Timestamp,
    stopping: watch::Receiver<bool>,
}

impl Between for Paced {
    async fn between(&mut self) -> bool {
        let now = self.clock.now();
        let third = i64::try_from(self.ttl.as_millis() / 3).unwrap_or(i64::MAX);
        if now.millis() - self.renewed.millis() > third {
            match self
                .store
                .take_lease(LEASE, &self.holder, now, now.plus(self.ttl))
                .await
            {
                Ok(true) => self.renewed = now,
                Ok(false) => return false,
                Err(e) => {
                    tracing::warn!(error = %e, "renewing the retention lease failed");
                    return false;
                }
            }
        }
        if *self.stopping.borrow() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(self.pause) => !*self.stopping.borrow(),
            _ = self.stopping.changed() => false,
        }
    }
}

fn cutoff(now: Timestamp, age: Duration) -> Timestamp {
    let age = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
    Timestamp(now.millis().saturating_sub(age))
}

/// Handle on the background purger; cheap to clone.
#[derive(Clone)]
pub struct Retention {
    metrics: Arc<RetentionMetrics>,
    stopping: Arc<watch::Sender<bool>>,
    /// The purge task, awaited by [`Retention::stop`] so it can hand its lease back.
    task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Retention {
    /// Starts the purger (nothing runs when the policy keeps everything).
    pub fn start(store: Arc<dyn Store>, clock: Arc<dyn Clock>, policy: RetentionPolicy) -> Self {
        let (stopping, stop_rx) = watch::channel(false);
        let handle = Self {
            metrics: Arc::new(RetentionMetrics::default()),
            stopping: Arc::new(stopping),
            task: Arc::default(),
        };
        if policy.attempts.is_some() || policy.events.is_some() {
            let task = tokio::spawn(purge_loop(
                store,
                clock,
                policy,
                handle.metrics.clone(),
                stop_rx,
            ));
            *handle.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        }
        handle
    }

    pub fn metrics(&self) -> &RetentionMetrics {
        &self.metrics
    }

    /// Stops the purger after its current batch and waits (a few seconds at most) until it has
    /// handed its lease back.
    pub async fn stop(&self) {
        let _ = self.stopping.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

async fn purge_loop(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    policy: RetentionPolicy,
    metrics: Arc<RetentionMetrics>,
    mut stopping: watch::Receiver<bool>,
) {
    let holder = switchyard_core::ids::hex_id();
    let ttl = policy.lease_ttl();
    loop {
        if *stopping.borrow() {
            // Hand the lease back (if it is still ours): another node, or `switchyard prune`
            // right after this server stopped, may purge at once instead of after its TTL.
            let now = clock.now();
            let _ = store.take_lease(LEASE, &holder, now, now).await;
            return;
        }
        let now = clock.now();
        match store.take_lease(LEASE, &holder, now, now.plus(ttl)).await {
            Ok(true) => {
                let mut pacer = Paced {
                    store: store.clone(),
                    clock: clock.clone(),
                    holder: holder.clone(),
                    ttl,
                    pause: policy.pause,
                    renewed: now,
                    stopping: stopping.clone(),
                };
                match purge_pass(store.as_ref(), &policy, now, &metrics, &mut pacer).await {
                    Ok(p) if p.total() > 0 => tracing::info!(
                        events = p.events,
                        invocations = p.invocations,
                        attempts = p.attempts,
                        calls = p.calls,
                        call_attempts = p.call_attempts,
                        "retention purge"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "retention purge failed; will retry"),
                }
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "retention lease unavailable; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(policy.interval) => {}
            // Stopped, or every handle dropped (the server is gone).
            r = stopping.changed() => if r.is_err() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_saturates() {
        assert_eq!(
            cutoff(Timestamp(10_000), Duration::from_secs(3)),
            Timestamp(7_000)
        );
        assert_eq!(
            cutoff(Timestamp(10), Duration::MAX),
            Timestamp(10 - i64::MAX)
        );
    }

    #[test]
    fn metrics_count_by_table() {
        let m = RetentionMetrics::default();
        m.purged(&Purged {
            events: 2,
            invocations: 3,
            attempts: 5,
            calls: 0,
            call_attempts: 1,
        });
        m.expunged();
        let mut text = String::new();
        m.render(&mut text);
        assert!(text.contains("switchyard_purged_rows_total{table=\"attempts\"} 5"));
        assert!(text.contains("switchyard_purged_rows_total{table=\"call_attempts\"} 1"));
        assert!(text.contains("switchyard_expunged_events_total 1"));
    }
}
