//! In-process notifications of ended invocations, keyed by invocation id, so that
//! `POST /v1/invocations` with `wait` sleeps until one of its invocations ends instead of
//! polling. The engine signals after it commits a terminal state (delivery outcomes, callbacks,
//! the deadline sweep); a waiter re-reads the store when signalled and, as a bounded fallback
//! for changes made by another node, every few hundred milliseconds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Registered waiters by invocation id.
#[derive(Default)]
pub struct Waiters {
    by_id: Mutex<HashMap<String, Vec<Arc<Notify>>>>,
}

impl Waiters {
    /// Registers interest in `ids`; the registration is removed when dropped.
    pub fn register(self: &Arc<Self>, ids: &[String]) -> Registration {
        let notify = Arc::new(Notify::new());
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            map.entry(id.clone()).or_default().push(notify.clone());
        }
        Registration {
            waiters: self.clone(),
            ids: ids.to_vec(),
            notify,
        }
    }

    /// Wakes everyone waiting for one of `ids` (their state changed for good).
    pub fn signal<'a>(&self, ids: impl IntoIterator<Item = &'a str>) {
        let map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        if map.is_empty() {
            return;
        }
        for id in ids {
            for n in map.get(id).into_iter().flatten() {
                // notify_one keeps a permit when the waiter is between checks: no lost wakeup.
                n.notify_one();
            }
        }
    }

    fn unregister(&self, ids: &[String], notify: &Arc<Notify>) {
        let mut map = self.by_id.lock().unwrap_or_else(|e| e.into_inner());
        for id in ids {
            if let Some(list) = map.get_mut(id) {
                list.retain(|n| !Arc::ptr_eq(n, notify));
                if list.is_empty() {
                    map.remove(id);
                }
            }
        }
    }
}

/// One waiter's interest in a set of invocations.
pub struct Registration {
    waiters: Arc<Waiters>,
    ids: Vec<String>,
    notify: Arc<Notify>,
}

impl Registration {
    /// Resolves once one of the registered invocations was signalled since the last call.
    pub async fn notified(&self) {
        self.notify.notified().await
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.waiters.unregister(&self.ids, &self.notify);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn signals_reach_registered_waiters_and_registrations_clean_up() {
        let w = Arc::new(Waiters::default());
        let reg = w.register(&["a".into(), "b".into()]);
        w.signal(["x"]);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), reg.notified())
                .await
                .is_err(),
            "an unrelated id must not wake the waiter"
        );
        // Signalled before the waiter awaits: the permit is kept.
        w.signal(["b"]);
        tokio::time::timeout(Duration::from_millis(200), reg.notified())
            .await
            .expect("woken");
        drop(reg);
        assert!(w.by_id.lock().unwrap().is_empty());
    }
}
