//! Identifier generation. ZITADEL resources use decimal ids (as upstream does); SailPoint
//! resources use 32-hex-digit ids; invocations and events use time-ordered UUIDs so that
//! index order follows creation order.

use rand::Rng;
use std::sync::atomic::{AtomicU64, Ordering};

static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// An 18-digit decimal id in ZITADEL's style: milliseconds since 2020 followed by a counter and
/// random bits, so ids sort by creation time and never collide within a process.
pub fn zitadel_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
        .saturating_sub(1_577_836_800_000);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & 0x3ff;
    let rnd: u64 = rand::thread_rng().gen_range(0..0x3ff);
    let v = (ms << 20) | (seq << 10) | rnd;
    format!("{:018}", v % 1_000_000_000_000_000_000)
}

/// A SailPoint-style id: 32 lowercase hex digits (a v4 UUID without dashes).
pub fn hex_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A time-ordered UUID (v7), hyphenated; used for events and invocations.
pub fn ordered_uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zitadel_ids_are_18_digits_and_distinct() {
        let a = zitadel_id();
        let b = zitadel_id();
        assert_eq!(a.len(), 18);
        assert!(a.bytes().all(|c| c.is_ascii_digit()));
        assert_ne!(a, b);
    }

    #[test]
    fn hex_ids_are_32_hex_digits() {
        let id = hex_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
