//! A ZITADEL target: the endpoint Switchyard calls, how long it waits, whether the answer matters
//! (webhook / call / async) and whether a failure stops the chain. Each field is a newtype built
//! by `parse`, so a [`TargetConfig`] is valid by construction; [`TargetPatch`] carries an update
//! where every field is optional (absent = unchanged), as the v2 and v3alpha APIs define it.

use crate::delivery_url::DeliveryUrl;
use crate::duration;
use crate::text;
use crate::ValidationError;
use std::time::Duration;

/// Longest name and endpoint, in characters (upstream's limit).
pub const MAX_TEXT_CHARS: usize = 1000;
/// Longest timeout upstream accepts.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(270);
/// Longest endpoint on the v2 surfaces (ZITADEL's `action/v2` proto), in characters; also what
/// the store accepts back.
pub const MAX_ENDPOINT_CHARS_V2: usize = 2048;
/// Longest endpoint on the v3alpha surface (the seed's limit), in characters.
pub const MAX_ENDPOINT_CHARS_V3ALPHA: usize = MAX_TEXT_CHARS;
/// Longest grace period for the previous signing key after a rotation.
pub const MAX_KEY_GRACE: Duration = Duration::from_secs(7 * 86_400);

fn check_length(field: &str, value: &str) -> Result<(), ValidationError> {
    let n = value.chars().count();
    if n == 0 {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if n > MAX_TEXT_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters (got {n})"),
        ));
    }
    Ok(())
}

/// A target's name: 1..=1000 characters, unique per instance (the store enforces uniqueness).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetName(String);

impl TargetName {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        check_length("name", s)?;
        text::check_name("name", s, MAX_TEXT_CHARS)?;
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The URL a target is called at: absolute `http` or `https` with a host, 1..=2048 characters
/// (1..=1000 on v3alpha), parsed once with the WHATWG parser the HTTP client uses (see [`DeliveryUrl`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint(DeliveryUrl);

impl Endpoint {
    /// At most [`MAX_ENDPOINT_CHARS_V2`] characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::parse_at_most(s, MAX_ENDPOINT_CHARS_V2)
    }

    /// At most `max_chars` characters (a surface with a narrower limit).
    pub fn parse_at_most(s: &str, max_chars: usize) -> Result<Self, ValidationError> {
        DeliveryUrl::parse_bounded("endpoint", s, max_chars.min(MAX_ENDPOINT_CHARS_V2)).map(Self)
    }

    /// The endpoint as it was sent.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The parsed URL outbound protection checks and the client calls.
    pub fn url(&self) -> &DeliveryUrl {
        &self.0
    }

    /// The endpoint as answered: a password in it masked.
    pub fn masked(&self) -> String {
        self.0.masked()
    }

    /// The endpoint with its password sealed (before storing) or opened (before sending).
    pub fn map_password<E>(&self, f: impl FnOnce(&str) -> Result<String, E>) -> Result<Self, E> {
        self.0.map_password(f).map(Self)
    }
}

/// How long a call may take: a protobuf duration greater than 0 and at most 270s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TargetTimeout(Duration);

impl TargetTimeout {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let d = duration::parse_proto(s).map_err(|e| ValidationError::new("timeout", e))?;
        Self::new(d)
    }

    pub fn new(d: Duration) -> Result<Self, ValidationError> {
        if d.is_zero() {
            return Err(ValidationError::new("timeout", "must be greater than 0s"));
        }
        if d > MAX_TIMEOUT {
            return Err(ValidationError::new("timeout", "must be at most 270s"));
        }
        Ok(Self(d))
    }

    pub fn duration(self) -> Duration {
        self.0
    }

    /// The protobuf JSON form, e.g. `"10s"`.
    pub fn to_proto(self) -> String {
        duration::format_proto(self.0)
    }
}

/// How a target is called and whether its answer matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetType {
    /// Awaited; status checked, body ignored.
    Webhook { interrupt_on_error: bool },
    /// Awaited; status checked, a non-empty body replaces the payload for the next target.
    Call { interrupt_on_error: bool },
    /// Not awaited; its outcome affects nothing.
    Async,
}

impl TargetType {
    /// Builds the type from the wire's oneof: each argument is `Some(interruptOnError)` when
    /// that object was sent. Exactly one must be present.
    pub fn from_oneof(
        webhook: Option<Option<bool>>,
        call: Option<Option<bool>>,
        is_async: bool,
    ) -> Result<Self, ValidationError> {
        match TypePatch::from_oneof(webhook, call, is_async)? {
            Some(p) => Ok(p.apply(None)),
            None => Err(ValidationError::new(
                "restWebhook",
                "exactly one of restWebhook, restCall or restAsync must be set",
            )),
        }
    }

    pub fn interrupt_on_error(self) -> bool {
        match self {
            TargetType::Webhook { interrupt_on_error }
            | TargetType::Call { interrupt_on_error } => interrupt_on_error,
            TargetType::Async => false,
        }
    }

    /// Stable storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetType::Webhook { .. } => "webhook",
            TargetType::Call { .. } => "call",
            TargetType::Async => "async",
        }
    }

    /// Inverse of [`Self::as_str`] with the interrupt flag.
    pub fn from_stored(kind: &str, interrupt_on_error: bool) -> Option<Self> {
        match kind {
            "webhook" => Some(TargetType::Webhook { interrupt_on_error }),
            "call" => Some(TargetType::Call { interrupt_on_error }),
            "async" => Some(TargetType::Async),
            _ => None,
        }
    }
}

/// A requested type change: the new type, with `interruptOnError` when it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypePatch {
    Webhook { interrupt_on_error: Option<bool> },
    Call { interrupt_on_error: Option<bool> },
    Async,
}

impl TypePatch {
    /// `Ok(None)` when no type object was sent; an error when more than one was.
    pub fn from_oneof(
        webhook: Option<Option<bool>>,
        call: Option<Option<bool>>,
        is_async: bool,
    ) -> Result<Option<Self>, ValidationError> {
        let count =
            usize::from(webhook.is_some()) + usize::from(call.is_some()) + usize::from(is_async);
        if count > 1 {
            return Err(ValidationError::new(
                "restWebhook",
                "only one of restWebhook, restCall or restAsync may be set",
            ));
        }
        Ok(match (webhook, call, is_async) {
            (Some(i), _, _) => Some(TypePatch::Webhook {
                interrupt_on_error: i,
            }),
            (_, Some(i), _) => Some(TypePatch::Call {
                interrupt_on_error: i,
            }),
            (_, _, true) => Some(TypePatch::Async),
            _ => None,
        })
    }

    /// The resulting type. An absent `interruptOnError` keeps the previous type's flag, so the
    /// type and the flag can change independently.
    pub fn apply(self, previous: Option<TargetType>) -> TargetType {
        let keep = previous
            .map(TargetType::interrupt_on_error)
            .unwrap_or(false);
        match self {
            TypePatch::Webhook { interrupt_on_error } => TargetType::Webhook {
                interrupt_on_error: interrupt_on_error.unwrap_or(keep),
            },
            TypePatch::Call { interrupt_on_error } => TargetType::Call {
                interrupt_on_error: interrupt_on_error.unwrap_or(keep),
            },
            TypePatch::Async => TargetType::Async,
        }
    }
}

/// How the payload is encoded for the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadType {
    #[default]
    Json,
    Jwt,
    Jwe,
}

impl PayloadType {
    /// Parses the proto enum name; `PAYLOAD_TYPE_UNSPECIFIED` means the default, JSON.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "PAYLOAD_TYPE_UNSPECIFIED" | "PAYLOAD_TYPE_JSON" => Ok(Self::Json),
            "PAYLOAD_TYPE_JWT" => Ok(Self::Jwt),
            "PAYLOAD_TYPE_JWE" => Ok(Self::Jwe),
            other => Err(ValidationError::new(
                "payloadType",
                format!(
                    "'{other}' is not one of PAYLOAD_TYPE_JSON, PAYLOAD_TYPE_JWT, PAYLOAD_TYPE_JWE"
                ),
            )),
        }
    }

    /// The proto enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "PAYLOAD_TYPE_JSON",
            Self::Jwt => "PAYLOAD_TYPE_JWT",
            Self::Jwe => "PAYLOAD_TYPE_JWE",
        }
    }
}

/// `expirationSigningKey`: rotate the signing key and keep the previous one valid for this long
/// (0 = immediately invalid). At most 7 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyExpiration(Duration);

impl KeyExpiration {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let d = duration::parse_proto(s)
            .map_err(|e| ValidationError::new("expirationSigningKey", e))?;
        if d > MAX_KEY_GRACE {
            return Err(ValidationError::new(
                "expirationSigningKey",
                "must be at most 604800s (7 days)",
            ));
        }
        Ok(Self(d))
    }

    /// Grace period of the previous key in milliseconds.
    pub fn grace_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A complete, valid target configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetConfig {
    pub name: TargetName,
    pub endpoint: Endpoint,
    pub timeout: TargetTimeout,
    pub target_type: TargetType,
    pub payload_type: PayloadType,
}

/// An update: each `None` leaves the field unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetPatch {
    pub name: Option<TargetName>,
    pub endpoint: Option<Endpoint>,
    pub timeout: Option<TargetTimeout>,
    pub target_type: Option<TypePatch>,
    pub payload_type: Option<PayloadType>,
}

impl TargetConfig {
    /// The configuration after `patch`.
    pub fn apply(&self, patch: &TargetPatch) -> TargetConfig {
        TargetConfig {
            name: patch.name.clone().unwrap_or_else(|| self.name.clone()),
            endpoint: patch
                .endpoint
                .clone()
                .unwrap_or_else(|| self.endpoint.clone()),
            timeout: patch.timeout.unwrap_or(self.timeout),
            target_type: patch
                .target_type
                .map_or(self.target_type, |t| t.apply(Some(self.target_type))),
            payload_type: patch.payload_type.unwrap_or(self.payload_type),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_bounded() {
        assert!(TargetName::parse("hook").is_ok());
        assert_eq!(TargetName::parse("").unwrap_err().field, "name");
        assert!(TargetName::parse("   ").is_err());
        assert!(TargetName::parse("a\0b")
            .unwrap_err()
            .rule
            .contains("control"));
        assert!(TargetName::parse("a\u{1b}[2J").is_err());
        assert!(TargetName::parse(&"é".repeat(1000)).is_ok());
        let e = TargetName::parse(&"a".repeat(1001)).unwrap_err();
        assert!(e.rule.contains("1000"), "{e}");
    }

    #[test]
    fn endpoints_are_delivery_urls_kept_as_sent() {
        // The URL rules themselves are tested with `DeliveryUrl`.
        let long = format!("https://e.com/{}", "a".repeat(2048 - 14));
        assert!(Endpoint::parse(&long).is_ok());
        assert!(Endpoint::parse(&format!("{long}a")).is_err());
        let e = Endpoint::parse_at_most(&long, MAX_ENDPOINT_CHARS_V3ALPHA).unwrap_err();
        assert!(e.rule.contains("1000"), "{e}");
        let e = Endpoint::parse("HTTPS://EXAMPLE.COM").unwrap();
        assert_eq!(e.as_str(), "HTTPS://EXAMPLE.COM");
        assert_eq!(e.url().url().as_str(), "https://example.com/");
        assert_eq!(Endpoint::parse("ftp://x").unwrap_err().field, "endpoint");
    }

    #[test]
    fn timeouts_are_positive_and_bounded() {
        assert_eq!(TargetTimeout::parse("10s").unwrap().to_proto(), "10s");
        assert_eq!(TargetTimeout::parse("1.5s").unwrap().to_proto(), "1.500s");
        assert!(TargetTimeout::parse("270s").is_ok());
        assert!(TargetTimeout::parse("270.001s")
            .unwrap_err()
            .rule
            .contains("270s"));
        assert!(TargetTimeout::parse("0s")
            .unwrap_err()
            .rule
            .contains("greater than 0"));
        assert_eq!(TargetTimeout::parse("10").unwrap_err().field, "timeout");
    }

    #[test]
    fn exactly_one_type() {
        assert_eq!(
            TargetType::from_oneof(Some(Some(true)), None, false).unwrap(),
            TargetType::Webhook {
                interrupt_on_error: true
            }
        );
        assert_eq!(
            TargetType::from_oneof(None, None, true).unwrap(),
            TargetType::Async
        );
        assert!(TargetType::from_oneof(None, None, false).is_err());
        assert!(TargetType::from_oneof(Some(None), None, true).is_err());
    }

    #[test]
    fn patches_switch_type_and_flag_independently() {
        let base = TargetConfig {
            name: TargetName::parse("a").unwrap(),
            endpoint: Endpoint::parse("https://e.com").unwrap(),
            timeout: TargetTimeout::parse("5s").unwrap(),
            target_type: TargetType::Webhook {
                interrupt_on_error: true,
            },
            payload_type: PayloadType::Json,
        };
        let same = base.apply(&TargetPatch::default());
        assert_eq!(same, base);
        let switched = base.apply(&TargetPatch {
            target_type: Some(TypePatch::Call {
                interrupt_on_error: None,
            }),
            ..Default::default()
        });
        assert_eq!(
            switched.target_type,
            TargetType::Call {
                interrupt_on_error: true
            }
        );
        let flag = base.apply(&TargetPatch {
            target_type: Some(TypePatch::Webhook {
                interrupt_on_error: Some(false),
            }),
            name: Some(TargetName::parse("b").unwrap()),
            ..Default::default()
        });
        assert_eq!(
            flag.target_type,
            TargetType::Webhook {
                interrupt_on_error: false
            }
        );
        assert_eq!(flag.name.as_str(), "b");
        assert_eq!(flag.endpoint, base.endpoint);
    }

    #[test]
    fn payload_types_and_key_expiration() {
        assert_eq!(
            PayloadType::parse("PAYLOAD_TYPE_UNSPECIFIED").unwrap(),
            PayloadType::Json
        );
        assert_eq!(
            PayloadType::parse("PAYLOAD_TYPE_JWE").unwrap().as_str(),
            "PAYLOAD_TYPE_JWE"
        );
        assert_eq!(PayloadType::parse("XML").unwrap_err().field, "payloadType");
        assert_eq!(KeyExpiration::parse("0s").unwrap().grace_millis(), 0);
        assert_eq!(KeyExpiration::parse("60s").unwrap().grace_millis(), 60_000);
        assert!(KeyExpiration::parse("604801s").is_err());
        assert!(KeyExpiration::parse("-1s").is_err());
    }
}
