//! A route's delivery policy: how one subscription or target is retried, limited, ordered and
//! formatted. Tenants write it as a JSON document ([`PolicyDoc`]) whose absent fields take the
//! server's defaults; [`RoutePolicy::parse`] turns it into a value that can only hold what the
//! engine can honour, refusing anything out of bounds with an error naming the field. The bounds
//! keep one tenant's policy from costing anyone else: a schedule cannot grow without limit, a
//! timeout stays below the claim lease (so one request is never in flight twice), and an ordering
//! key is a small singular JSONPath evaluated within a small budget.

use crate::jsonpath::{Budget, JsonPath, Limits};
use crate::retry::RetrySchedule;
use crate::ValidationError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

/// Most waits a route's own retry schedule may list.
pub const MAX_SCHEDULE_ENTRIES: usize = 50;
/// Longest single wait of a route's retry schedule.
pub const MAX_SCHEDULE_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);
/// Shortest single wait of a route's retry schedule.
pub const MIN_SCHEDULE_WAIT: Duration = Duration::from_millis(100);
/// Bounds of `maxAttempts`.
pub const MAX_ATTEMPTS: u32 = 100;
/// Bounds of a subscription's `timeout`; the upper one stays below the claim lease.
pub const MIN_TIMEOUT: Duration = Duration::from_secs(1);
pub const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// Bounds of `maxInFlight`.
pub const MAX_IN_FLIGHT: u32 = 10_000;
/// Bounds of a rate limit: at most this many per period, periods from one second to one day.
pub const MAX_RATE_COUNT: u32 = 1_000_000;
pub const MIN_RATE_PERIOD: Duration = Duration::from_secs(1);
pub const MAX_RATE_PERIOD: Duration = Duration::from_secs(24 * 3600);
/// Bounds of `autoDisable.after`.
pub const MIN_AUTO_DISABLE: Duration = Duration::from_secs(60);
pub const MAX_AUTO_DISABLE: Duration = Duration::from_secs(90 * 24 * 3600);
/// Limits of an ordering key's JSONPath: short, shallow, and cheap to evaluate on every event.
pub const ORDERING_KEY_LIMITS: Limits = Limits {
    max_chars: 256,
    max_nesting: 4,
};
/// Work an ordering key may do on one payload (a singular path needs one unit per segment).
pub const ORDERING_KEY_BUDGET: u64 = 1_000;
/// Longest ordering key value kept (longer values are refused as keys: no ordering).
pub const MAX_ORDER_KEY_BYTES: usize = 512;

/// The policy document as written and stored: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_schedule: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordering: Option<OrderingDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<BodyFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disable: Option<AutoDisableDoc>,
}

/// `ordering` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderingDoc {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
}

/// `autoDisable` as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoDisableDoc {
    pub after: String,
}

/// What an ordered key does when its head invocation fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// Later invocations of the key wait until the head ends, retries and all.
    #[default]
    Block,
    /// A head whose attempt fails is not retried: it ends failed (an operator may replay it)
    /// and the next invocation of the key goes on.
    Skip,
}

/// The body a route receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyFormat {
    /// The route's dialect body (SailPoint input with `_metadata`, ZITADEL event envelope).
    #[default]
    #[serde(rename = "native")]
    Native,
    /// CloudEvents 1.0 structured mode: `application/cloudevents+json`, the event in the body.
    #[serde(rename = "cloudevents-structured")]
    CloudEventsStructured,
    /// CloudEvents 1.0 binary mode: attributes as `ce-*` headers, the payload as the body.
    #[serde(rename = "cloudevents-binary")]
    CloudEventsBinary,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Native => "native",
            BodyFormat::CloudEventsStructured => "cloudevents-structured",
            BodyFormat::CloudEventsBinary => "cloudevents-binary",
        }
    }
}

/// A token bucket's refill: `count` deliveries per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub per: Duration,
}

impl RateLimit {
    /// Parses `"100/1s"`; the field name is `rateLimit`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let bad = |rule: String| ValidationError::new("rateLimit", rule);
        let (count, per) = s
            .split_once('/')
            .ok_or_else(|| bad(format!("'{s}' is not a rate such as 100/1s")))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| bad(format!("'{count}' is not a whole number of deliveries")))?;
        if !(1..=MAX_RATE_COUNT).contains(&count) {
            return Err(bad(format!(
                "the count must be between 1 and {MAX_RATE_COUNT}"
            )));
        }
        let per = parse_duration(per).map_err(bad)?;
        if per < MIN_RATE_PERIOD || per > MAX_RATE_PERIOD {
            return Err(bad("the period must be between 1s and 1d".into()));
        }
        Ok(Self { count, per })
    }

    pub fn as_string(&self) -> String {
        format!("{}/{}", self.count, format_duration(self.per))
    }
}

/// A parsed ordering key: a singular JSONPath into the payload.
#[derive(Debug, Clone)]
pub struct KeyPath {
    text: String,
    path: JsonPath,
}

impl PartialEq for KeyPath {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl KeyPath {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let bad = |rule: String| ValidationError::new("ordering.key", rule);
        let path = JsonPath::parse(text, &ORDERING_KEY_LIMITS).map_err(|e| bad(e.to_string()))?;
        if !path.is_singular() {
            return Err(bad(
                "must select at most one value: only names and indexes, such as $.identity.id"
                    .into(),
            ));
        }
        Ok(Self {
            text: text.to_string(),
            path,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key of one payload: the selected value as text (strings as themselves, other
    /// values as JSON). `None` — no ordering for this event — when nothing is selected, the
    /// value is `null`, an object or an array, or longer than [`MAX_ORDER_KEY_BYTES`].
    pub fn key_of(&self, payload: &Value) -> Option<String> {
        let mut budget = Budget::new(ORDERING_KEY_BUDGET);
        let nodes = self.path.query(payload, &mut budget).ok()?;
        let key = match nodes.first()? {
            Value::String(s) => s.clone(),
            v @ (Value::Number(_) | Value::Bool(_)) => v.to_string(),
            _ => return None,
        };
        (key.len() <= MAX_ORDER_KEY_BYTES).then_some(key)
    }
}

/// FIFO per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordering {
    pub key: KeyPath,
    pub on_failure: OnFailure,
}

/// A validated policy; `None` fields take the server's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoutePolicy {
    pub retry_schedule: Option<RetrySchedule>,
    pub max_attempts: Option<u32>,
    pub timeout: Option<Duration>,
    pub max_in_flight: Option<u32>,
    pub rate_limit: Option<RateLimit>,
    pub ordering: Option<Ordering>,
    pub format: BodyFormat,
    pub auto_disable_after: Option<Duration>,
}

impl RoutePolicy {
    /// Validates a document; the first rule broken is reported with its field.
    pub fn parse(doc: &PolicyDoc) -> Result<Self, ValidationError> {
        let retry_schedule = doc
            .retry_schedule
            .as_ref()
            .map(|list| parse_schedule(list))
            .transpose()?;
        if let Some(n) = doc.max_attempts {
            if !(1..=MAX_ATTEMPTS).contains(&n) {
                return Err(ValidationError::new(
                    "maxAttempts",
                    format!("must be between 1 and {MAX_ATTEMPTS}"),
                ));
            }
        }
        let timeout = doc
            .timeout
            .as_deref()
            .map(|t| {
                let d = parse_duration(t).map_err(|e| ValidationError::new("timeout", e))?;
                if d < MIN_TIMEOUT || d > MAX_TIMEOUT {
                    return Err(ValidationError::new("timeout", "must be between 1s and 5m"));
                }
                Ok(d)
            })
            .transpose()?;
        if let Some(n) = doc.max_in_flight {
            if !(1..=MAX_IN_FLIGHT).contains(&n) {
                return Err(ValidationError::new(
                    "maxInFlight",
                    format!("must be between 1 and {MAX_IN_FLIGHT}"),
                ));
            }
        }
        let rate_limit = doc
            .rate_limit
            .as_deref()
            .map(RateLimit::parse)
            .transpose()?;
        let ordering = doc
            .ordering
            .as_ref()
            .map(|o| {
                Ok::<_, ValidationError>(Ordering {
                    key: KeyPath::parse(&o.key)?,
                    on_failure: o.on_failure.unwrap_or_default(),
                })
            })
            .transpose()?;
        let auto_disable_after = doc
            .auto_disable
            .as_ref()
            .map(|a| {
                let d = parse_duration(&a.after)
                    .map_err(|e| ValidationError::new("autoDisable.after", e))?;
                if d < MIN_AUTO_DISABLE || d > MAX_AUTO_DISABLE {
                    return Err(ValidationError::new(
                        "autoDisable.after",
                        "must be between 1m and 90d",
                    ));
                }
                Ok(d)
            })
            .transpose()?;
        Ok(Self {
            retry_schedule,
            max_attempts: doc.max_attempts,
            timeout,
            max_in_flight: doc.max_in_flight,
            rate_limit,
            ordering,
            format: doc.format.unwrap_or_default(),
            auto_disable_after,
        })
    }

    /// The document this policy was parsed from, in canonical spelling.
    pub fn doc(&self) -> PolicyDoc {
        PolicyDoc {
            retry_schedule: self
                .retry_schedule
                .as_ref()
                .map(|s| s.waits().iter().map(|w| format_duration(*w)).collect()),
            max_attempts: self.max_attempts,
            timeout: self.timeout.map(format_duration),
            max_in_flight: self.max_in_flight,
            rate_limit: self.rate_limit.map(|r| r.as_string()),
            ordering: self.ordering.as_ref().map(|o| OrderingDoc {
                key: o.key.as_str().to_string(),
                on_failure: Some(o.on_failure),
            }),
            format: (self.format != BodyFormat::Native).then_some(self.format),
            auto_disable: self.auto_disable_after.map(|d| AutoDisableDoc {
                after: format_duration(d),
            }),
        }
    }

    /// The schedule this route retries on: its own waits (or the server's), stretched or cut
    /// to `maxAttempts` tries when that is set (a longer run repeats the last wait).
    pub fn schedule(&self, server: &RetrySchedule) -> RetrySchedule {
        let base = self.retry_schedule.as_ref().unwrap_or(server);
        let Some(max) = self.max_attempts else {
            return base.clone();
        };
        let waits = base.waits();
        let wanted = max.saturating_sub(1) as usize;
        let last = waits.last().copied().unwrap_or(Duration::from_secs(5));
        let stretched = (0..wanted)
            .map(|i| waits.get(i).copied().unwrap_or(last))
            .collect();
        RetrySchedule::new(stretched)
    }

    /// Whether deliveries to the route pass through its gate (a concurrency or rate limit).
    pub fn is_gated(&self) -> bool {
        self.max_in_flight.is_some() || self.rate_limit.is_some()
    }
}

fn parse_schedule(list: &[String]) -> Result<RetrySchedule, ValidationError> {
    if list.len() > MAX_SCHEDULE_ENTRIES {
        return Err(ValidationError::new(
            "retrySchedule",
            format!("at most {MAX_SCHEDULE_ENTRIES} waits"),
        ));
    }
    let waits = list
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let field = format!("retrySchedule[{i}]");
            let d = parse_duration(w).map_err(|e| ValidationError::new(&field, e))?;
            if d < MIN_SCHEDULE_WAIT || d > MAX_SCHEDULE_WAIT {
                return Err(ValidationError::new(field, "must be between 100ms and 7d"));
            }
            Ok(d)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RetrySchedule::new(waits))
}

/// Parses `250ms`, `5s`, `2m`, `1h`, `1d`: digits and one unit, nothing else (no fractions, no
/// blanks, no overflow).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = s.split_at(digits);
    let millis_per: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "'{s}' is not a duration such as 500ms, 5s, 2m, 1h or 1d"
            ))
        }
    };
    if num.is_empty() || num.len() > 12 {
        return Err(format!(
            "'{s}' is not a duration such as 500ms, 5s, 2m, 1h or 1d"
        ));
    }
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a duration"))?;
    n.checked_mul(millis_per)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("'{s}' is too long"))
}

/// The shortest spelling [`parse_duration`] reads back to `d` (millisecond precision).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis() as u64;
    for (unit, per) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= per && ms.is_multiple_of(per) {
            return format!("{}{unit}", ms / per);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> PolicyDoc {
        serde_json::from_value(v).unwrap()
    }

    fn field_of(v: Value) -> String {
        RoutePolicy::parse(&doc(v)).unwrap_err().field
    }

    #[test]
    fn the_issue_example_parses_and_round_trips() {
        let v = json!({"retrySchedule": ["5s", "1m"], "maxAttempts": 10, "timeout": "10s",
            "maxInFlight": 8, "rateLimit": "100/1s",
            "ordering": {"key": "$.identity.id", "onFailure": "block"},
            "format": "native", "autoDisable": {"after": "72h"}});
        let p = RoutePolicy::parse(&doc(v)).unwrap();
        assert_eq!(p.max_attempts, Some(10));
        assert_eq!(p.timeout, Some(Duration::from_secs(10)));
        assert_eq!(
            p.rate_limit,
            Some(RateLimit {
                count: 100,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(p.auto_disable_after, Some(Duration::from_secs(72 * 3600)));
        assert!(p.is_gated());
        let again = RoutePolicy::parse(&p.doc()).unwrap();
        assert_eq!(again, p);
        assert_eq!(
            serde_json::to_value(p.doc()).unwrap()["autoDisable"]["after"],
            "3d"
        );
    }

    #[test]
    fn absent_fields_are_defaults() {
        let p = RoutePolicy::parse(&PolicyDoc::default()).unwrap();
        assert_eq!(p, RoutePolicy::default());
        assert!(!p.is_gated());
        assert_eq!(serde_json::to_value(p.doc()).unwrap(), json!({}));
    }

    #[test]
    fn unknown_fields_are_refused() {
        assert!(serde_json::from_value::<PolicyDoc>(json!({"retries": 3})).is_err());
        assert!(serde_json::from_value::<PolicyDoc>(json!({"format": "xml"})).is_err());
        assert!(
            serde_json::from_value::<PolicyDoc>(json!({"ordering": {"key": "$.a", "x": 1}}))
                .is_err()
        );
    }

    #[test]
    fn every_bound_names_its_field() {
        assert_eq!(field_of(json!({"maxAttempts": 0})), "maxAttempts");
        assert_eq!(field_of(json!({"maxAttempts": 101})), "maxAttempts");
        assert_eq!(field_of(json!({"timeout": "500ms"})), "timeout");
        assert_eq!(field_of(json!({"timeout": "6m"})), "timeout");
        assert_eq!(field_of(json!({"timeout": "ten"})), "timeout");
        assert_eq!(field_of(json!({"maxInFlight": 0})), "maxInFlight");
        assert_eq!(field_of(json!({"maxInFlight": 10_001})), "maxInFlight");
        assert_eq!(field_of(json!({"rateLimit": "0/1s"})), "rateLimit");
        assert_eq!(field_of(json!({"rateLimit": "1000001/1s"})), "rateLimit");
        assert_eq!(field_of(json!({"rateLimit": "5/500ms"})), "rateLimit");
        assert_eq!(field_of(json!({"rateLimit": "5/2d"})), "rateLimit");
        assert_eq!(field_of(json!({"rateLimit": "5"})), "rateLimit");
        assert_eq!(
            field_of(json!({"retrySchedule": ["1s", "8d"]})),
            "retrySchedule[1]"
        );
        assert_eq!(
            field_of(json!({"retrySchedule": ["0s"]})),
            "retrySchedule[0]"
        );
        assert_eq!(
            field_of(json!({"retrySchedule": vec!["1s"; 51]})),
            "retrySchedule"
        );
        assert_eq!(
            field_of(json!({"ordering": {"key": "$..id"}})),
            "ordering.key"
        );
        assert_eq!(
            field_of(json!({"ordering": {"key": "$.a[*]"}})),
            "ordering.key"
        );
        assert_eq!(
            field_of(json!({"ordering": {"key": format!("$.{}", "a".repeat(300))}})),
            "ordering.key"
        );
        assert_eq!(
            field_of(json!({"autoDisable": {"after": "1s"}})),
            "autoDisable.after"
        );
    }

    #[test]
    fn durations_are_exact_and_bounded() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        for bad in [
            "",
            "s",
            "1.5s",
            " 1s",
            "1 s",
            "-1s",
            "1x",
            "99999999999999d",
            "1S",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        for d in [1, 999, 1000, 60_000, 90_000, 3_600_000, 86_400_000 * 7] {
            let d = Duration::from_millis(d);
            assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        }
    }

    #[test]
    fn schedule_follows_max_attempts() {
        let server = RetrySchedule::parse("1s,2s,3s").unwrap();
        let own = |v: Value| RoutePolicy::parse(&doc(v)).unwrap().schedule(&server);
        assert_eq!(own(json!({})), server);
        assert_eq!(own(json!({"maxAttempts": 1})).max_attempts(), 1);
        assert_eq!(
            own(json!({"maxAttempts": 2})).waits(),
            &[Duration::from_secs(1)]
        );
        let long = own(json!({"maxAttempts": 6}));
        assert_eq!(long.max_attempts(), 6);
        assert_eq!(long.waits()[4], Duration::from_secs(3));
        let listed = own(json!({"retrySchedule": ["100ms", "200ms"]}));
        assert_eq!(listed.max_attempts(), 3);
        assert_eq!(listed.waits()[1], Duration::from_millis(200));
    }

    #[test]
    fn ordering_keys_come_from_the_payload() {
        let k = KeyPath::parse("$.identity.id").unwrap();
        assert_eq!(
            k.key_of(&json!({"identity": {"id": "A"}})),
            Some("A".into())
        );
        assert_eq!(k.key_of(&json!({"identity": {"id": 7}})), Some("7".into()));
        assert_eq!(k.key_of(&json!({"identity": {}})), None);
        assert_eq!(k.key_of(&json!({"identity": {"id": null}})), None);
        assert_eq!(k.key_of(&json!({"identity": {"id": {"x": 1}}})), None);
        let long = "x".repeat(MAX_ORDER_KEY_BYTES + 1);
        assert_eq!(k.key_of(&json!({"identity": {"id": long}})), None);
        assert!(KeyPath::parse("$['a'][0]").is_ok());
        assert!(KeyPath::parse("$.a[?@.b]").is_err());
        assert!(KeyPath::parse("not a path").is_err());
    }
}
