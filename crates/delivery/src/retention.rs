//! Retention: a background purger that keeps the database bounded. Every `interval` the node
//! holding the `retention` maintenance lease (one node of a PostgreSQL cluster; the only node on
//! SQLite) deletes attempt-log entries older than `attempts` and events older than `events`
//! (with their invocations and attempts, once none of those is live) in batches, each its own
//! short transaction. A batch's row count is not what holds writers up, its time is: a batch of
//! a thousand events with a fan-out of twenty deletes forty thousand rows. So the background
//! pass sizes its batches to take about `batch_time` each (at most `batch` rows per table) and
//! rests at least as long as the last batch took (and at least `pause`) before the next: the
//! purge never has more than half of the writer, and a publish waits at most about one batch.
//! A pass goes on until a batch comes back short, renewing its lease as it goes.
//! `switchyard prune` runs the same pass once, offline, in full batches without pauses.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
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
    /// How long one batch's transaction should take; the background pass sizes its batches to it.
    pub batch_time: Duration,
    /// Shortest pause between two batches of a pass (the pause is at least the last batch's time).
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
            batch_time: Duration::from_millis(20),
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
    /// Batches run, the microseconds their transactions took in all, and the longest one: how
    /// long the purge held the writer.
    batches: AtomicU64,
    batch_micros: AtomicU64,
    longest_batch_micros: AtomicU64,
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

    /// Counts a batch that took `took`.
    pub fn batch_took(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.batch_micros.fetch_add(micros, Ordering::Relaxed);
        self.longest_batch_micros
            .fetch_max(micros, Ordering::Relaxed);
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
        let seconds = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "# HELP switchyard_purge_batch_seconds Time purge batches held their transaction.\n# TYPE switchyard_purge_batch_seconds summary\nswitchyard_purge_batch_seconds_sum {}\nswitchyard_purge_batch_seconds_count {}",
            seconds(&self.batch_micros),
            self.batches.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_purge_batch_longest_seconds The longest purge batch this node ran.\n# TYPE switchyard_purge_batch_longest_seconds gauge\nswitchyard_purge_batch_longest_seconds {}",
            seconds(&self.longest_batch_micros)
        );
        out.push_str("# HELP switchyard_expunged_events_total Events whose data was erased on request.\n# TYPE switchyard_expunged_events_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_expunged_events_total {}",
            self.expunged.load(Ordering::Relaxed)
        );
    }
}

/// How a pass goes from batch to batch: how many rows the next one may delete and what happens
/// after each (pausing, renewing the lease; false stops the pass early).
pub trait Pacer {
    /// Rows per table the next batch may delete, `max` at most.
    fn limit(&self, max: u32) -> u32;
    /// Called after every batch but the last, with how long its transaction took.
    fn after_batch(&mut self, took: Duration) -> impl std::future::Future<Output = bool> + Send;
}

/// Full batches, no pause (`switchyard prune`: nothing else is running).
pub struct NoPause;

impl Pacer for NoPause {
    fn limit(&self, max: u32) -> u32 {
        max
    }

    async fn after_batch(&mut self, _took: Duration) -> bool {
        true
    }
}

/// Sizes batches so each takes about `target`: after a batch that overran, the next is scaled
/// down in proportion (to a quarter at most at once, so one slow batch — a checkpoint, a
/// neighbour's burst — does not collapse it); after one that took under half the target, the
/// next doubles. Always 1 to `max` rows.
#[derive(Debug, Clone)]
pub struct BatchSizer {
    size: u32,
    max: u32,
    target: Duration,
}

impl BatchSizer {
    /// Starts small: the first batch of a pass is cheap whatever the rows cost.
    pub fn new(max: u32, target: Duration) -> Self {
        Self {
            size: max.clamp(1, 100),
            max: max.max(1),
            target,
        }
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    /// Learns from a batch of the current size that took `took`.
    pub fn observe(&mut self, took: Duration) {
        let target = self.target.as_secs_f64().max(1e-6);
        let took = took.as_secs_f64();
        let next = if took > target {
            (f64::from(self.size) * (target / took).max(0.25)).floor()
        } else if took < target / 2.0 {
            f64::from(self.size) * 2.0
        } else {
            f64::from(self.size)
        };
        self.size = (next as u32).clamp(1, self.max);
    }
}

/// One purge pass: attempts, then events, then ended FIFO lines, each in batches until one comes
/// back short.
pub async fn purge_pass(
    store: &dyn Store,
    policy: &RetentionPolicy,
    now: Timestamp,
    metrics: &RetentionMetrics,
    pacer: &mut impl Pacer,
) -> StoreResult<Purged> {
    let mut total = Purged::default();
    if let Some(age) = policy.attempts {
        let before = cutoff(now, age);
        loop {
            let limit = pacer.limit(policy.batch);
            let started = Instant::now();
            let p = store.purge_attempts(before, limit).await?;
            metrics.batch_took(started.elapsed());
            metrics.purged(&p);
            total.add(p);
            let full = p.attempts >= u64::from(limit) || p.call_attempts >= u64::from(limit);
            if !full || !pacer.after_batch(started.elapsed()).await {
                break;
            }
        }
    }
    if let Some(age) = policy.events {
        let before = cutoff(now, age);
        loop {
            let limit = pacer.limit(policy.batch);
            let started = Instant::now();
            let p = store.purge_events(before, limit).await?;
            metrics.batch_took(started.elapsed());
            metrics.purged(&p);
            total.add(p);
            let full = p.events >= u64::from(limit) || p.calls >= u64::from(limit);
            if !full || !pacer.after_batch(started.elapsed()).await {
                break;
            }
        }
    }
    // FIFO lines whose newest invocation has ended are forgotten, so the table of line tails
    // stays as small as the keys in use (a new event of such a key starts a new line).
    loop {
        let limit = pacer.limit(policy.batch);
        let started = Instant::now();
        let swept = store.sweep_ordering_tails(limit).await?;
        metrics.batch_took(started.elapsed());
        if (swept as u64) < u64::from(limit) || !pacer.after_batch(started.elapsed()).await {
            break;
        }
    }
    metrics.passes.fetch_add(1, Ordering::Relaxed);
    Ok(total)
}

/// The background pass's pacing: batches sized to `batch_time`, a rest after each at least as
/// long as it took, the lease renewed once a third of it has passed, and a stop as soon as the
/// server stops or the lease was lost.
struct Paced {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    holder: String,
    ttl: Duration,
    pause: Duration,
    sizer: BatchSizer,
    renewed: Timestamp,
    stopping: watch::Receiver<bool>,
}

impl Pacer for Paced {
    fn limit(&self, _max: u32) -> u32 {
        self.sizer.size()
    }

    async fn after_batch(&mut self, took: Duration) -> bool {
        self.sizer.observe(took);
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
            _ = tokio::time::sleep(self.pause.max(took)) => !*self.stopping.borrow(),
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
                    sizer: BatchSizer::new(policy.batch, policy.batch_time),
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
    fn batches_shrink_to_the_target_and_grow_back() {
        let ms = Duration::from_millis;
        let mut b = BatchSizer::new(1000, ms(20));
        assert_eq!(b.size(), 100, "starts small");
        b.observe(ms(5));
        assert_eq!(b.size(), 200, "under half the target: doubles");
        b.observe(ms(40));
        assert_eq!(b.size(), 100, "twice the target: halves");
        b.observe(ms(2000));
        assert_eq!(b.size(), 25, "a hundred times over: a quarter at once");
        b.observe(ms(15));
        assert_eq!(b.size(), 25, "within the target: stays");
        for _ in 0..10 {
            b.observe(ms(1));
        }
        assert_eq!(b.size(), 1000, "never beyond the maximum");
        for _ in 0..20 {
            b.observe(ms(1000));
        }
        assert_eq!(b.size(), 1, "never below one row");
        b.observe(ms(0));
        assert_eq!(b.size(), 2);
        assert_eq!(
            BatchSizer::new(10, ms(20)).size(),
            10,
            "a small maximum holds"
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
        m.batch_took(Duration::from_millis(30));
        m.batch_took(Duration::from_millis(10));
        let mut text = String::new();
        m.render(&mut text);
        assert!(text.contains("switchyard_purged_rows_total{table=\"attempts\"} 5"));
        assert!(text.contains("switchyard_purged_rows_total{table=\"call_attempts\"} 1"));
        assert!(text.contains("switchyard_expunged_events_total 1"));
        assert!(text.contains("switchyard_purge_batch_seconds_count 2"));
        assert!(text.contains("switchyard_purge_batch_seconds_sum 0.04"));
        assert!(text.contains("switchyard_purge_batch_longest_seconds 0.03"));
    }
}
