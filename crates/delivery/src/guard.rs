//! Outbound protection at connect time. The HTTP client resolves every hostname through
//! [`GuardedResolver`], which drops addresses the [`OutboundPolicy`] refuses; the client then
//! connects only to what the resolver returned, so a DNS answer cannot be swapped between check
//! and connect (DNS rebinding). URLs whose normalized host is an address literal never reach the
//! resolver; the sender checks them on the same parsed URL it hands the client.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use switchyard_core::netguard::OutboundPolicy;

/// Outbound protection refused a destination. A permanent failure: the sender recognises it in
/// a request error's cause chain, so the attempt fails at once instead of being retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The refusal somewhere in `err`'s cause chain, if any.
pub fn find_refusal<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(r) = e.downcast_ref::<Refused>() {
            return Some(r);
        }
        cur = e.source();
    }
    None
}

/// A resolver that only returns allowed addresses.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: Arc<OutboundPolicy>,
}

impl GuardedResolver {
    pub fn new(policy: Arc<OutboundPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| match policy.check_ip(a.ip()) {
                    Ok(()) => true,
                    Err(e) => {
                        refused.get_or_insert(e);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refused) {
                (false, _) => Ok(Box::new(allowed.into_iter()) as Addrs),
                (true, Some(reason)) => Err(Box::new(Refused(format!("{host}: {reason}"))) as _),
                (true, None) => Err(format!("{host} resolved to no address").into()),
            }
        })
    }
}
