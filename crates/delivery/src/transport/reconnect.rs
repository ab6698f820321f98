//! Reconnect pacing for the broker transports that keep their own connections (RabbitMQ, MQTT).
//! After a failed connection attempt to a server, sends to it fail at once with the last error
//! until the next attempt is due (exponential backoff, capped), so a broker that is down costs
//! each delivery nothing but a failed attempt on its own schedule, and is not hammered by every
//! worker that has a message for it.

use super::SendError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FIRST_WAIT: Duration = Duration::from_millis(200);
/// Kept short: a broker that is back is used again within this.
const MAX_WAIT: Duration = Duration::from_secs(3);

struct Down {
    failures: u32,
    until: Instant,
    error: String,
}

/// Failed servers and when each may be tried again.
#[derive(Default)]
pub(crate) struct Reconnects {
    down: Mutex<HashMap<String, Down>>,
}

impl Reconnects {
    /// `Err` with the last connection error while `server`'s next attempt is not yet due.
    pub fn check(&self, server: &str) -> Result<(), SendError> {
        let down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        match down.get(server) {
            Some(d) if d.until > Instant::now() => Err(SendError::Failed(format!(
                "{} (next connection attempt in {} ms)",
                d.error,
                d.until
                    .saturating_duration_since(Instant::now())
                    .as_millis()
            ))),
            _ => Ok(()),
        }
    }

    /// Records a failed connection attempt; returns how long until the next one.
    pub fn failed(&self, server: &str, error: &SendError) -> Duration {
        let mut down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        let d = down.entry(server.to_string()).or_insert(Down {
            failures: 0,
            until: Instant::now(),
            error: String::new(),
        });
        d.failures = d.failures.saturating_add(1);
        let wait = backoff(d.failures);
        d.until = Instant::now() + wait;
        d.error = error.to_string();
        wait
    }

    pub fn succeeded(&self, server: &str) {
        self.down
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(server);
    }
}

/// The wait after `failures` consecutive failed attempts.
pub(crate) fn backoff(failures: u32) -> Duration {
    FIRST_WAIT
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
        .min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap_and_fail_fast_meanwhile() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(5), MAX_WAIT);
        assert_eq!(backoff(u32::MAX), MAX_WAIT);
        let r = Reconnects::default();
        assert!(r.check("h:1").is_ok());
        r.failed("h:1", &SendError::Failed("connection refused".into()));
        let e = r.check("h:1").unwrap_err().to_string();
        assert!(
            e.starts_with("connection refused (next connection attempt in"),
            "{e}"
        );
        assert!(r.check("h:2").is_ok());
        r.succeeded("h:1");
        assert!(r.check("h:1").is_ok());
    }
}
