//! The URL a route delivers to, parsed once. Outbound protection must judge exactly the host the
//! HTTP client will connect to, and the client (reqwest) reads URLs with the WHATWG URL parser,
//! which turns `127.1`, `0x7f.1`, `017700000001`, `%31%32%37.0.0.1`, full-width digits and
//! `127.0.0.1.` all into `127.0.0.1`, and reads `http://127.0.0.1\@8.8.8.8/` as host 127.0.0.1.
//! So a [`DeliveryUrl`] is that parser's result (the `url` crate, the one reqwest uses): the
//! check looks at its normalized [`Host`] and the sender hands the same parsed value to the
//! client. The text the user sent is kept only to echo it back.

mod amqp;
mod mqtt;
mod secret;
mod sqs;

pub use amqp::AmqpTarget;
pub use mqtt::topic_of as mqtt_topic;
pub use secret::{is_sealed, MAX_PASSWORD_CHARS};
pub use sqs::{valid_region as valid_aws_region, SqsTarget};

use crate::invocation::DestinationKind;
use crate::ValidationError;
use std::fmt;
use url::{Host, Url};

/// Longest accepted URL, in characters (ZITADEL's limit for a target endpoint), not counting a
/// sealed password.
pub const MAX_URL_CHARS: usize = 1000;

/// The schemes a route may deliver to: HTTP, the brokers (`tls`, `rediss`, `amqps`, `mqtts`:
/// the same over TLS) and AWS SQS.
const SCHEMES: [&str; 11] = [
    "http", "https", "nats", "tls", "redis", "rediss", "amqp", "amqps", "mqtt", "mqtts", "sqs",
];

/// An absolute `http` or `https` URL with a host, as the WHATWG parser reads it, or a broker URL
/// (a Switchyard extension): `nats://HOST[:PORT]/SUBJECT`,
/// `redis://HOST[:PORT][/DB]?stream=NAME[&maxlen=N]`,
/// `amqp://HOST[:PORT][/VHOST]?exchange=EX&routingKey=RK`, `mqtt://HOST[:PORT]/TOPIC`,
/// `sqs://REGION/ACCOUNT/QUEUE`.
#[derive(Clone)]
pub struct DeliveryUrl {
    text: String,
    parsed: Url,
}

impl DeliveryUrl {
    /// Parses `text`, reporting problems under `field`. Whitespace and control characters are
    /// refused rather than silently stripped (as the WHATWG parser would), so what is stored is
    /// what is used.
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        Self::parse_bounded(field, text, MAX_URL_CHARS)
    }

    /// [`DeliveryUrl::parse`] with another length limit (ZITADEL v2 allows 2048 characters).
    pub fn parse_bounded(
        field: &str,
        text: &str,
        max_chars: usize,
    ) -> Result<Self, ValidationError> {
        let bad = |why: String| ValidationError::new(field, why);
        let n = secret::counted_chars(text);
        if n == 0 {
            return Err(bad("must not be empty".into()));
        }
        if n > max_chars {
            return Err(bad(format!(
                "must be at most {max_chars} characters (got {n})"
            )));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "must not contain whitespace or control characters".into()
            ));
        }
        // The WHATWG parser also reads `http:host` and `http:///host` as `http://host/`; such
        // typos are refused so the host is always the one between `//` and the next `/`.
        let authority = text.split_once("://").and_then(|(scheme, rest)| {
            SCHEMES
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme))
                .then_some(rest)
        });
        match authority {
            None => {
                return Err(bad(
                    "must be an absolute URL with the scheme http or https, e.g. https://example.com/hook, or a broker URL: nats://HOST:PORT/SUBJECT (tls:// over TLS), redis[s]://HOST:PORT/DB?stream=NAME, amqp[s]://HOST:PORT/VHOST?exchange=EX&routingKey=RK, mqtt[s]://HOST:PORT/TOPIC, sqs://REGION/ACCOUNT/QUEUE".into(),
                ))
            }
            Some(a) if a.is_empty() || a.starts_with(['/', '\\']) => {
                return Err(bad("must name a host, e.g. https://example.com/hook".into()))
            }
            Some(_) => {}
        }
        let parsed = Url::parse(text).map_err(|e| {
            bad(format!(
                "'{text}' is not an absolute http(s) URL such as https://example.com/hook ({e})"
            ))
        })?;
        if !SCHEMES.contains(&parsed.scheme()) {
            return Err(bad(format!(
                "must use one of the schemes {}, not '{}'",
                SCHEMES.join(", "),
                parsed.scheme()
            )));
        }
        match parsed.host() {
            None => return Err(bad("must name a host, e.g. https://example.com/hook".into())),
            Some(Host::Domain("")) => return Err(bad("must name a host".into())),
            Some(_) => {}
        }
        if parsed.port() == Some(0) {
            return Err(bad("has an invalid port '0': expected 1 to 65535".into()));
        }
        secret::check(&parsed).map_err(bad)?;
        match parsed.scheme() {
            "nats" | "tls" => check_nats(&parsed).map_err(bad)?,
            "redis" | "rediss" => {
                RedisTarget::of(&parsed).map_err(bad)?;
            }
            "amqp" | "amqps" => {
                AmqpTarget::of(&parsed).map_err(bad)?;
            }
            "mqtt" | "mqtts" => {
                mqtt_topic(&parsed).map_err(bad)?;
            }
            "sqs" => {
                SqsTarget::of(&parsed).map_err(bad)?;
            }
            _ => {}
        }
        Ok(Self {
            text: text.to_string(),
            parsed,
        })
    }

    /// The URL as the user sent it (stored and echoed).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed URL: what the HTTP client is given.
    pub fn url(&self) -> &Url {
        &self.parsed
    }

    /// The normalized host: a domain name (lower-case, IDNA-mapped) or an IP address.
    ///
    /// Broker schemes are not "special" to the URL standard, so their hosts stay opaque text:
    /// `mqtt://169.254.169.254/t` names a domain `169.254.169.254`. Such a host is read again as
    /// an http host would be (every IPv4 spelling), so an address is always judged as the
    /// address it is, whatever the scheme.
    pub fn host(&self) -> Host<&str> {
        // `parse` refused every URL without a host.
        match self.parsed.host() {
            Some(Host::Domain(name)) if !self.parsed.is_special() => match Host::parse(name) {
                Ok(Host::Ipv4(v4)) => Host::Ipv4(v4),
                Ok(Host::Ipv6(v6)) => Host::Ipv6(v6),
                _ => Host::Domain(name),
            },
            Some(host) => host,
            None => Host::Domain(""),
        }
    }

    pub fn is_https(&self) -> bool {
        self.parsed.scheme() == "https"
    }

    /// A broker URL whose scheme asks for TLS (`tls`, `rediss`, `amqps`, `mqtts`).
    pub fn is_tls(&self) -> bool {
        matches!(self.parsed.scheme(), "tls" | "rediss" | "amqps" | "mqtts")
    }

    /// What carries deliveries to this URL.
    pub fn kind(&self) -> DestinationKind {
        match self.parsed.scheme() {
            "nats" | "tls" => DestinationKind::Nats,
            "redis" | "rediss" => DestinationKind::Redis,
            "amqp" | "amqps" => DestinationKind::Amqp,
            "mqtt" | "mqtts" => DestinationKind::Mqtt,
            "sqs" => DestinationKind::Sqs,
            _ => DestinationKind::Http,
        }
    }
}

/// What a `redis://` URL names besides the server: the database, the stream and its cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTarget {
    pub db: u32,
    pub stream: String,
    /// `XADD ... MAXLEN ~ N`: the stream is trimmed to about this many entries.
    pub maxlen: Option<u64>,
}

impl RedisTarget {
    /// Reads and checks the database, `stream` and `maxlen` of a `redis://` URL.
    pub fn of(url: &Url) -> Result<Self, String> {
        const EXPECTED: &str = "expected redis://[[USER]:PASSWORD@]HOST:PORT/DB?stream=NAME[&maxlen=N], e.g. redis://redis.example.com:6379/0?stream=orders";
        if url.fragment().is_some() {
            return Err(format!("a redis URL takes no fragment; {EXPECTED}"));
        }
        let path = url.path().trim_start_matches('/');
        let db = if path.is_empty() {
            0
        } else {
            path.parse::<u32>()
                .map_err(|_| format!("'{path}' is not a database number; {EXPECTED}"))?
        };
        let (mut stream, mut maxlen) = (None, None);
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                "stream" if !v.is_empty() && v.len() <= 512 => stream = Some(v.into_owned()),
                "stream" => return Err(format!("stream must be 1 to 512 characters; {EXPECTED}")),
                "maxlen" => {
                    maxlen = Some(v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("maxlen must be a positive whole number; {EXPECTED}")
                    })?)
                }
                other => return Err(format!("unknown parameter '{other}'; {EXPECTED}")),
            }
        }
        let stream = stream.ok_or_else(|| format!("names no stream; {EXPECTED}"))?;
        Ok(Self { db, stream, maxlen })
    }
}

/// A `nats://` URL names a host and one subject to publish to.
fn check_nats(url: &Url) -> Result<(), String> {
    const EXPECTED: &str =
        "expected nats://[USER:PASSWORD@]HOST:PORT/SUBJECT (a token: nats://:TOKEN@HOST:PORT/SUBJECT), e.g. nats://nats.example.com:4222/orders.created";
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("a nats URL takes no query or fragment; {EXPECTED}"));
    }
    let subject = url.path().trim_start_matches('/');
    if subject.is_empty() {
        return Err(format!("names no subject; {EXPECTED}"));
    }
    let token_ok = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'*' | b'>' | b'/' | b'%'))
    };
    if !subject.split('.').all(token_ok) {
        return Err(format!(
            "'{subject}' is not a NATS subject to publish to (dot-separated tokens of visible \
             characters, no wildcards '*' or '>', no '/'); {EXPECTED}"
        ));
    }
    Ok(())
}

impl PartialEq for DeliveryUrl {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for DeliveryUrl {}

impl std::hash::Hash for DeliveryUrl {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state)
    }
}

impl fmt::Debug for DeliveryUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveryUrl({:?} -> {})", self.text, self.parsed)
    }
}

/// Spellings of 127.0.0.1 the WHATWG parser normalizes to it (shared by the guard's tests).
#[cfg(test)]
pub(crate) const LOOPBACK_SPELLINGS: &[&str] = &[
    "http://127.1:8080/",
    "http://0x7f.1/",
    "http://0177.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.0.0.1./",
    "http://127.0.0.1:8080\\@8.8.8.8/",
    "http://%31%32%37.0.0.1/",
    "http://\u{ff11}\u{ff12}\u{ff17}.\u{ff10}.\u{ff10}.\u{ff11}/",
    "HTTP://127.0.0.1/",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn host(s: &str) -> String {
        DeliveryUrl::parse("url", s).unwrap().host().to_string()
    }

    #[test]
    fn every_spelling_of_an_address_normalizes_to_it() {
        for spelling in LOOPBACK_SPELLINGS {
            assert_eq!(host(spelling), "127.0.0.1", "{spelling}");
            let u = DeliveryUrl::parse("url", spelling).unwrap();
            assert_eq!(
                u.host(),
                Host::<&str>::Ipv4(Ipv4Addr::LOCALHOST),
                "{spelling}"
            );
        }
        assert_eq!(host("http://0/"), "0.0.0.0");
        // Broker schemes keep hosts as text; an address among them is still an address.
        for broker in [
            "mqtt://169.254.169.254/t",
            "nats://0xa9.0xfe.0xa9.0xfe:4222/s",
            "redis://2852039166/0?stream=s",
            "amqp://u:p@169.254.43518/v?exchange=e&routingKey=k",
        ] {
            assert_eq!(host(broker), "169.254.169.254", "{broker}");
        }
        assert_eq!(host("mqtt://[::1]/t"), "[::1]");
        assert_eq!(host("nats://broker.example:4222/s"), "broker.example");
        assert_eq!(host("http://0251.0376.0251.0376/"), "169.254.169.254");
        assert_eq!(host("http://[::ffff:127.0.0.1]/"), "[::ffff:7f00:1]");
        assert_eq!(host("http://[0:0::1]/"), "[::1]");
        assert_eq!(host("https://EXAMPLE.com./x"), "example.com.");
        assert_eq!(host("https://bücher.example/"), "xn--bcher-kva.example");
    }

    #[test]
    fn only_absolute_http_urls_with_a_host() {
        for ok in [
            "https://example.com",
            "http://localhost:8080/hook?x=1",
            "https://user:pw@example.com/p",
            "http://[::1]:9000/x",
            "HTTPS://EXAMPLE.COM/",
        ] {
            let u = DeliveryUrl::parse("endpoint", ok).unwrap();
            assert_eq!(u.as_str(), ok, "the text is kept as sent");
        }
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com",
            "https://",
            "https:///path",
            "https://exa mple.com",
            "http://host:99999",
            "http://host:0/",
            "http://[zz]/",
            "http://1.2.3.4.5/",
            "http://0x100000000/",
            "http://e.com/\u{0}",
            "mailto:a@b.c",
            "file:///etc/passwd",
        ] {
            let e = DeliveryUrl::parse("endpoint", bad).unwrap_err();
            assert_eq!(e.field, "endpoint", "{bad}");
        }
        assert!(DeliveryUrl::parse("u", &format!("https://e.com/{}", "a".repeat(1000))).is_err());
    }

    #[test]
    fn nats_urls_name_a_host_and_a_subject() {
        let u = DeliveryUrl::parse("endpoint", "nats://127.0.0.1:4222/orders.created").unwrap();
        assert_eq!(u.kind(), DestinationKind::Nats);
        assert_eq!(u.url().path(), "/orders.created");
        assert_eq!(
            DeliveryUrl::parse("endpoint", "https://e.com/")
                .unwrap()
                .kind(),
            DestinationKind::Http
        );
        for (bad, needle) in [
            ("nats://127.0.0.1:4222", "no subject"),
            ("nats://127.0.0.1:4222/", "no subject"),
            ("nats://h/orders.*", "not a NATS subject"),
            ("nats://h/orders..x", "not a NATS subject"),
            ("nats://h/a/b", "not a NATS subject"),
            ("nats://h/s?x=1", "no query"),
            ("nats:///s", "host"),
            ("kafka://h/t", "scheme"),
        ] {
            let e = DeliveryUrl::parse("endpoint", bad).unwrap_err();
            assert_eq!(e.field, "endpoint");
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn redis_urls_name_a_stream() {
        let u =
            DeliveryUrl::parse("url", "redis://127.0.0.1:6379/2?stream=orders&maxlen=100").unwrap();
        assert_eq!(u.kind(), DestinationKind::Redis);
        assert_eq!(
            RedisTarget::of(u.url()).unwrap(),
            RedisTarget {
                db: 2,
                stream: "orders".into(),
                maxlen: Some(100)
            }
        );
        let u = DeliveryUrl::parse("url", "redis://h?stream=s").unwrap();
        assert_eq!(RedisTarget::of(u.url()).unwrap().db, 0);
        for (bad, needle) in [
            ("redis://h:6379/0", "no stream"),
            ("redis://h/0?stream=", "stream must be"),
            ("redis://h/x?stream=s", "database number"),
            ("redis://h/0?stream=s&maxlen=0", "maxlen"),
            ("redis://h/0?stream=s&cap=1", "unknown parameter"),
        ] {
            let e = DeliveryUrl::parse("url", bad).unwrap_err();
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn amqp_and_mqtt_urls_name_where_to_publish() {
        let u = DeliveryUrl::parse("url", "amqp://127.0.0.1:5672/%2f?exchange=ev&routingKey=k")
            .unwrap();
        assert_eq!(u.kind(), DestinationKind::Amqp);
        assert_eq!(AmqpTarget::of(u.url()).unwrap().exchange, "ev");
        let u = DeliveryUrl::parse("url", "MQTT://127.0.0.1:1883/a/b").unwrap();
        assert_eq!(u.kind(), DestinationKind::Mqtt);
        assert_eq!(mqtt_topic(u.url()).unwrap(), "a/b");
        for (bad, needle) in [
            ("amqp://h:5672/", "no exchange"),
            ("amqp:///x?exchange=e", "host"),
            ("mqtt://h:1883", "no topic"),
            ("mqtt://h/a/#", "fragment"),
        ] {
            let e = DeliveryUrl::parse("url", bad).unwrap_err();
            assert_eq!(e.field, "url");
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }
}
