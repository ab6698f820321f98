//! Storage contract for route health, behind Switchyard's operator events: runs of consecutive
//! failed deliveries per route, shared by every node. The delivery engine reports what it saw of
//! each route since its last report ([`RouteObservation`], aggregated per route), and learns
//! what changed ([`HealthChange`]): a route that just reached the failing threshold, one that
//! recovered, one that failed for its whole auto-disable period (disabled in the same
//! transaction).

use crate::queue::RouteKind;
use crate::StoreResult;
use async_trait::async_trait;
use std::time::Duration;
use switchyard_core::{InstanceId, Timestamp};

/// One route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteKey {
    pub instance: InstanceId,
    pub kind: RouteKind,
    pub route_id: String,
}

/// What one node saw of a route's deliveries since its last report.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteObservation {
    pub route: RouteKey,
    /// The latest successful delivery, if any.
    pub succeeded_at: Option<Timestamp>,
    /// Failed attempts after that success (all of them when none succeeded).
    pub failures: u32,
    /// The first of those failures.
    pub first_failure_at: Option<Timestamp>,
    /// The last of those failures and why it failed.
    pub last_failure_at: Option<Timestamp>,
    pub last_error: Option<String>,
    /// Disable the route once it has been failing this long without a success.
    pub auto_disable_after: Option<Duration>,
}

impl RouteObservation {
    /// Nothing seen yet.
    pub fn new(route: RouteKey) -> Self {
        Self {
            route,
            succeeded_at: None,
            failures: 0,
            first_failure_at: None,
            last_failure_at: None,
            last_error: None,
            auto_disable_after: None,
        }
    }

    /// Adds a delivery that succeeded at `at` (the failures before it no longer count).
    pub fn success(&mut self, at: Timestamp) {
        self.succeeded_at = Some(at);
        self.failures = 0;
        self.first_failure_at = None;
        self.last_failure_at = None;
        self.last_error = None;
    }

    /// Adds an attempt that failed at `at`.
    pub fn failure(&mut self, at: Timestamp, error: &str) {
        self.failures += 1;
        self.first_failure_at.get_or_insert(at);
        self.last_failure_at = Some(at);
        self.last_error = Some(error.to_string());
    }
}

/// What a report changed.
#[derive(Debug, Clone, PartialEq)]
pub enum HealthChange {
    /// The route reached the failing threshold (reported once per run of failures).
    Failing {
        route: RouteKey,
        consecutive_failures: u64,
        failing_since: Timestamp,
        last_error: String,
    },
    /// A route reported failing delivered again.
    Recovered {
        route: RouteKey,
        failing_since: Timestamp,
        recovered_at: Timestamp,
        failures: u64,
    },
    /// The route failed without a success for its auto-disable period and is now disabled
    /// (its live invocations cancelled). Its health starts over.
    AutoDisabled {
        route: RouteKey,
        failing_since: Timestamp,
        disabled_at: Timestamp,
    },
}

#[async_trait]
pub trait RouteHealthStore {
    /// Applies `observations` (one per route); a route with `failing_after` or more failures in
    /// a row is reported failing.
    async fn observe_routes(
        &self,
        observations: &[RouteObservation],
        failing_after: u32,
    ) -> StoreResult<Vec<HealthChange>>;

    /// The route's current run of failures: (consecutive failures, failing since), or `None`
    /// while it is healthy.
    async fn route_health(&self, route: &RouteKey) -> StoreResult<Option<(u64, Timestamp)>>;
}
