//! Delivery metrics in Prometheus text format, kept in atomics so the hot path never locks.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use switchyard_store::queue::{DestinationKind, InvocationStatus};

/// The labels of `switchyard_deliveries_total`, in [`DeliveryOutcome`] order.
pub const OUTCOME_LABELS: [&str; 6] = [
    "delivered",
    "retried",
    "failed",
    "disabled",
    "parked",
    "cancelled",
];

const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Outcome labels of `switchyard_deliveries_total`.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryOutcome {
    Delivered,
    Retried,
    Failed,
    Disabled,
    Parked,
    Cancelled,
}

impl DeliveryOutcome {
    /// The label of a delivery that ended in `next` (EventBridge's parking is counted apart).
    pub fn of(next: &switchyard_store::queue::NextStep) -> Self {
        use switchyard_store::queue::NextStep;
        match next {
            NextStep::Delivered | NextStep::Completed(_) | NextStep::AwaitingCallback => {
                Self::Delivered
            }
            NextStep::RetryAt(_) => Self::Retried,
            NextStep::Failed(_) => Self::Failed,
            NextStep::FailedDisableRoute(_) => Self::Disabled,
            NextStep::Cancelled(_) => Self::Cancelled,
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    events_accepted: AtomicU64,
    invocations_created: AtomicU64,
    outcomes: [AtomicU64; 6],
    /// Attempts that went out through a transport, by its kind (in [`DestinationKind::ALL`]
    /// order) and outcome.
    by_transport: [[AtomicU64; 6]; 7],
    retries_scheduled: AtomicU64,
    latency_buckets: [AtomicU64; 14],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

/// The delivery counters at one moment (the console samples them for its charts).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// Attempts by outcome, in [`OUTCOME_LABELS`] order.
    pub outcomes: [u64; 6],
    pub latency_count: u64,
    pub latency_sum_micros: u64,
}

impl Metrics {
    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            outcomes: std::array::from_fn(|i| get(&self.outcomes[i])),
            latency_count: get(&self.latency_count),
            latency_sum_micros: get(&self.latency_sum_micros),
        }
    }

    pub fn accepted(&self, invocations: usize) {
        self.events_accepted.fetch_add(1, Ordering::Relaxed);
        self.invocations_created
            .fetch_add(invocations as u64, Ordering::Relaxed);
    }

    pub fn outcome(&self, o: DeliveryOutcome) {
        self.outcomes[o as usize].fetch_add(1, Ordering::Relaxed);
        if matches!(o, DeliveryOutcome::Retried) {
            self.retries_scheduled.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts an attempt that went out through `transport`.
    pub fn transport_outcome(&self, transport: DestinationKind, o: DeliveryOutcome) {
        let i = DestinationKind::ALL
            .iter()
            .position(|k| *k == transport)
            .unwrap_or(0);
        self.by_transport[i][o as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn latency(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }

    /// Renders every metric; `queue` is the current depth by state.
    pub fn render(&self, queue: &[(InvocationStatus, i64)]) -> String {
        let mut out = String::with_capacity(2048);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP switchyard_queue_depth Live invocations by state.\n# TYPE switchyard_queue_depth gauge\n");
        let live = InvocationStatus::ALL.iter().filter(|s| !s.is_final());
        for state in live {
            let n = queue
                .iter()
                .find(|(s, _)| s == state)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(out, "switchyard_queue_depth{{state=\"{state}\"}} {n}");
        }
        out.push_str("# HELP switchyard_events_accepted_total Events accepted by the producer API.\n# TYPE switchyard_events_accepted_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_events_accepted_total {}",
            get(&self.events_accepted)
        );
        out.push_str("# HELP switchyard_invocations_created_total Invocations created by fan-out.\n# TYPE switchyard_invocations_created_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_invocations_created_total {}",
            get(&self.invocations_created)
        );
        out.push_str("# HELP switchyard_deliveries_total Delivery attempts by outcome.\n# TYPE switchyard_deliveries_total counter\n");
        for (i, label) in OUTCOME_LABELS.iter().enumerate() {
            let _ = writeln!(
                out,
                "switchyard_deliveries_total{{outcome=\"{label}\"}} {}",
                get(&self.outcomes[i])
            );
        }
        out.push_str("# HELP switchyard_transport_deliveries_total Attempts sent through each kind of destination, by outcome.\n# TYPE switchyard_transport_deliveries_total counter\n");
        for (k, kind) in DestinationKind::ALL.iter().enumerate() {
            for (i, label) in OUTCOME_LABELS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "switchyard_transport_deliveries_total{{transport=\"{kind}\",outcome=\"{label}\"}} {}",
                    get(&self.by_transport[k][i])
                );
            }
        }
        out.push_str("# HELP switchyard_retries_scheduled_total Retries scheduled after a failed attempt.\n# TYPE switchyard_retries_scheduled_total counter\n");
        let _ = writeln!(
            out,
            "switchyard_retries_scheduled_total {}",
            get(&self.retries_scheduled)
        );
        out.push_str("# HELP switchyard_delivery_duration_seconds Time from sending a request to its answer.\n# TYPE switchyard_delivery_duration_seconds histogram\n");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "switchyard_delivery_duration_seconds_bucket{{le=\"{b}\"}} {}",
                get(&self.latency_buckets[i])
            );
        }
        let count = get(&self.latency_count);
        let _ = writeln!(
            out,
            "switchyard_delivery_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "switchyard_delivery_duration_seconds_sum {}",
            get(&self.latency_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "switchyard_delivery_duration_seconds_count {count}");
        out
    }
}
