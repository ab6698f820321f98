//! The states and kinds of invocations and attempts, as closed enums. The database stores them as
//! text and the API shows them as text; each enum has exactly one spelling table (`as_str` and its
//! inverse `parse`), so no other code compares status strings, and a value that is not in the
//! table (a damaged row, a newer schema) is an error where it is read, never a silent default.

use serde::{Serialize, Serializer};

/// A stored or received text that names no variant of the enum it was read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} '{value}'")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

/// Declares a text-backed enum: the variants with their spellings, `as_str`, `parse`, `ALL`,
/// `Display` and `Serialize` (as the spelling), all from the one table.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and shown spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Inverse of [`Self::as_str`]; any other text is an [`UnknownValue`].
            pub fn parse(text: &str) -> Result<Self, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { what: $what, value: text.to_string() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Where an invocation is in its life:
    /// `waiting → pending → in_flight → delivered | failed`, and for request-response
    /// `in_flight → awaiting_callback → completed | failed` (a deadline that passes fails it);
    /// any live state may end `cancelled`.
    pub enum InvocationStatus ("invocation status") {
        /// Behind an earlier target of its chain; released when that one ends.
        Waiting = "waiting",
        /// Due at its next attempt time; any worker may claim it.
        Pending = "pending",
        /// Leased by a worker until its lease ends.
        InFlight = "in_flight",
        /// A fire-and-forget delivery that the receiver accepted.
        Delivered = "delivered",
        /// Request-response: acknowledged; the output comes through the callback.
        AwaitingCallback = "awaiting_callback",
        /// Request-response: the output arrived.
        Completed = "completed",
        /// Out of attempts, rejected, interrupted or timed out.
        Failed = "failed",
        /// Ended before it was delivered: its route was disabled, deleted or unbound, or an
        /// operator cancelled it. Re-enabling the route does not bring it back; a replay does.
        Cancelled = "cancelled",
    }
}

impl InvocationStatus {
    /// Whether nothing more will happen to the invocation (until an operator replays it).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            InvocationStatus::Delivered
                | InvocationStatus::Completed
                | InvocationStatus::Failed
                | InvocationStatus::Cancelled
        )
    }

    /// Whether an operator may replay it.
    pub fn is_replayable(self) -> bool {
        matches!(
            self,
            InvocationStatus::Delivered | InvocationStatus::Failed | InvocationStatus::Cancelled
        )
    }
}

text_enum! {
    /// What an invocation delivers to.
    pub enum RouteKind ("route kind") {
        /// A SailPoint trigger subscription.
        Subscription = "subscription",
        /// A ZITADEL target.
        Target = "target",
    }
}

text_enum! {
    /// Real events or test invocations (SailPoint's REAL_TIME / TEST).
    pub enum InvocationKind ("invocation kind") {
        RealTime = "real_time",
        Test = "test",
        /// A restAsync target of a ZITADEL call chain: the stored payload is the exact body.
        Call = "call",
    }
}

text_enum! {
    /// How one target call of a synchronous ZITADEL chain ended.
    pub enum CallAttemptOutcome ("call attempt outcome") {
        /// 2xx (and, for restCall, a usable body).
        Succeeded = "succeeded",
        /// Non-2xx, timeout, connection error, unusable body or a forwarded error.
        Failed = "failed",
        /// Not called: the target's circuit is open.
        Skipped = "skipped",
        /// restAsync: handed off, not awaited.
        Dispatched = "dispatched",
    }
}

text_enum! {
    /// What carries a route's deliveries: the scheme of its destination.
    pub enum DestinationKind ("destination kind") {
        /// HTTP(S) POST (webhooks, ZITADEL targets, SailPoint HTTP subscriptions).
        Http = "http",
        /// AWS EventBridge `PutEvents` / `PutPartnerEvents`.
        EventBridge = "eventbridge",
        /// NATS (JetStream publish, core publish, request-reply).
        Nats = "nats",
        /// RabbitMQ over AMQP 0-9-1 with publisher confirms.
        Amqp = "amqp",
        /// Redis Streams `XADD`.
        Redis = "redis",
        /// MQTT QoS 1.
        Mqtt = "mqtt",
        /// AWS SQS `SendMessage`.
        Sqs = "sqs",
    }
}

text_enum! {
    /// How one delivery attempt was classified.
    pub enum AttemptOutcome ("attempt outcome") {
        /// Accepted by the receiver or acknowledged by the broker.
        Delivered = "delivered",
        /// Not accepted; another attempt is scheduled.
        Retry = "retry",
        /// Not accepted, and no further attempt is made (refused destination, out of tries,
        /// invalid answer, past the deadline).
        Failed = "failed",
        /// The destination is gone (HTTP 410): the route was disabled.
        Gone = "gone",
        /// Nothing was sent: the invocation was cancelled.
        Cancelled = "cancelled",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_parses_back_and_nothing_else_does() {
        for s in InvocationStatus::ALL {
            assert_eq!(InvocationStatus::parse(s.as_str()), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for k in RouteKind::ALL {
            assert_eq!(RouteKind::parse(k.as_str()), Ok(*k));
        }
        for k in InvocationKind::ALL {
            assert_eq!(InvocationKind::parse(k.as_str()), Ok(*k));
        }
        for o in CallAttemptOutcome::ALL {
            assert_eq!(CallAttemptOutcome::parse(o.as_str()), Ok(*o));
        }
        for k in DestinationKind::ALL {
            assert_eq!(DestinationKind::parse(k.as_str()), Ok(*k));
        }
        for o in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(o.as_str()), Ok(*o));
        }
        assert!(DestinationKind::parse("kafka").is_err());
        let e = InvocationStatus::parse("expired").unwrap_err();
        assert_eq!(e.to_string(), "unknown invocation status 'expired'");
        assert!(RouteKind::parse("").is_err());
        assert!(InvocationKind::parse("REAL_TIME").is_err());
    }

    #[test]
    fn final_states() {
        let finals: Vec<_> = InvocationStatus::ALL
            .iter()
            .filter(|s| s.is_final())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(finals, ["delivered", "completed", "failed", "cancelled"]);
    }
}
