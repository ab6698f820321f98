//! Which addresses deliveries may reach. Webhook targets are chosen by users, so without a guard
//! a target could point Switchyard at its own loopback services, the private network, or a cloud
//! metadata endpoint (SSRF). Every address class that is not the public internet is refused
//! unless an operator allow-lists it; the check runs on resolved addresses, so a hostname that
//! resolves to 127.0.0.1 is refused just like the literal.

use crate::delivery_url::DeliveryUrl;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::Host;

/// An IP network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128` or a bare address (a /32 or /128).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("'{s}' is not an IP network such as 10.0.0.0/8 or fd00::/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("'{s}': prefix length must be 0..={max}"))?,
            None => max,
        };
        Ok(Self { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = (prefix / 8) as usize;
    if a[..full] != b[..full] {
        return false;
    }
    let rest = prefix % 8;
    rest == 0 || (a[full] ^ b[full]) & (0xffu8 << (8 - rest)) == 0
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why an address is not on the public internet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Loopback,
    Private,
    LinkLocal,
    SharedCgnat,
    Multicast,
    Unspecified,
    Broadcast,
    Reserved,
    CloudMetadata,
    Documentation,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private network",
            AddressClass::LinkLocal => "link-local",
            AddressClass::SharedCgnat => "shared address space (CGNAT)",
            AddressClass::Multicast => "multicast",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Broadcast => "broadcast",
            AddressClass::Reserved => "reserved",
            AddressClass::CloudMetadata => "cloud metadata endpoint",
            AddressClass::Documentation => "documentation range",
        })
    }
}

/// The class of a non-public address, or `None` for a public one. IPv4 addresses embedded in
/// IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
/// are judged by their IPv4 part.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    use AddressClass::*;
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) || ip == Ipv4Addr::new(100, 100, 100, 200) => {
            CloudMetadata
        }
        (0, _, _) if ip.is_unspecified() => Unspecified,
        (0, _, _) => Reserved,
        (127, _, _) => Loopback,
        (10, _, _) | (192, 168, _) => Private,
        (172, b, _) if (16..32).contains(&b) => Private,
        (169, 254, _) => LinkLocal,
        (100, b, _) if (64..128).contains(&b) => SharedCgnat,
        (192, 0, 0) | (198, 18..=19, _) => Reserved,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Documentation,
        (224..=239, _, _) => Multicast,
        _ if ip.is_broadcast() => Broadcast,
        (240..=255, _, _) => Reserved,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    use AddressClass::*;
    if let Some(v4) = embedded_v4(ip) {
        return classify_v4(v4);
    }
    let seg = ip.segments();
    Some(match seg[0] {
        _ if ip.is_unspecified() => Unspecified,
        _ if ip.is_loopback() => Loopback,
        0xfd00 if seg[1] == 0x0ec2 && seg[7] == 0x0254 && seg[2..7].iter().all(|s| *s == 0) => {
            CloudMetadata
        }
        s if s & 0xfe00 == 0xfc00 => Private,
        s if s & 0xffc0 == 0xfe80 => LinkLocal,
        s if s & 0xffc0 == 0xfec0 => Reserved, // deprecated site-local
        s if s & 0xff00 == 0xff00 => Multicast,
        0x2001 if seg[1] == 0x0db8 => Documentation,
        0x0100 if seg[1..4] == [0, 0, 0] => Reserved, // discard-only
        _ => return None,
    })
}

fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = || {
        Ipv4Addr::new(
            (seg[6] >> 8) as u8,
            seg[6] as u8,
            (seg[7] >> 8) as u8,
            seg[7] as u8,
        )
    };
    if seg[..5] == [0, 0, 0, 0, 0]
        && (seg[5] == 0xffff || (seg[5] == 0 && !ip.is_loopback() && !ip.is_unspecified()))
    {
        return Some(tail()); // mapped or compatible
    }
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail()); // NAT64
    }
    if seg[0] == 0x2002 {
        return Some(Ipv4Addr::new(
            (seg[1] >> 8) as u8,
            seg[1] as u8,
            (seg[2] >> 8) as u8,
            seg[2] as u8,
        ));
    }
    None
}

/// The outbound policy: non-public addresses are refused unless allow-listed.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    allow: Vec<Cidr>,
    https_only: bool,
}

impl OutboundPolicy {
    /// `allow` is a comma-separated list of CIDRs (`SWITCHYARD_ALLOW_NETWORKS`).
    pub fn new(allow: &str, https_only: bool) -> Result<Self, String> {
        let allow = allow
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { allow, https_only })
    }

    pub fn https_only(&self) -> bool {
        self.https_only
    }

    /// `Err` with the reason when `ip` may not be contacted. An IPv6 address embedding an IPv4
    /// one is allowed when either is listed, as it is classified by its IPv4 part.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let listed = |a: IpAddr| self.allow.iter().any(|c| c.contains(a));
        match classify(ip) {
            Some(class) if !listed(ip) && !embedded.is_some_and(listed) => Err(format!(
                "address {ip} is not allowed ({class}); an operator can allow it with SWITCHYARD_ALLOW_NETWORKS"
            )),
            _ => Ok(()),
        }
    }

    /// Checks a delivery URL's scheme and its normalized host: an address literal (in whatever
    /// spelling it was written) is judged as the address; `localhost` and `*.localhost` (which
    /// resolve to loopback, RFC 6761) as loopback. Other names are checked after resolution, at
    /// connect time, by the guarded resolver.
    ///
    /// An `sqs://` URL names a region, not a host: it is sent to AWS's regional endpoint over
    /// https or to the operator's own endpoint override, never to an address the tenant chose.
    pub fn check_url(&self, url: &DeliveryUrl) -> Result<(), String> {
        if url.kind() == crate::invocation::DestinationKind::Sqs {
            return Ok(());
        }
        if self.https_only && !url.is_https() {
            return Err("only https URLs are allowed on this server".into());
        }
        self.check_host(&url.host())
    }

    /// Checks a normalized host (see [`Self::check_url`]).
    pub fn check_host(&self, host: &Host<&str>) -> Result<(), String> {
        match host {
            Host::Ipv4(v4) => self.check_ip(IpAddr::V4(*v4)),
            Host::Ipv6(v6) => self.check_ip(IpAddr::V6(*v6)),
            Host::Domain(name) if is_localhost(name) => self
                .check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST))
                .or_else(|_| self.check_ip(IpAddr::V6(Ipv6Addr::LOCALHOST)))
                .map_err(|_| {
                    format!(
                        "host {name} is loopback (localhost); an operator can allow it with SWITCHYARD_ALLOW_NETWORKS"
                    )
                }),
            Host::Domain(_) => Ok(()),
        }
    }
}

/// `localhost`, `*.localhost`, with or without the trailing root dot.
fn is_localhost(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name.eq_ignore_ascii_case("localhost")
        || name
            .get(name.len().saturating_sub(".localhost".len())..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(".localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn every_non_public_class_is_recognised() {
        use AddressClass::*;
        let cases = [
            ("127.0.0.1", Loopback),
            ("127.255.0.9", Loopback),
            ("::1", Loopback),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fc00::1", Private),
            ("fd12:3456::1", Private),
            ("169.254.1.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("100.64.0.1", SharedCgnat),
            ("100.127.255.255", SharedCgnat),
            ("224.0.0.1", Multicast),
            ("ff02::1", Multicast),
            ("0.0.0.0", Unspecified),
            ("::", Unspecified),
            ("255.255.255.255", Broadcast),
            ("169.254.169.254", CloudMetadata),
            ("100.100.100.200", CloudMetadata),
            ("fd00:ec2::254", CloudMetadata),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", CloudMetadata),
            ("::ffff:10.0.0.1", Private),
            ("64:ff9b::a00:1", Private),
            ("2002:7f00:1::", Loopback),
            ("::127.0.0.1", Loopback),
            ("240.0.0.1", Reserved),
            ("0.1.2.3", Reserved),
            ("192.0.2.1", Documentation),
            ("2001:db8::1", Documentation),
        ];
        for (addr, class) in cases {
            assert_eq!(classify(ip(addr)), Some(class), "{addr}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(classify(ip(public)), None, "{public}");
        }
    }

    #[test]
    fn allow_list_opens_exactly_its_networks() {
        let p = OutboundPolicy::new("127.0.0.0/8, ::1", false).unwrap();
        assert!(p.check_ip(ip("127.0.0.1")).is_ok());
        assert!(p.check_ip(ip("::1")).is_ok());
        assert!(p.check_ip(ip("::ffff:127.0.0.1")).is_ok());
        assert!(p.check_ip(ip("::ffff:10.0.0.1")).is_err());
        assert!(p.check_ip(ip("10.0.0.1")).is_err());
        assert!(p.check_ip(ip("8.8.8.8")).is_ok());
        let closed = OutboundPolicy::new("", false).unwrap();
        let err = closed.check_ip(ip("127.0.0.1")).unwrap_err();
        assert!(err.contains("loopback"), "{err}");
        assert!(OutboundPolicy::new("10.0.0.0/33", false).is_err());
        assert!(OutboundPolicy::new("nonsense", false).is_err());
    }

    #[test]
    fn cidr_prefixes_match_bitwise() {
        let c = Cidr::parse("172.16.0.0/12").unwrap();
        assert!(c.contains(ip("172.31.1.1")));
        assert!(!c.contains(ip("172.32.0.0")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(!Cidr::parse("::/0").unwrap().contains(ip("1.2.3.4")));
    }

    fn url(s: &str) -> DeliveryUrl {
        DeliveryUrl::parse("url", s).unwrap()
    }

    #[test]
    fn urls_are_checked_by_normalized_host_and_scheme() {
        let p = OutboundPolicy::new("", true).unwrap();
        assert!(p
            .check_url(&url("http://example.com/"))
            .unwrap_err()
            .contains("https"));
        let p = OutboundPolicy::new("", false).unwrap();
        assert!(p.check_url(&url("http://127.0.0.1:8080/x")).is_err());
        assert!(p.check_url(&url("http://[::1]:80/")).is_err());
        assert!(p.check_url(&url("http://user:pw@10.0.0.1/")).is_err());
        assert!(p
            .check_url(&url("https://example.com:8443/hook?a=1"))
            .is_ok());
        assert!(p.check_url(&url("http://[::ffff:7f00:1]/")).is_err());
        assert!(p.check_url(&url("http://8.8.8.8/")).is_ok());
    }

    #[test]
    fn every_bypass_spelling_is_refused() {
        let p = OutboundPolicy::new("", false).unwrap();
        let others = [
            "http://0/",
            "http://[::ffff:127.0.0.1]/",
            "http://0251.0376.0251.0376/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[fd00:ec2::254]/",
            "http://localhost:9/",
            "http://LOCALHOST./",
            "http://api.localhost/",
        ];
        for spelling in crate::delivery_url::LOOPBACK_SPELLINGS
            .iter()
            .chain(&others)
        {
            let err = p.check_url(&url(spelling)).unwrap_err();
            assert!(
                err.contains("not allowed") || err.contains("loopback"),
                "{spelling}: {err}"
            );
        }
        let metadata = p
            .check_url(&url("http://0251.0376.0251.0376/"))
            .unwrap_err();
        assert!(metadata.contains("cloud metadata"), "{metadata}");
        assert!(p.check_url(&url("http://notlocalhost/")).is_ok());
        let open = OutboundPolicy::new("127.0.0.0/8", false).unwrap();
        assert!(open.check_url(&url("http://127.1:9/")).is_ok());
        assert!(open.check_url(&url("http://localhost:9/")).is_ok());
        assert!(open.check_url(&url("http://0251.0376.0251.0376/")).is_err());
    }
}
