//! How long `POST /v1/invocations` may block for its invocations to end: an ISO-8601 duration
//! of at most [`InvocationWait::MAX`], so a request cannot hold a connection (and a waiter)
//! arbitrarily long.

use crate::duration::parse_iso8601;
use crate::ValidationError;
use std::time::Duration;

/// A valid `wait` (0 to 60 seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvocationWait(Duration);

impl InvocationWait {
    /// The longest wait a caller may ask for.
    pub const MAX: Duration = Duration::from_secs(60);

    /// Parses field `wait`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let d = parse_iso8601(s).map_err(|e| ValidationError::new("wait", e))?;
        if d > Self::MAX {
            return Err(ValidationError::new("wait", "must be at most PT60S"));
        }
        Ok(Self(d))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(
            InvocationWait::parse("PT5S").unwrap().duration(),
            Duration::from_secs(5)
        );
        assert!(InvocationWait::parse("PT60S").is_ok());
        assert!(InvocationWait::parse("PT61S").is_err());
        assert!(InvocationWait::parse("PT1H").is_err());
        assert!(InvocationWait::parse("5s").is_err());
    }
}
