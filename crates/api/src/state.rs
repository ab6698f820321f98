//! Shared state of every handler: the store, the master key, the clock, the API settings and the
//! authentication state (token verifier and rate limiter).

use crate::auth::AuthState;
use std::sync::Arc;
use switchyard_core::crypto::MasterKey;
use switchyard_core::delivery_url::DeliveryUrl;
use switchyard_core::netguard::OutboundPolicy;
use switchyard_core::payload::PayloadLimits;
use switchyard_core::zitadel::ZitadelCatalog;
use switchyard_core::{Clock, ValidationError};
use switchyard_delivery::calls::CallRunner;
use switchyard_delivery::Engine;
use switchyard_store::Store;

/// Settings the API needs at request time.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Largest accepted request body in bytes (413 above it).
    pub max_body_bytes: usize,
    /// Public base URL of this server, used to build callback URLs (`http://127.0.0.1:8080`).
    pub public_url: String,
    /// Size and depth bounds of payloads, inputs and outputs.
    pub payload: PayloadLimits,
    /// Work a filter may do on a `validate-filter` sample, in budget units.
    pub filter_budget: u64,
}

impl Default for ApiSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            public_url: "http://127.0.0.1:8080".to_string(),
            payload: PayloadLimits::default(),
            filter_budget: switchyard_core::jsonpath::DEFAULT_BUDGET,
        }
    }
}

/// Cloned into every handler; cheap (all `Arc`s).
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub master_key: MasterKey,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<ApiSettings>,
    /// The delivery engine: publishing, replays, metrics, route-cache invalidation.
    pub engine: Engine,
    /// Synchronous ZITADEL call chains (`/v1/calls`) and the per-target circuit breakers.
    pub calls: CallRunner,
    /// The retention purger (its counters; expunges are counted there too).
    pub retention: switchyard_delivery::retention::Retention,
    /// Names ZITADEL execution conditions may use (functions, methods, services, events).
    pub zitadel_catalog: Arc<ZitadelCatalog>,
    /// Which addresses deliveries may reach; literal addresses are checked when routes are saved.
    pub outbound: Arc<OutboundPolicy>,
    pub auth: Arc<AuthState>,
    /// The instances' web keys: JWT payloads, `/oauth/v2/keys`, rotation.
    pub web_keys: Arc<switchyard_delivery::web_keys::WebKeys>,
}

impl AppState {
    /// Rejects a route URL that outbound protection would refuse anyway (a private, loopback or
    /// metadata address in any spelling, `localhost`, or http on an https-only server), or a
    /// destination kind this build has no transport for, naming the field.
    pub fn check_outbound(&self, field: &str, url: &DeliveryUrl) -> Result<(), ValidationError> {
        switchyard_delivery::transport::compiled_in(url.kind())
            .map_err(|missing| ValidationError::new(field, missing))?;
        self.outbound
            .check_url(url)
            .map_err(|reason| ValidationError::new(field, reason))
    }

    /// Refuses a payload, input or output (named `field`) beyond the configured size or depth.
    pub fn check_payload(
        &self,
        field: &str,
        value: &serde_json::Value,
    ) -> Result<(), ValidationError> {
        self.settings.payload.check(field, value)
    }
}
