//! When to try again. A schedule lists the waits between tries (default 5s, 30s, 2m, 10m, 30m,
//! 1h, 3h, 6h, 12h, 24h: eleven tries over about two days); each wait gets ±20 % jitter so that a
//! recovering receiver is not hit by a synchronized wave. A receiver's `Retry-After` is honoured
//! within bounds, so it can slow us down but cannot park a delivery forever.

use std::time::Duration;

/// Waits between consecutive tries. `waits.len() + 1` tries in total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

/// Longest `Retry-After` we honour.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

impl Default for RetrySchedule {
    fn default() -> Self {
        let s = |n| Duration::from_secs(n);
        Self {
            waits: vec![
                s(5),
                s(30),
                s(120),
                s(600),
                s(1800),
                s(3600),
                s(3 * 3600),
                s(6 * 3600),
                s(12 * 3600),
                s(24 * 3600),
            ],
        }
    }
}

impl RetrySchedule {
    pub fn new(waits: Vec<Duration>) -> Self {
        Self { waits }
    }

    /// Parses `"1s,2s,5s"` (units ms, s, m, h, d). An empty string means: never retry.
    pub fn parse(list: &str) -> Result<Self, String> {
        let list = list.trim();
        if list.is_empty() {
            return Ok(Self { waits: vec![] });
        }
        list.split(',')
            .map(crate::duration::parse_human)
            .collect::<Result<Vec<_>, _>>()
            .map(Self::new)
    }

    pub fn waits(&self) -> &[Duration] {
        &self.waits
    }

    /// Total number of tries, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.waits.len() as u32 + 1
    }

    /// The wait before try number `attempts_done + 1`, or `None` when no tries are left.
    /// `jitter` is a number in [0, 1) (0.5 = no jitter), mapped to ±20 %. `retry_after` from the
    /// receiver wins when longer than the scheduled wait, capped at [`MAX_RETRY_AFTER`].
    pub fn next_wait(
        &self,
        attempts_done: u32,
        jitter: f64,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let base = *self.waits.get(attempts_done.checked_sub(1)? as usize)?;
        let factor = 0.8 + 0.4 * jitter.clamp(0.0, 1.0);
        let jittered = Duration::from_secs_f64(base.as_secs_f64() * factor);
        Some(match retry_after {
            Some(ra) if ra > jittered => ra.min(MAX_RETRY_AFTER),
            _ => jittered,
        })
    }
}

/// Parses a `Retry-After` header: delta-seconds only (an HTTP date is treated as absent).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_has_eleven_tries() {
        let s = RetrySchedule::default();
        assert_eq!(s.max_attempts(), 11);
        assert_eq!(s.next_wait(1, 0.5, None), Some(Duration::from_secs(5)));
        assert_eq!(s.next_wait(10, 0.5, None), Some(Duration::from_secs(86400)));
        assert_eq!(s.next_wait(11, 0.5, None), None);
        assert_eq!(s.next_wait(0, 0.5, None), None);
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let s = RetrySchedule::parse("10s").unwrap();
        assert_eq!(s.next_wait(1, 0.0, None), Some(Duration::from_secs(8)));
        assert_eq!(s.next_wait(1, 0.999_999_9, None).unwrap().as_secs(), 11);
        assert!(s.next_wait(1, 0.9999, None).unwrap() <= Duration::from_secs(12));
    }

    #[test]
    fn retry_after_extends_but_is_bounded() {
        let s = RetrySchedule::parse("1s,2s").unwrap();
        assert_eq!(
            s.next_wait(1, 0.5, Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            s.next_wait(1, 0.5, Some(Duration::from_millis(10))),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            s.next_wait(1, 0.5, Some(Duration::from_secs(10 * 86400))),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn parses_lists_and_rejects_garbage() {
        assert_eq!(RetrySchedule::parse("1s,2s,5s").unwrap().max_attempts(), 4);
        assert_eq!(RetrySchedule::parse("").unwrap().max_attempts(), 1);
        assert!(RetrySchedule::parse("1s,x").is_err());
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
