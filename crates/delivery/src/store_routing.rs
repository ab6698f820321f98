//! The dialect-aware [`Routing`]: reads triggers, subscriptions, executions and targets from the
//! store, opens their secrets with the master key, and caches the result per instance. The API
//! invalidates an instance's entries whenever one of its routes changes; entries that hold a key
//! in its rotation grace period also expire when that key does.

use crate::payload_type::PayloadEncoding;
use crate::routing::*;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use switchyard_core::crypto::MasterKey;
use switchyard_core::delivery_url::{is_sealed, DeliveryUrl};
use switchyard_core::jsonpath::Budget;
use switchyard_core::policy::RoutePolicy;
use switchyard_core::sailpoint::{
    DispatchMode, HttpAuth, SubscriptionTarget, TriggerCatalog, TriggerType,
};
use switchyard_core::signing::webhook_secret_bytes;
use switchyard_core::zitadel::{Condition, EventSelector, TargetType, ZitadelCatalog};
use switchyard_core::{Clock, InstanceId, Timestamp};
use switchyard_store::keys::SealedKey;
use switchyard_store::queue::RouteKind;
use switchyard_store::{Store, StoreError};

/// How long a subscriber may take to acknowledge a delivery (SailPoint's 10 s).
pub const DEFAULT_SUBSCRIPTION_TIMEOUT: Duration = Duration::from_secs(10);

type DestKey = (InstanceId, RouteKind, String);
type PlanKey = (InstanceId, String);
type PolicyKey = DestKey;

struct Cached<T> {
    value: T,
    /// When a signing key in the value stops being valid.
    valid_until: Option<Timestamp>,
}

/// Store-backed, cached routing.
pub struct StoreRouting {
    store: Arc<dyn Store>,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    zitadel_catalog: Arc<ZitadelCatalog>,
    subscription_timeout: Duration,
    /// EventBridge partner mode: the partner name of every subscription's event source.
    eventbridge_partner: Option<String>,
    plans: RwLock<HashMap<PlanKey, Cached<Arc<FanoutPlan>>>>,
    destinations: RwLock<HashMap<DestKey, Cached<Option<Arc<Destination>>>>>,
    policies: RwLock<HashMap<PolicyKey, Cached<Arc<RoutePolicy>>>>,
}

impl StoreRouting {
    pub fn new(
        store: Arc<dyn Store>,
        master_key: MasterKey,
        clock: Arc<dyn Clock>,
        zitadel_catalog: Arc<ZitadelCatalog>,
        subscription_timeout: Duration,
    ) -> Self {
        Self {
            store,
            master_key,
            clock,
            zitadel_catalog,
            subscription_timeout,
            eventbridge_partner: None,
            plans: RwLock::default(),
            destinations: RwLock::default(),
            policies: RwLock::default(),
        }
    }

    /// Delivers EVENTBRIDGE subscriptions as `partner`'s partner events.
    pub fn with_eventbridge_partner(mut self, partner: Option<String>) -> Self {
        self.eventbridge_partner = partner;
        self
    }

    fn partner_source(&self, subscription_id: &str, trigger_id: &str) -> Option<String> {
        let partner = self.eventbridge_partner.as_deref()?;
        // `partner_source_name` is plain text work, compiled in every build.
        Some(crate::transport::eventbridge::partner_source_name(
            partner,
            subscription_id,
            trigger_id,
        ))
    }

    async fn build_plan(
        &self,
        instance: &InstanceId,
        event_type: &str,
    ) -> Result<FanoutPlan, RoutingError> {
        let mut plan = FanoutPlan::default();
        let custom = self.store.custom_triggers(instance).await?;
        let catalog = TriggerCatalog::with_custom(custom);
        let trigger = catalog.get(event_type).cloned();
        if let Some(trigger) = &trigger {
            let t = trigger.clone();
            plan.validator = Some(Arc::new(move |v| t.validate_input(v)));
            if trigger.kind() == TriggerType::RequestResponse {
                plan.request_response = true;
                let t = trigger.clone();
                plan.output_validator = Some(Arc::new(move |v| t.validate_output(v)));
            }
            for sub in self
                .store
                .trigger_subscriptions(instance, event_type)
                .await?
            {
                let filter: Option<PayloadFilter> = sub.filter.map(|f| {
                    let f = Arc::new(f);
                    Arc::new(move |v: &serde_json::Value, b: &mut Budget| f.matches(v, b))
                        as PayloadFilter
                });
                let policy = self
                    .policy(instance, RouteKind::Subscription, &sub.id)
                    .await?;
                plan.subscriptions.push(PlannedSubscription {
                    gated: policy.is_gated(),
                    ordering: policy.ordering.as_ref().map(|o| o.key.clone()),
                    id: sub.id,
                    enabled: sub.enabled,
                    filter,
                    response_deadline: sub.response_deadline.duration(),
                });
            }
        }
        let condition = Condition::Event(EventSelector::Event(event_type.to_string()));
        let execution = self.store.resolve_execution(instance, &condition).await?;
        if let Some(exec) = &execution {
            for t in &exec.targets {
                if self
                    .store
                    .is_route_disabled(instance, RouteKind::Target, &t.id)
                    .await?
                {
                    continue;
                }
                let policy = self.policy(instance, RouteKind::Target, &t.id).await?;
                plan.targets.push(PlannedTarget {
                    gated: policy.is_gated(),
                    ordering: policy.ordering.as_ref().map(|o| o.key.clone()),
                    id: t.id.clone(),
                    awaited: !matches!(t.config.target_type, TargetType::Async),
                    interrupt_on_error: t.config.target_type.interrupt_on_error(),
                });
            }
        }
        let known_event = self.zitadel_catalog.events().any(|e| e == event_type);
        if trigger.is_none() && execution.is_none() && !known_event {
            return Err(RoutingError::UnknownType(event_type.to_string()));
        }
        Ok(plan)
    }

    async fn build_destination(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> Result<Cached<Option<Arc<Destination>>>, RoutingError> {
        let now = self.clock.now();
        let none = Cached {
            value: None,
            valid_until: None,
        };
        match kind {
            RouteKind::Subscription => {
                let sub = match self.store.subscription(instance, id).await {
                    Ok(s) => s,
                    Err(StoreError::NotFound) => return Ok(none),
                    Err(e) => return Err(e.into()),
                };
                let http = match sub.target {
                    SubscriptionTarget::EventBridge(eb) => {
                        return Ok(Cached {
                            value: Some(Arc::new(Destination {
                                endpoint: Endpoint::EventBridge {
                                    account: eb.aws_account().to_string(),
                                    region: eb.aws_region().to_string(),
                                    partner_source: self.partner_source(&sub.id, &sub.trigger_id),
                                },
                                timeout: self.subscription_timeout,
                                authorization: None,
                                signing: Signing::StandardWebhooks(Vec::new()),
                                body: BodyStyle::SailPointFireAndForget,
                                payload: PayloadEncoding::Json,
                                // No answer comes back through EventBridge: a request-response
                                // trigger's output arrives by callback.
                                dispatch: Some(DispatchMode::Async),
                            })),
                            valid_until: None,
                        });
                    }
                    SubscriptionTarget::Http(h) => h,
                };
                let authorization = match &http.auth {
                    HttpAuth::NoAuth => None,
                    HttpAuth::BasicAuth {
                        user_name,
                        password,
                    } => {
                        let password = self.open(password.expose())?;
                        Some(format!(
                            "Basic {}",
                            STANDARD.encode(format!("{user_name}:{password}"))
                        ))
                    }
                    HttpAuth::BearerToken { token } => {
                        Some(format!("Bearer {}", self.open(token.expose())?))
                    }
                };
                let keys = self.store.subscription_keys(instance, id, now).await?;
                let valid_until = earliest_expiry(&keys);
                let secrets = keys
                    .iter()
                    .map(|k| {
                        self.open(&k.sealed)
                            .map(|s| webhook_secret_bytes(&s).unwrap_or_default())
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Cached {
                    value: Some(Arc::new(Destination {
                        endpoint: Endpoint::of_url(self.open_url(http.delivery_url())?),
                        timeout: self.subscription_timeout,
                        authorization,
                        signing: Signing::StandardWebhooks(secrets),
                        body: BodyStyle::SailPointFireAndForget,
                        payload: PayloadEncoding::Json,
                        dispatch: Some(http.dispatch_mode),
                    })),
                    valid_until,
                })
            }
            RouteKind::Target => {
                let target = match self.store.get_target(instance, id).await {
                    Ok(t) => t,
                    Err(StoreError::NotFound) => return Ok(none),
                    Err(e) => return Err(e.into()),
                };
                if self
                    .store
                    .is_route_disabled(instance, RouteKind::Target, id)
                    .await?
                {
                    return Ok(none);
                }
                let keys = self.store.target_signing_keys(instance, id, now).await?;
                let (payload, key_expiry) = PayloadEncoding::resolve(
                    self.store.as_ref(),
                    instance,
                    id,
                    target.config.payload_type,
                    now,
                )
                .await?;
                let valid_until = earliest(earliest_expiry(&keys), key_expiry);
                let opened = keys
                    .iter()
                    .map(|k| self.open(&k.sealed))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Cached {
                    value: Some(Arc::new(Destination {
                        endpoint: Endpoint::of_url(self.open_url(target.config.endpoint.url())?),
                        timeout: target.config.timeout.duration(),
                        authorization: None,
                        signing: Signing::Zitadel(opened),
                        body: BodyStyle::ZitadelEvent,
                        payload,
                        dispatch: None,
                    })),
                    valid_until,
                })
            }
        }
    }

    /// The URL with its sealed password opened (one stored before passwords in URLs were sealed
    /// is used as it is).
    fn open_url(&self, url: &DeliveryUrl) -> Result<DeliveryUrl, RoutingError> {
        url.map_password(|p| {
            if is_sealed(p) {
                self.open(p)
            } else {
                Ok(p.to_string())
            }
        })
    }

    fn open(&self, sealed: &str) -> Result<String, RoutingError> {
        self.master_key.open_str(sealed).map_err(|e| {
            RoutingError::Store(StoreError::Internal(anyhow::anyhow!(
                "cannot open a stored secret: {e}"
            )))
        })
    }
}

fn earliest_expiry(keys: &[SealedKey]) -> Option<Timestamp> {
    keys.iter().filter_map(|k| k.expires_at).min()
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[async_trait]
impl Routing for StoreRouting {
    async fn plan(
        &self,
        instance: &InstanceId,
        event_type: &str,
    ) -> Result<Arc<FanoutPlan>, RoutingError> {
        let key = (instance.clone(), event_type.to_string());
        let now = self.clock.now();
        if let Some(c) = self
            .plans
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if c.valid_until.is_none_or(|t| t > now) {
                return Ok(c.value.clone());
            }
        }
        let plan = Arc::new(self.build_plan(instance, event_type).await?);
        self.plans
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key,
                Cached {
                    value: plan.clone(),
                    valid_until: Some(cache_until(now, None)),
                },
            );
        Ok(plan)
    }

    async fn destination(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> Result<Option<Arc<Destination>>, RoutingError> {
        let key = (instance.clone(), kind, id.to_string());
        let now = self.clock.now();
        if let Some(c) = self
            .destinations
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if c.valid_until.is_none_or(|t| t > now) {
                return Ok(c.value.clone());
            }
        }
        let mut built = self.build_destination(instance, kind, id).await?;
        built.valid_until = Some(cache_until(now, built.valid_until));
        let value = built.value.clone();
        self.destinations
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, built);
        Ok(value)
    }

    async fn policy(
        &self,
        instance: &InstanceId,
        kind: RouteKind,
        id: &str,
    ) -> Result<Arc<RoutePolicy>, RoutingError> {
        let key = (instance.clone(), kind, id.to_string());
        let now = self.clock.now();
        if let Some(c) = self
            .policies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            if c.valid_until.is_none_or(|t| t > now) {
                return Ok(c.value.clone());
            }
        }
        let policy = Arc::new(
            self.store
                .route_policy(instance, kind, id)
                .await?
                .unwrap_or_default(),
        );
        self.policies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                key,
                Cached {
                    value: policy.clone(),
                    valid_until: Some(cache_until(now, None)),
                },
            );
        Ok(policy)
    }

    fn invalidate(&self, instance: &InstanceId) {
        self.policies
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _, _), _| i != instance);
        self.plans
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _), _| i != instance);
        self.destinations
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _, _), _| i != instance);
    }
}
