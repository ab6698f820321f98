//! The URL and host guard. Input: a URL. Nothing may panic; for every URL that parses:
//! - the host the client connects to is stable: the parsed URL re-serialized and parsed again
//!   (what reqwest and hyper do) has the same host;
//! - a host the client would treat as an address literal (Rust's `IpAddr` parser, which the
//!   connector uses to skip DNS) is always judged as that address, never passed as a name;
//! - a non-public address is refused with an empty allow-list, in every spelling.

#![no_main]
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;
use switchyard_core::delivery_url::DeliveryUrl;
use switchyard_core::netguard::{classify, OutboundPolicy};
use url::Host;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(u) = DeliveryUrl::parse("url", s) else {
        return;
    };
    let host = u.host();
    let again = url::Url::parse(u.url().as_str()).expect("a serialized URL parses");
    assert_eq!(again.host(), u.url().host(), "{s:?}");
    let policy = OutboundPolicy::new("", false).expect("empty allow-list");
    let verdict = policy.check_url(&u);
    match &host {
        Host::Ipv4(v4) => {
            assert_eq!(
                verdict.is_ok(),
                classify(IpAddr::V4(*v4)).is_none(),
                "{s:?}"
            );
        }
        Host::Ipv6(v6) => {
            assert_eq!(
                verdict.is_ok(),
                classify(IpAddr::V6(*v6)).is_none(),
                "{s:?}"
            );
        }
        Host::Domain(name) => {
            let bare = name.trim_start_matches('[').trim_end_matches(']');
            assert!(
                bare.parse::<IpAddr>().is_err(),
                "{s:?}: domain {name} is an address"
            );
        }
    }
});
