//! Token-bucket arithmetic for per-client rate limits. A bucket holds up to `requests` tokens and
//! refills continuously at `requests / per`; each request takes one token. Pure: the caller passes
//! the current time, so the limiter's behaviour is tested without sleeping.

use crate::duration::parse_human;
use crate::ValidationError;
use std::fmt;
use std::time::Duration;

/// At most `requests` requests per `per` window (bursting up to `requests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    requests: u32,
    per_ms: u64,
}

impl RateLimit {
    /// Builds a limit; both parts must be positive and the window at most a day.
    pub fn new(requests: u32, per: Duration) -> Result<RateLimit, ValidationError> {
        if requests == 0 {
            return Err(ValidationError::new(
                "rate_limit.requests",
                "must be at least 1",
            ));
        }
        let per_ms = u64::try_from(per.as_millis()).unwrap_or(u64::MAX);
        if per_ms == 0 || per_ms > 86_400_000 {
            return Err(ValidationError::new(
                "rate_limit.per",
                "must be between 1ms and 1d",
            ));
        }
        Ok(RateLimit { requests, per_ms })
    }

    /// Parses the compact form `N/WINDOW`, e.g. `100/10s` or `5000/1m` (CLI flags).
    pub fn parse(s: &str) -> Result<RateLimit, ValidationError> {
        let rule = "must look like 100/10s (requests per window; units ms, s, m, h, d)";
        let (n, per) = s
            .split_once('/')
            .ok_or_else(|| ValidationError::new("rate_limit", rule))?;
        let requests: u32 = n
            .trim()
            .parse()
            .map_err(|_| ValidationError::new("rate_limit", rule))?;
        let per = parse_human(per).map_err(|e| ValidationError::new("rate_limit", e))?;
        RateLimit::new(requests, per)
    }

    pub fn requests(self) -> u32 {
        self.requests
    }

    pub fn per(self) -> Duration {
        Duration::from_millis(self.per_ms)
    }

    /// Tokens regained per millisecond.
    fn rate(self) -> f64 {
        f64::from(self.requests) / self.per_ms as f64
    }
}

impl fmt::Display for RateLimit {
    /// The compact form accepted by [`RateLimit::parse`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.per_ms.checked_rem(1000) == Some(0) {
            write!(f, "{}/{}s", self.requests, self.per_ms / 1000)
        } else {
            write!(f, "{}/{}ms", self.requests, self.per_ms)
        }
    }
}

/// One client's bucket. Times are unix milliseconds from the caller's clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

impl Bucket {
    /// A full bucket (a new client may burst up to the whole allowance).
    pub fn full(limit: RateLimit, now_ms: i64) -> Bucket {
        Bucket {
            tokens: f64::from(limit.requests),
            updated_ms: now_ms,
        }
    }

    /// Takes one token. On refusal returns how many whole seconds (at least 1) until one is
    /// available again, which is what `Retry-After` carries.
    pub fn take(&mut self, limit: RateLimit, now_ms: i64) -> Result<(), u64> {
        self.refill(limit, now_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait_ms = (1.0 - self.tokens) / limit.rate();
        let secs = (wait_ms / 1000.0).ceil() as u64;
        Err(secs.max(1))
    }

    /// True when the bucket would be full at `now_ms`: forgetting it changes nothing, so the
    /// limiter may evict it.
    pub fn is_idle(&self, limit: RateLimit, now_ms: i64) -> bool {
        let mut b = *self;
        b.refill(limit, now_ms);
        b.tokens >= f64::from(limit.requests)
    }

    fn refill(&mut self, limit: RateLimit, now_ms: i64) {
        // A clock that steps backwards must not drain or overfill the bucket.
        let elapsed = now_ms.saturating_sub(self.updated_ms).max(0) as f64;
        let cap = f64::from(limit.requests);
        self.tokens = (self.tokens + elapsed * limit.rate()).min(cap);
        self.updated_ms = self.updated_ms.max(now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(n: u32, secs: u64) -> RateLimit {
        RateLimit::new(n, Duration::from_secs(secs)).unwrap()
    }

    #[test]
    fn parse_and_display() {
        let l = RateLimit::parse("100/10s").unwrap();
        assert_eq!((l.requests(), l.per()), (100, Duration::from_secs(10)));
        assert_eq!(l.to_string(), "100/10s");
        assert_eq!(RateLimit::parse("5/250ms").unwrap().to_string(), "5/250ms");
        assert_eq!(
            RateLimit::parse("60/1m").unwrap().per(),
            Duration::from_secs(60)
        );
        for bad in ["100", "0/10s", "x/10s", "10/0s", "10/3y", "10/2d"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn bursts_up_to_the_allowance_then_refuses() {
        let l = limit(3, 3);
        let mut b = Bucket::full(l, 0);
        for _ in 0..3 {
            assert_eq!(b.take(l, 0), Ok(()));
        }
        // One token comes back per second.
        assert_eq!(b.take(l, 0), Err(1));
        assert_eq!(b.take(l, 999), Err(1));
        assert_eq!(b.take(l, 1000), Ok(()));
        assert_eq!(b.take(l, 1000), Err(1));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        // 100 per 10s: one token every 100ms, so the wait is under a second but reported as 1.
        let l = limit(100, 10);
        let mut b = Bucket::full(l, 0);
        for _ in 0..100 {
            b.take(l, 0).unwrap();
        }
        assert_eq!(b.take(l, 0), Err(1));
        // 1 per minute: the wait is a whole minute.
        let slow = limit(1, 60);
        let mut b = Bucket::full(slow, 0);
        b.take(slow, 0).unwrap();
        assert_eq!(b.take(slow, 0), Err(60));
        assert_eq!(b.take(slow, 30_000), Err(30));
    }

    #[test]
    fn refill_is_capped_and_survives_a_clock_step_back() {
        let l = limit(2, 2);
        let mut b = Bucket::full(l, 10_000);
        b.take(l, 10_000).unwrap();
        assert!(!b.is_idle(l, 10_000));
        assert!(b.is_idle(l, 11_000));
        // A long pause refills to the cap, not beyond it.
        b.take(l, 1_000_000).unwrap();
        b.take(l, 1_000_000).unwrap();
        assert!(b.take(l, 1_000_000).is_err());
        // The clock steps back: no tokens are created out of nothing.
        assert!(b.take(l, 500_000).is_err());
    }
}
