//! Accepting an event: reserve free workers for its due invocations (the fast path), commit it in
//! a group commit, then hand the reserved invocations to workers straight from memory.
//!
//! The hand-off runs in the group-commit task right after the commit, not in the request
//! handler. A client that disconnects once its event is committed drops the handler's future,
//! and a hand-off done there would never happen: the invocations, written leased to this node,
//! would sit until their lease expired. Done by the writer, it happens whatever the client does.

use super::{Engine, Inner};
use crate::batch::{CommitError, GroupCommit};
use crate::publish::{immediately_due, PublishError};
use std::sync::{Arc, Weak};
use switchyard_store::queue::{Claimed, InitialState, NewEvent, PublishResult};
use switchyard_store::Store;
use tokio::sync::OwnedSemaphorePermit;

/// One event on its way into the store.
pub(super) struct Accept {
    pub event: NewEvent,
    /// One worker per invocation written leased to this node.
    pub reserved: Option<OwnedSemaphorePermit>,
}

pub(super) type Publisher = GroupCommit<Accept, PublishResult>;

/// Spawns the group-commit task that writes accepted events and hands them off.
pub(super) fn spawn_publisher(
    store: Arc<dyn Store>,
    max_batch: usize,
    engine: Weak<Inner>,
) -> Publisher {
    GroupCommit::spawn(max_batch, move |batch: Vec<Accept>| {
        let store = store.clone();
        let engine = engine.clone();
        async move {
            let (events, reserved): (Vec<NewEvent>, Vec<Option<OwnedSemaphorePermit>>) =
                batch.into_iter().map(|a| (a.event, a.reserved)).unzip();
            let results = store.publish(&events).await?;
            if let Some(inner) = engine.upgrade() {
                Engine { inner }.hand_off(events, reserved, &results);
            }
            Ok(results)
        }
    })
}

impl Engine {
    /// Commits an event with its invocations and starts its due deliveries: from memory for as
    /// many as there are free workers right now (those are written leased to this node), through
    /// the durable queue for the rest (written pending; the claimer is woken).
    pub(super) async fn commit(&self, mut event: NewEvent) -> Result<PublishResult, PublishError> {
        let inner = &self.inner;
        let reserved = self.reserve_workers(&mut event);
        let result = inner
            .publisher
            .submit(Accept { event, reserved })
            .await
            .map_err(|e| match e {
                CommitError::Closed => PublishError::Unavailable,
                CommitError::Store(e) => PublishError::Store(e.to_string()),
            })?;
        Ok(result)
    }

    /// Reserves free workers for the event's due invocations, as many as are free; the ones
    /// that got a worker stay `Leased` (built so by the caller), the others become `Pending`.
    fn reserve_workers(&self, event: &mut NewEvent) -> Option<OwnedSemaphorePermit> {
        let permits = &self.inner.permits;
        let due = if self.inner.config.paused {
            0
        } else {
            immediately_due(event)
        };
        let take = due.min(permits.available_permits());
        let reserved = u32::try_from(take)
            .ok()
            .filter(|n| *n > 0)
            .and_then(|n| permits.clone().try_acquire_many_owned(n).ok());
        let mut fast = reserved.as_ref().map_or(0, |p| p.num_permits());
        for inv in &mut event.invocations {
            if let InitialState::Leased(_) = inv.state {
                if fast > 0 {
                    fast -= 1;
                } else {
                    inv.state = InitialState::Pending;
                }
            }
        }
        reserved
    }

    /// After a commit: counts what was accepted, starts the reserved deliveries and wakes the
    /// claimer and the deadline sweeper for what went to the durable queue.
    fn hand_off(
        &self,
        events: Vec<NewEvent>,
        reserved: Vec<Option<OwnedSemaphorePermit>>,
        results: &[PublishResult],
    ) {
        let inner = &self.inner;
        let mut queued = false;
        let mut deadlines = false;
        for ((event, permits), result) in events.into_iter().zip(reserved).zip(results) {
            if *result != PublishResult::Created {
                continue; // nothing was written; the permits go back
            }
            inner.metrics.accepted(event.invocations.len());
            deadlines |= event.invocations.iter().any(|i| i.deadline_at.is_some());
            queued |= event
                .invocations
                .iter()
                .any(|i| i.state == InitialState::Pending);
            if let Some(mut permits) = permits {
                for job in fast_path_jobs(&event) {
                    match permits.split(1) {
                        Some(permit) => {
                            tokio::spawn(self.clone().deliver(job, permit));
                        }
                        None => break,
                    }
                }
            }
        }
        if queued {
            inner.wake.notify_one();
        }
        if deadlines {
            inner.deadline_wake.notify_one();
        }
    }
}

/// The invocations of a just-accepted event that this node delivers itself.
fn fast_path_jobs(ev: &NewEvent) -> impl Iterator<Item = Claimed> + '_ {
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
            cancel_reason: None,
            ordered: i.order_key.is_some(),
        })
}
