//! The outcome writer: results of attempts are group-committed in batches, so a worker never waits
//! on the database; after each commit it wakes whoever waits for the results.

use super::Engine;
use std::sync::atomic::Ordering;
use std::time::Duration;
use switchyard_store::queue::{NextStep, Outcome};
use tokio::sync::mpsc;

impl Engine {
    /// Writes outcomes in batches; on a store error keeps them and tries again (a lease that
    /// expires meanwhile only causes a redelivery, never a loss).
    pub(super) async fn record_loop(self, mut rx: mpsc::UnboundedReceiver<Outcome>) {
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
                        batch
                            .iter()
                            .for_each(super::failure_log::log_failed_attempt);
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
