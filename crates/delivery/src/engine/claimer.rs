//! The claimer: moves due work from the durable queue to free workers. It is in one of two
//! states. While the queue may hold due work (the last claim came back full), it waits for
//! capacity — a worker finishing wakes it at once — and claims as many invocations as there are
//! free workers. Once a claim comes back short, the queue holds nothing due, and it sleeps until
//! the next known due time or until someone makes work due (a publish that did not fit the fast
//! path, a retry, a released chain member, a replay, another node's NOTIFY).
//!
//! Waking for every single freed worker would cost one claim transaction per delivery while a
//! backlog drains, so after the first free worker the claimer gathers more for a moment
//! ([`GATHER_WINDOW`]) before it claims; with a fast receiver the batch fills at once, with a slow
//! one a worker waits at most that long.

use super::Engine;
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit};

/// How long the claimer waits for more workers to free up before claiming for fewer than
/// [`Engine::claim_batch_floor`] of them.
pub(super) const GATHER_WINDOW: Duration = Duration::from_millis(2);

impl Engine {
    pub(super) async fn claim_loop(self) {
        let inner = &self.inner;
        let mut stopping = inner.stopping.subscribe();
        // At start the queue may hold work left from before (a restart, other nodes' backlog).
        let mut maybe_due = true;
        loop {
            if *stopping.borrow() {
                return;
            }
            if !maybe_due {
                let sleep = self.sleep_until_due().await;
                tokio::select! {
                    _ = inner.wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                    _ = stopping.changed() => {}
                }
                if *stopping.borrow() {
                    return;
                }
            }
            let Some(mut permits) = self.free_workers(&mut stopping).await else {
                return;
            };
            let capacity = permits.num_permits();
            let now = inner.clock.now();
            match inner
                .store
                .claim_due(now, now.plus(inner.config.lease), capacity as u32)
                .await
            {
                Ok(jobs) => {
                    maybe_due = jobs.len() == capacity;
                    for job in jobs {
                        match permits.split(1) {
                            Some(permit) => {
                                tokio::spawn(self.clone().deliver(job, permit));
                            }
                            // The store never returns more than asked; should it, the extra job
                            // stays leased and comes back when its lease expires.
                            None => tracing::error!("claim returned more invocations than asked"),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming due deliveries failed; will retry");
                    maybe_due = false;
                }
            }
            // Unused permits go back when `permits` drops here.
        }
    }

    /// Waits for at least one free worker, then reserves as many free workers as a claim may
    /// take; `None` when the engine stops meanwhile.
    async fn free_workers(
        &self,
        stopping: &mut watch::Receiver<bool>,
    ) -> Option<OwnedSemaphorePermit> {
        let inner = &self.inner;
        let most = inner.config.max_batch.min(inner.config.concurrency).max(1);
        let mut permits = tokio::select! {
            p = inner.permits.clone().acquire_owned() => p.ok()?,
            _ = stopping.changed() => return None,
        };
        let floor = self.claim_batch_floor().min(most);
        if permits.num_permits() + inner.permits.available_permits() < floor {
            let missing = (floor - permits.num_permits()) as u32;
            if let Ok(Ok(more)) = tokio::time::timeout(
                GATHER_WINDOW,
                inner.permits.clone().acquire_many_owned(missing),
            )
            .await
            {
                permits.merge(more);
            }
        }
        let extra = inner
            .permits
            .available_permits()
            .min(most.saturating_sub(permits.num_permits()));
        if extra > 0 {
            if let Ok(more) = inner.permits.clone().try_acquire_many_owned(extra as u32) {
                permits.merge(more);
            }
        }
        Some(permits)
    }

    /// The claim size worth gathering for: an eighth of the workers, at least one.
    fn claim_batch_floor(&self) -> usize {
        (self.inner.config.concurrency / 8).max(1)
    }

    /// How long the claimer may sleep: until the next known due time, at most the poll interval
    /// (the fallback for leases that expire on other nodes' work).
    async fn sleep_until_due(&self) -> Duration {
        let inner = &self.inner;
        let cap = inner.config.poll_interval;
        match inner.store.next_due_at().await {
            Ok(Some(t)) => {
                let ms = (t.millis() - inner.clock.now().millis()).max(0) as u64;
                Duration::from_millis(ms).min(cap)
            }
            _ => cap,
        }
    }
}
