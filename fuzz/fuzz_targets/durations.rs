//! Durations and the schedules built from them: ISO-8601 (SailPoint), protobuf JSON (ZITADEL),
//! human (configuration), `Retry-After` (any receiver may send anything) and invocation waits.
//! Nothing may panic or overflow; what parses formats back to the same duration.

#![no_main]
use libfuzzer_sys::fuzz_target;
use switchyard_core::duration::{
    format_iso8601, format_proto, parse_human, parse_iso8601, parse_proto,
};
use switchyard_core::retry::{parse_retry_after, RetrySchedule};
use switchyard_core::wait::InvocationWait;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_iso8601(s) {
        let text = format_iso8601(d);
        assert_eq!(parse_iso8601(&text), Ok(d), "{s:?} -> {text:?}");
    }
    if let Ok(d) = parse_proto(s) {
        let text = format_proto(d);
        assert_eq!(parse_proto(&text), Ok(d), "{s:?} -> {text:?}");
    }
    let _ = parse_human(s);
    let _ = parse_retry_after(s);
    let _ = InvocationWait::parse(s);
    if let Ok(schedule) = RetrySchedule::parse(s) {
        for n in 1..=schedule.max_attempts().min(50) + 1 {
            let _ = schedule.next_wait(n, 0.999, parse_retry_after(s));
        }
    }
});
