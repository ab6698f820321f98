//! What an `amqp://` URL names besides the server: the virtual host, the exchange and the
//! routing key a delivery is published with. Read once when the URL is parsed (so a malformed
//! one is a 400 naming the field) and again by the transport, from the same parsed URL.

use percent_encoding::percent_decode_str;
use url::Url;

const EXPECTED: &str = "expected amqp://HOST:PORT/VHOST?exchange=EX&routingKey=RK, e.g. amqp://rabbit.example.com:5672/%2f?exchange=events&routingKey=orders.created";

/// AMQP caps exchange names and routing keys at 255 bytes (a short string).
const MAX_SHORT: usize = 255;

/// Where a message published to an `amqp://` URL goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AmqpTarget {
    /// The percent-decoded path; an empty path is RabbitMQ's default virtual host `/`.
    pub vhost: String,
    /// The exchange; empty is the default exchange (the routing key names a queue).
    pub exchange: String,
    pub routing_key: String,
}

impl AmqpTarget {
    /// Reads and checks the virtual host, `exchange` and `routingKey` of an `amqp://` URL.
    pub fn of(url: &Url) -> Result<Self, String> {
        if url.fragment().is_some() {
            return Err(format!("an amqp URL takes no fragment; {EXPECTED}"));
        }
        let raw = url.path().trim_start_matches('/');
        let vhost = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| format!("the virtual host is not UTF-8; {EXPECTED}"))?
            .into_owned();
        let vhost = if vhost.is_empty() { "/".into() } else { vhost };
        if vhost.len() > MAX_SHORT || vhost.chars().any(char::is_control) {
            return Err(format!(
                "the virtual host must be at most {MAX_SHORT} bytes without control characters; {EXPECTED}"
            ));
        }
        let (mut exchange, mut routing_key) = (None, None);
        for (k, v) in url.query_pairs() {
            let slot = match k.as_ref() {
                "exchange" => &mut exchange,
                "routingKey" => &mut routing_key,
                other => return Err(format!("unknown parameter '{other}'; {EXPECTED}")),
            };
            if slot.is_some() {
                return Err(format!("'{k}' is given twice; {EXPECTED}"));
            }
            if v.len() > MAX_SHORT || v.chars().any(char::is_control) {
                return Err(format!(
                    "{k} must be at most {MAX_SHORT} bytes without control characters; {EXPECTED}"
                ));
            }
            *slot = Some(v.into_owned());
        }
        let exchange = exchange.unwrap_or_default();
        let routing_key = routing_key.unwrap_or_default();
        if exchange.is_empty() && routing_key.is_empty() {
            return Err(format!("names no exchange and no routing key; {EXPECTED}"));
        }
        Ok(Self {
            vhost,
            exchange,
            routing_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> Result<AmqpTarget, String> {
        AmqpTarget::of(&Url::parse(s).unwrap())
    }

    #[test]
    fn vhost_exchange_and_routing_key() {
        assert_eq!(
            of("amqp://h:5672/%2f?exchange=events&routingKey=orders.created").unwrap(),
            AmqpTarget {
                vhost: "/".into(),
                exchange: "events".into(),
                routing_key: "orders.created".into()
            }
        );
        let t = of("amqp://h/prod?routingKey=jobs").unwrap();
        assert_eq!((t.vhost.as_str(), t.exchange.as_str()), ("prod", ""));
        assert_eq!(of("amqp://h?exchange=x").unwrap().vhost, "/");
        assert_eq!(of("amqp://h/?exchange=x").unwrap().vhost, "/");
        assert_eq!(
            of("amqp://h/?exchange=amq.topic").unwrap().exchange,
            "amq.topic"
        );
        for (bad, needle) in [
            ("amqp://h/", "no exchange"),
            ("amqp://h/?exchange=&routingKey=", "no exchange"),
            ("amqp://h/?exchange=a&queue=b", "unknown parameter"),
            ("amqp://h/?exchange=a&exchange=b", "twice"),
            ("amqp://h/?exchange=a#f", "fragment"),
            ("amqp://h/%ff?exchange=a", "UTF-8"),
        ] {
            let e = of(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
        let long = "k".repeat(256);
        assert!(of(&format!("amqp://h/?routingKey={long}")).is_err());
    }
}
