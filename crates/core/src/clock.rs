//! Time as the domain sees it: millisecond timestamps and an injectable clock, so that retry,
//! lease and deadline logic can be tested without sleeping.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, UTC. Stored as-is in every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    pub fn plus(self, d: std::time::Duration) -> Self {
        self.plus_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// RFC 3339 in UTC in proto3 JSON's canonical form (what ZITADEL's gateway writes and strict
    /// proto3 parsers require): no fraction on a whole second, otherwise exactly three digits,
    /// e.g. `2026-11-22T10:00:00Z`, `2026-11-22T10:00:00.200Z`.
    pub fn rfc3339(self) -> String {
        let dt = OffsetDateTime::from_unix_timestamp(self.unix_seconds())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let millis = self.0.rem_euclid(1000);
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        if millis != 0 {
            out.push_str(&format!(".{millis:03}"));
        }
        out.push('Z');
        out
    }

    /// Parses an RFC 3339 timestamp (any offset) into UTC milliseconds.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
        i64::try_from(dt.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Self)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Source of the current time. Production uses [`SystemClock`]; tests use [`ManualClock`].
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(t.0)))
    }

    pub fn advance_millis(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// On the wire a timestamp is RFC 3339 UTC text.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_is_utc_millis() {
        let t = Timestamp(1_700_000_000_123);
        assert_eq!(t.rfc3339(), "2023-11-14T22:13:20.123Z");
        let tenths = Timestamp::from_millis(1_700_000_000_200);
        assert_eq!(tenths.rfc3339(), "2023-11-14T22:13:20.200Z");
        assert_eq!(Timestamp::parse_rfc3339(&tenths.rfc3339()), Some(tenths));
        let whole = Timestamp::from_millis(1_700_000_000_000);
        assert_eq!(whole.rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(Timestamp::parse_rfc3339(&whole.rfc3339()), Some(whole));
        assert_eq!(
            Timestamp::from_millis(-1).rfc3339(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse_rfc3339("2023-11-14T23:13:20.123+01:00"),
            Some(t)
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::at(Timestamp(10));
        assert_eq!(c.now(), Timestamp(10));
        c.advance_millis(5);
        assert_eq!(c.now(), Timestamp(15));
    }
}
