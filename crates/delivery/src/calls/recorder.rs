//! Writes call records without making the caller wait: finished calls go into a channel and one
//! task group-commits whatever has accumulated (many calls per transaction). A store error keeps
//! the batch and retries with backoff; [`Recorder::flush`] lets shutdown wait (bounded) for
//! records still in flight.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use switchyard_core::InstanceId;
use switchyard_store::calls::{CallAttempt, CallRecord};
use switchyard_store::Store;
use tokio::sync::mpsc;

/// Largest batch per transaction.
const MAX_BATCH: usize = 512;

enum Item {
    Call(CallRecord),
    /// Late attempts of a call (restAsync results).
    Attempts(InstanceId, String, Vec<CallAttempt>),
}

/// Handle to the writer task.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::UnboundedSender<Item>,
    pending: Arc<AtomicUsize>,
}

impl Recorder {
    /// Spawns the writer.
    pub fn spawn(store: Arc<dyn Store>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_loop(store, rx, pending.clone()));
        Self { tx, pending }
    }

    pub fn call(&self, record: CallRecord) {
        self.send(Item::Call(record));
    }

    pub fn attempts(&self, instance: InstanceId, call_id: String, attempts: Vec<CallAttempt>) {
        self.send(Item::Attempts(instance, call_id, attempts));
    }

    fn send(&self, item: Item) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(item).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("call recorder stopped; a call record was dropped");
        }
    }

    /// Waits until everything sent so far is written, at most `grace`.
    pub async fn flush(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while self.pending.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn write_loop(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Item>,
    pending: Arc<AtomicUsize>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(i) => batch.push(i),
                Err(_) => break,
            }
        }
        let calls: Vec<CallRecord> = batch
            .iter()
            .filter_map(|i| match i {
                Item::Call(c) => Some(c.clone()),
                Item::Attempts(..) => None,
            })
            .collect();
        let mut backoff = Duration::from_millis(50);
        loop {
            match write(&*store, &calls, &batch).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, n = batch.len(), "recording calls failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        pending.fetch_sub(batch.len(), Ordering::SeqCst);
        batch.clear();
    }
}

async fn write(
    store: &dyn Store,
    calls: &[CallRecord],
    batch: &[Item],
) -> switchyard_store::StoreResult<()> {
    store.record_calls(calls).await?;
    for item in batch {
        if let Item::Attempts(instance, id, attempts) = item {
            store.record_call_attempts(instance, id, attempts).await?;
        }
    }
    Ok(())
}
