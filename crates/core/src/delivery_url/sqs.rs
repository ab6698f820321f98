//! What an `sqs://REGION/ACCOUNT/QUEUE` URL names: an AWS SQS queue. The "host" is the
//! region, not a network host: the transport sends to the region's SQS endpoint (or the
//! operator's `AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`), so a tenant never picks the address
//! connected to. The region is therefore held to AWS's spelling (lower-case letters, digits and
//! dashes), and everything else AWS would refuse later is refused here as a 400 naming the field.

use url::Url;

const EXPECTED: &str =
    "expected sqs://REGION/ACCOUNT/QUEUE, e.g. sqs://eu-west-1/123456789012/orders (orders.fifo for a FIFO queue)";

/// The queue an `sqs://` URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsTarget {
    pub region: String,
    /// The 12-digit AWS account id that owns the queue.
    pub account: String,
    pub queue: String,
}

impl SqsTarget {
    /// Reads and checks the region, account and queue name of an `sqs://` URL.
    pub fn of(url: &Url) -> Result<Self, String> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(format!(
                "an sqs URL carries no credentials (they come from the server's AWS credential chain); {EXPECTED}"
            ));
        }
        if url.port().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(format!(
                "an sqs URL takes no port, query or fragment; {EXPECTED}"
            ));
        }
        let region = url.host_str().unwrap_or("");
        if !valid_region(region) {
            return Err(format!(
                "'{region}' is not an AWS region (lower-case letters, digits and '-'); {EXPECTED}"
            ));
        }
        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        let (account, queue) = path
            .split_once('/')
            .ok_or_else(|| format!("names no queue; {EXPECTED}"))?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "'{account}' is not an AWS account id (12 digits); {EXPECTED}"
            ));
        }
        if queue.is_empty() {
            return Err(format!("names no queue; {EXPECTED}"));
        }
        let stem = queue.strip_suffix(".fifo").unwrap_or(queue);
        if queue.len() > 80
            || stem.is_empty()
            || !stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "'{queue}' is not an SQS queue name (1 to 80 letters, digits, '-' or '_', \
                 with '.fifo' at the end for a FIFO queue); {EXPECTED}"
            ));
        }
        Ok(Self {
            region: region.to_string(),
            account: account.to_string(),
            queue: queue.to_string(),
        })
    }

    /// A FIFO queue: every message needs a group id and a deduplication id.
    pub fn is_fifo(&self) -> bool {
        self.queue.ends_with(".fifo")
    }
}

/// Whether `region` is spelled like an AWS region (it becomes part of a host name).
pub fn valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 32
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(s: &str) -> Result<SqsTarget, String> {
        SqsTarget::of(&Url::parse(s).unwrap())
    }

    #[test]
    fn queues_by_region_account_and_name() {
        let t = of("sqs://eu-west-1/123456789012/orders").unwrap();
        assert_eq!(
            t,
            SqsTarget {
                region: "eu-west-1".into(),
                account: "123456789012".into(),
                queue: "orders".into()
            }
        );
        assert!(!t.is_fifo());
        assert!(of("sqs://us-east-1/123456789012/o_1-x.fifo")
            .unwrap()
            .is_fifo());
        for (bad, needle) in [
            ("sqs://eu-west-1/123456789012", "no queue"),
            ("sqs://eu-west-1/123456789012/", "no queue"),
            ("sqs://EU-west-1/123456789012/q", "not an AWS region"),
            ("sqs://evil.com/123456789012/q", "not an AWS region"),
            ("sqs://eu-west-1/1234/q", "account id"),
            ("sqs://eu-west-1/123456789012/a/b", "queue name"),
            ("sqs://eu-west-1/123456789012/.fifo", "queue name"),
            ("sqs://eu-west-1/123456789012/q%20x", "queue name"),
            ("sqs://eu-west-1:443/123456789012/q", "no port"),
            ("sqs://eu-west-1/123456789012/q?x=1", "no port"),
            ("sqs://k:s@eu-west-1/123456789012/q", "no credentials"),
        ] {
            let e = of(bad).unwrap_err();
            assert!(e.contains(needle), "{bad}: {e}");
        }
        assert!(of(&format!("sqs://r/123456789012/{}", "q".repeat(81))).is_err());
    }

    #[test]
    fn sqs_urls_are_their_own_kind_and_name_no_host() {
        use crate::delivery_url::DeliveryUrl;
        let u = DeliveryUrl::parse("endpoint", "sqs://eu-west-1/123456789012/q").unwrap();
        assert_eq!(u.kind(), crate::invocation::DestinationKind::Sqs);
        // Sent to AWS's https endpoint or the operator's override: an https-only server takes it.
        let strict = crate::netguard::OutboundPolicy::new("", true).unwrap();
        assert!(strict.check_url(&u).is_ok());
        let e = DeliveryUrl::parse("endpoint", "sqs://eu-west-1/123456789012").unwrap_err();
        assert_eq!(e.field, "endpoint");
        assert!(e.to_string().contains("no queue"), "{e}");
    }
}
