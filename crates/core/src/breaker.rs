//! The per-target circuit breaker (the answer to zitadel#8205: one broken target on `request.all`
//! with interruptOnError must not brick every call). Pure state machine: the caller passes the
//! current time, so the rules are tested with plain numbers and every node computes the same.
//!
//! closed --N consecutive failures--> open --cool-down elapsed--> half-open (one probe)
//! half-open --probe succeeds--> closed; half-open --probe fails--> open (cool-down again).

use crate::{Timestamp, ValidationError};
use std::time::Duration;

/// When a breaker opens and how long it stays open. Built only through [`BreakerPolicy::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerPolicy {
    failures: u32,
    cooldown: Duration,
}

impl BreakerPolicy {
    /// `failures` consecutive failures open the circuit for `cooldown`. `failures` must be at
    /// least 1 and `cooldown` positive.
    pub fn new(failures: u32, cooldown: Duration) -> Result<Self, ValidationError> {
        if failures == 0 {
            return Err(ValidationError::new(
                "breaker_failures",
                "must be at least 1",
            ));
        }
        if cooldown.is_zero() {
            return Err(ValidationError::new(
                "breaker_cooldown",
                "must be longer than zero",
            ));
        }
        Ok(Self { failures, cooldown })
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn cooldown(&self) -> Duration {
        self.cooldown
    }
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self {
            failures: 5,
            cooldown: Duration::from_secs(30),
        }
    }
}

/// The externally visible state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    /// The cool-down is over: the next call is let through as a probe (or is in flight).
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Whether a call may go to the target now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Closed: call normally.
    Allowed,
    /// Half-open: this call is the one probe; its result decides.
    Probe,
    /// Open (or a probe is already in flight): do not call before `retry_at`.
    Rejected { retry_at: Timestamp },
}

/// A snapshot for the health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    pub opened_at: Option<Timestamp>,
    pub retry_at: Option<Timestamp>,
}

/// One target's breaker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breaker {
    consecutive_failures: u32,
    opened_at: Option<Timestamp>,
    /// When the current probe was let through; a probe that never reports (a crashed task)
    /// stops blocking after one more cool-down.
    probe_since: Option<Timestamp>,
}

impl Breaker {
    /// Asks to call the target at `now`; a `Probe` answer marks the probe as in flight.
    pub fn admit(&mut self, policy: &BreakerPolicy, now: Timestamp) -> Admission {
        let Some(opened) = self.opened_at else {
            return Admission::Allowed;
        };
        let retry_at = opened.plus(policy.cooldown);
        if now < retry_at {
            return Admission::Rejected { retry_at };
        }
        match self.probe_since {
            Some(p) if now < p.plus(policy.cooldown) => Admission::Rejected {
                retry_at: p.plus(policy.cooldown),
            },
            _ => {
                self.probe_since = Some(now);
                Admission::Probe
            }
        }
    }

    /// Records the result of a call admitted at some earlier point.
    pub fn record(&mut self, policy: &BreakerPolicy, success: bool, now: Timestamp) {
        if success {
            *self = Breaker::default();
            return;
        }
        self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        let probing = self.probe_since.take().is_some();
        if probing || self.opened_at.is_some() || self.consecutive_failures >= policy.failures {
            self.opened_at = Some(now);
        }
    }

    /// True when nothing distinguishes this breaker from a fresh one (it can be forgotten).
    pub fn is_pristine(&self) -> bool {
        *self == Breaker::default()
    }

    pub fn snapshot(&self, policy: &BreakerPolicy, now: Timestamp) -> BreakerSnapshot {
        let retry_at = self.opened_at.map(|o| o.plus(policy.cooldown));
        let state = match retry_at {
            None => BreakerState::Closed,
            Some(r) if now < r => BreakerState::Open,
            Some(_) => BreakerState::HalfOpen,
        };
        BreakerSnapshot {
            state,
            consecutive_failures: self.consecutive_failures,
            opened_at: self.opened_at,
            retry_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> BreakerPolicy {
        BreakerPolicy::new(3, Duration::from_millis(1000)).unwrap()
    }

    fn t(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    #[test]
    fn policy_rejects_nonsense() {
        assert_eq!(
            BreakerPolicy::new(0, Duration::from_secs(1))
                .unwrap_err()
                .field,
            "breaker_failures"
        );
        assert_eq!(
            BreakerPolicy::new(1, Duration::ZERO).unwrap_err().field,
            "breaker_cooldown"
        );
    }

    #[test]
    fn opens_after_n_consecutive_failures_only() {
        let p = policy();
        let mut b = Breaker::default();
        b.record(&p, false, t(0));
        b.record(&p, false, t(1));
        b.record(&p, true, t(2)); // a success resets the run
        b.record(&p, false, t(3));
        b.record(&p, false, t(4));
        assert_eq!(b.admit(&p, t(5)), Admission::Allowed);
        assert_eq!(b.snapshot(&p, t(5)).state, BreakerState::Closed);
        b.record(&p, false, t(10));
        let s = b.snapshot(&p, t(11));
        assert_eq!(s.state, BreakerState::Open);
        assert_eq!(s.consecutive_failures, 3);
        assert_eq!(s.opened_at, Some(t(10)));
        assert_eq!(s.retry_at, Some(t(1010)));
        assert_eq!(
            b.admit(&p, t(500)),
            Admission::Rejected { retry_at: t(1010) }
        );
    }

    #[test]
    fn one_probe_after_the_cooldown_and_success_closes() {
        let p = policy();
        let mut b = Breaker::default();
        for i in 0..3 {
            b.record(&p, false, t(i));
        }
        assert_eq!(b.snapshot(&p, t(1002)).state, BreakerState::HalfOpen);
        assert_eq!(b.admit(&p, t(1002)), Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(b.admit(&p, t(1003)), Admission::Rejected { .. }));
        b.record(&p, true, t(1004));
        assert_eq!(b.snapshot(&p, t(1004)).state, BreakerState::Closed);
        assert_eq!(b.admit(&p, t(1005)), Admission::Allowed);
        assert!(b.is_pristine());
    }

    #[test]
    fn failed_probe_reopens_for_another_cooldown() {
        let p = policy();
        let mut b = Breaker::default();
        for i in 0..3 {
            b.record(&p, false, t(i));
        }
        assert_eq!(b.admit(&p, t(2000)), Admission::Probe);
        b.record(&p, false, t(2100));
        let s = b.snapshot(&p, t(2100));
        assert_eq!(s.state, BreakerState::Open);
        assert_eq!(s.consecutive_failures, 4);
        assert_eq!(s.retry_at, Some(t(3100)));
        assert_eq!(
            b.admit(&p, t(3000)),
            Admission::Rejected { retry_at: t(3100) }
        );
        assert_eq!(b.admit(&p, t(3100)), Admission::Probe);
    }

    #[test]
    fn a_lost_probe_does_not_block_forever() {
        let p = policy();
        let mut b = Breaker::default();
        for i in 0..3 {
            b.record(&p, false, t(i));
        }
        assert_eq!(b.admit(&p, t(1500)), Admission::Probe);
        assert!(matches!(b.admit(&p, t(2000)), Admission::Rejected { .. }));
        assert_eq!(b.admit(&p, t(2500)), Admission::Probe);
    }
}
