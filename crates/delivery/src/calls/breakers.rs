//! The runtime registry of circuit breakers, one per (instance, target). The state machine is
//! [`switchyard_core::breaker`]; this only keeps one per target behind a `std` mutex that is held
//! for a few comparisons, never across an await. Breakers are per node: each node protects its
//! own callers, which needs no coordination and is what a cut-off target calls for.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use switchyard_core::breaker::{Admission, Breaker, BreakerPolicy, BreakerSnapshot, BreakerState};
use switchyard_core::{Clock, InstanceId};

type Key = (InstanceId, String);

/// All breakers of this node.
pub struct Breakers {
    policy: BreakerPolicy,
    clock: Arc<dyn Clock>,
    map: Mutex<HashMap<Key, Breaker>>,
}

impl Breakers {
    pub fn new(policy: BreakerPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            policy,
            clock,
            map: Mutex::default(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<Key, Breaker>) -> R) -> R {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut map)
    }

    /// May `target` be called now? A closed breaker is not even stored, so the common case is
    /// one hash lookup.
    pub fn admit(&self, instance: &InstanceId, target: &str) -> Admission {
        let now = self.clock.now();
        self.with(|map| {
            // Nothing has failed anywhere: skip building the key.
            if map.is_empty() {
                return Admission::Allowed;
            }
            match map.get_mut(&(instance.clone(), target.to_string())) {
                Some(b) => b.admit(&self.policy, now),
                None => Admission::Allowed,
            }
        })
    }

    /// Records a call's result.
    pub fn record(&self, instance: &InstanceId, target: &str, success: bool) {
        let now = self.clock.now();
        self.with(|map| {
            // The common case: a success while nothing has failed needs no key.
            if success && map.is_empty() {
                return;
            }
            let key = (instance.clone(), target.to_string());
            if success {
                map.remove(&key);
                return;
            }
            let b = map.entry(key).or_default();
            b.record(&self.policy, false, now);
        })
    }

    /// The breaker's state (closed when never failed).
    pub fn snapshot(&self, instance: &InstanceId, target: &str) -> BreakerSnapshot {
        let now = self.clock.now();
        self.with(|map| {
            map.get(&(instance.clone(), target.to_string()))
                .cloned()
                .unwrap_or_default()
                .snapshot(&self.policy, now)
        })
    }

    /// Prometheus lines: one gauge per target whose circuit is not closed (so the label set is
    /// bounded by the number of broken targets) and the total of open circuits.
    pub fn render(&self, out: &mut String) {
        let now = self.clock.now();
        let open: Vec<(String, BreakerState)> = self.with(|map| {
            map.iter()
                .map(|((_, t), b)| (t.clone(), b.snapshot(&self.policy, now).state))
                .filter(|(_, s)| *s != BreakerState::Closed)
                .collect()
        });
        out.push_str("# HELP switchyard_target_circuit_open Targets whose circuit breaker is open (1) or half-open, awaiting a probe (0); closed circuits are not listed.\n# TYPE switchyard_target_circuit_open gauge\n");
        for (target, state) in &open {
            let v = u8::from(*state == BreakerState::Open);
            let _ = writeln!(
                out,
                "switchyard_target_circuit_open{{target=\"{target}\"}} {v}"
            );
        }
        out.push_str("# HELP switchyard_target_circuits_open Circuit breakers currently not closed.\n# TYPE switchyard_target_circuits_open gauge\n");
        let _ = writeln!(out, "switchyard_target_circuits_open {}", open.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use switchyard_core::clock::ManualClock;
    use switchyard_core::Timestamp;

    #[test]
    fn breakers_are_per_instance_and_target_and_render_only_open_ones() {
        let clock = ManualClock::at(Timestamp(1_000));
        let b = Breakers::new(
            BreakerPolicy::new(2, Duration::from_secs(10)).unwrap(),
            Arc::new(clock.clone()),
        );
        let (a, z) = (
            InstanceId::parse("a").unwrap(),
            InstanceId::parse("z").unwrap(),
        );
        b.record(&a, "t1", false);
        b.record(&a, "t1", false);
        b.record(&z, "t2", false);
        assert!(matches!(b.admit(&a, "t1"), Admission::Rejected { .. }));
        assert_eq!(b.admit(&z, "t1"), Admission::Allowed);
        assert_eq!(b.admit(&z, "t2"), Admission::Allowed);
        let mut out = String::new();
        b.render(&mut out);
        assert!(out.contains("switchyard_target_circuit_open{target=\"t1\"} 1"));
        assert!(!out.contains("target=\"t2\""));
        assert!(out.contains("switchyard_target_circuits_open 1"));
        clock.advance_millis(10_000);
        assert_eq!(b.snapshot(&a, "t1").state, BreakerState::HalfOpen);
        assert_eq!(b.admit(&a, "t1"), Admission::Probe);
        b.record(&a, "t1", true);
        assert_eq!(b.snapshot(&a, "t1").state, BreakerState::Closed);
        let mut out = String::new();
        b.render(&mut out);
        assert!(out.contains("switchyard_target_circuits_open 0"));
    }
}
