//! Outbound protection at connect time. The HTTP client resolves every hostname through
//! [`GuardedResolver`], which drops addresses the [`OutboundPolicy`] refuses; the client then
//! connects only to what the resolver returned, so a DNS answer cannot be swapped between check
//! and connect (DNS rebinding). URLs with a literal IP never reach the resolver and are checked
//! by the sender before it sends.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use switchyard_core::netguard::OutboundPolicy;

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
            if allowed.is_empty() {
                let reason = refused.unwrap_or_else(|| "it resolved to no address".to_string());
                return Err(format!("{host} refused: {reason}").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
