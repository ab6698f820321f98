//! What an `mqtt://` URL names besides the server: the topic a delivery is published to (the
//! percent-decoded path, which may contain `/` levels). Checked when the URL is parsed, so a
//! topic a broker would refuse is a 400 naming the field rather than a failed attempt later.

use percent_encoding::percent_decode_str;
use url::Url;

const EXPECTED: &str =
    "expected mqtt://HOST:PORT/TOPIC, e.g. mqtt://mqtt.example.com:1883/orders/created";

/// The topic of an `mqtt://` URL.
pub fn topic_of(url: &Url) -> Result<String, String> {
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "an mqtt URL takes no query or fragment; {EXPECTED}"
        ));
    }
    let raw = url.path().strip_prefix('/').unwrap_or(url.path());
    let topic = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| format!("the topic is not UTF-8; {EXPECTED}"))?
        .into_owned();
    if topic.is_empty() {
        return Err(format!("names no topic; {EXPECTED}"));
    }
    if topic.contains(['+', '#']) {
        return Err(format!(
            "'{topic}' is a topic filter; publishing needs a topic without the wildcards '+' and '#'; {EXPECTED}"
        ));
    }
    if topic.starts_with('$') {
        return Err(format!(
            "'{topic}': topics beginning with '$' are reserved by the broker; {EXPECTED}"
        ));
    }
    if topic.chars().any(char::is_control) {
        return Err(format!(
            "the topic must not contain control characters; {EXPECTED}"
        ));
    }
    Ok(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> Result<String, String> {
        topic_of(&Url::parse(s).unwrap())
    }

    #[test]
    fn the_path_is_the_topic() {
        assert_eq!(
            of("mqtt://h:1883/orders/created").unwrap(),
            "orders/created"
        );
        assert_eq!(of("mqtt://h/a%20b/c").unwrap(), "a b/c");
        assert_eq!(of("mqtt://h//leading").unwrap(), "/leading");
        for (bad, needle) in [
            ("mqtt://h", "no topic"),
            ("mqtt://h/", "no topic"),
            ("mqtt://h/a/+/c", "wildcards"),
            ("mqtt://h/a/%23", "wildcards"),
            ("mqtt://h/$SYS/x", "reserved"),
            ("mqtt://h/a?qos=2", "no query"),
            ("mqtt://h/a%00b", "control"),
        ] {
            let e = of(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }
}
