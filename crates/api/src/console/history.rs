//! The last hour of the engine's counters, for the overview's charts. The store keeps no history
//! of them (Prometheus is the place for long history), so the console keeps an in-memory ring
//! buffer: one sample every [`PERIOD`] — queue depth by state from the store, delivery outcomes
//! and latency from the engine's counters — for the last [`KEEP`] samples. It starts with the
//! first overview a browser asks for (a server whose console is never opened pays nothing),
//! stops when the server's router is dropped, and is per node and lost on restart.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use switchyard_core::Clock;
use switchyard_delivery::metrics::{Snapshot, OUTCOME_LABELS};
use switchyard_delivery::Engine;
use switchyard_store::queue::InvocationStatus;
use switchyard_store::Store;

/// How often a sample is taken.
pub const PERIOD: Duration = Duration::from_secs(10);
/// Samples kept: one hour.
pub const KEEP: usize = 360;

/// One sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Unix milliseconds.
    pub at: i64,
    /// Live invocations by state (every non-final state, in [`InvocationStatus::ALL`] order).
    pub depth: Vec<(InvocationStatus, i64)>,
    pub counters: Snapshot,
}

pub struct History {
    engine: Engine,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    samples: Mutex<VecDeque<Sample>>,
    started: std::sync::Once,
}

impl History {
    pub fn new(engine: Engine, store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            engine,
            store,
            clock,
            samples: Mutex::new(VecDeque::with_capacity(KEEP)),
            started: std::sync::Once::new(),
        }
    }

    /// Starts sampling, once (the task holds only a weak reference, so it ends with the
    /// console).
    pub fn start(self: &Arc<Self>) {
        self.started.call_once(|| {
            let weak: Weak<History> = Arc::downgrade(self);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(PERIOD);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    let Some(history) = weak.upgrade() else { break };
                    let sample = history.sample().await;
                    history.push(sample);
                }
            });
        });
    }

    /// A sample of now (not kept).
    pub async fn sample(&self) -> Sample {
        let depth = match self.store.queue_depth().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "queue depth unavailable for the console");
                Vec::new()
            }
        };
        let depth = InvocationStatus::ALL
            .iter()
            .filter(|s| !s.is_final())
            .map(|s| {
                (
                    *s,
                    depth.iter().find(|(d, _)| d == s).map_or(0, |(_, n)| *n),
                )
            })
            .collect();
        Sample {
            at: self.clock.now().millis(),
            depth,
            counters: self.engine.metrics().snapshot(),
        }
    }

    fn push(&self, s: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() == KEEP {
            samples.pop_front();
        }
        samples.push_back(s);
    }

    /// The kept samples followed by `now`.
    pub fn with(&self, now: Sample) -> Vec<Sample> {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples
            .iter()
            .cloned()
            .chain(std::iter::once(now))
            .collect()
    }
}

/// The charts' series: x in Unix seconds; queue depth by state; deliveries per second by
/// outcome and mean latency in milliseconds over each interval between two samples.
pub fn series(samples: &[Sample]) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let t: Vec<f64> = samples.iter().map(|s| s.at as f64 / 1000.0).collect();
    let mut depth = Map::new();
    if let Some(first) = samples.first() {
        for (i, (state, _)) in first.depth.iter().enumerate() {
            let v: Vec<i64> = samples
                .iter()
                .map(|s| s.depth.get(i).map_or(0, |(_, n)| *n))
                .collect();
            depth.insert(state.as_str().to_string(), json!(v));
        }
    }
    let pairs: Vec<(&Sample, &Sample)> = samples.iter().zip(samples.iter().skip(1)).collect();
    let mut rate = Map::new();
    for (i, label) in OUTCOME_LABELS.iter().enumerate() {
        let v: Vec<Value> = std::iter::once(Value::Null)
            .chain(pairs.iter().map(|(a, b)| {
                let secs = (b.at - a.at) as f64 / 1000.0;
                let n = b.counters.outcomes[i].saturating_sub(a.counters.outcomes[i]);
                if secs > 0.0 {
                    json!((n as f64 / secs * 100.0).round() / 100.0)
                } else {
                    Value::Null
                }
            }))
            .collect();
        rate.insert((*label).to_string(), Value::Array(v));
    }
    let latency: Vec<Value> = std::iter::once(Value::Null)
        .chain(pairs.iter().map(|(a, b)| {
            let n = b
                .counters
                .latency_count
                .saturating_sub(a.counters.latency_count);
            let sum = b
                .counters
                .latency_sum_micros
                .saturating_sub(a.counters.latency_sum_micros);
            if n == 0 {
                Value::Null
            } else {
                json!((sum as f64 / n as f64 / 10.0).round() / 100.0)
            }
        }))
        .collect();
    json!({"t": t, "depth": depth, "rate": rate, "latencyMs": latency})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at: i64, delivered: u64, lat_n: u64, lat_sum: u64) -> Sample {
        let mut counters = Snapshot::default();
        counters.outcomes[0] = delivered;
        counters.latency_count = lat_n;
        counters.latency_sum_micros = lat_sum;
        Sample {
            at,
            depth: vec![(InvocationStatus::Pending, 3)],
            counters,
        }
    }

    #[test]
    fn rates_and_latency_are_per_interval() {
        let s = series(&[
            sample(0, 0, 0, 0),
            sample(10_000, 50, 50, 500_000),
            sample(20_000, 50, 50, 500_000),
        ]);
        assert_eq!(s["t"], serde_json::json!([0.0, 10.0, 20.0]));
        assert_eq!(s["rate"]["delivered"], serde_json::json!([null, 5.0, 0.0]));
        assert_eq!(s["latencyMs"], serde_json::json!([null, 10.0, null]));
        assert_eq!(s["depth"]["pending"], serde_json::json!([3, 3, 3]));
    }
}
