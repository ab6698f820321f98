//! The deadline sweeper: request-response invocations that reach their deadline without an
//! output fail with "invocation timed out". Deadlines are persisted, so the sweeper catches up
//! after a restart; it sleeps until the next deadline (woken early when a new invocation is
//! created) and never longer than the poll interval, so deadlines set by other nodes are seen.

use crate::waiters::Waiters;
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::Clock;
use switchyard_store::Store;
use tokio::sync::{watch, Notify};

/// Most invocations expired per statement.
const BATCH: u32 = 500;
/// Shortest sleep between sweeps (keeps a clock skew from spinning the loop).
const MIN_SLEEP: Duration = Duration::from_millis(5);

/// Runs until `stopping` turns true.
pub async fn sweep_loop(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    waiters: Arc<Waiters>,
    wake: Arc<Notify>,
    mut stopping: watch::Receiver<bool>,
    poll: Duration,
) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let now = clock.now();
        match store.expire_due(now, BATCH).await {
            Ok(ids) => {
                if !ids.is_empty() {
                    tracing::info!(n = ids.len(), "request-response invocations timed out");
                    waiters.signal(ids.iter().map(String::as_str));
                }
                if ids.len() == BATCH as usize {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "expiring invocations failed; will retry"),
        }
        let sleep = match store.next_deadline().await {
            Ok(Some(t)) => {
                let ms = (t.millis() - clock.now().millis()).max(0) as u64;
                Duration::from_millis(ms).clamp(MIN_SLEEP, poll.max(MIN_SLEEP))
            }
            _ => poll,
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = stopping.changed() => {}
        }
    }
}
