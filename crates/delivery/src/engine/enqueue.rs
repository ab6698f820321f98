//! Durable hand-off of single deliveries that do not come from fan-out: the restAsync targets of
//! a ZITADEL call chain. The caller does not wait for them, but once the call has answered they
//! must not be lost, so each becomes an invocation in the durable queue (retried, logged) whose
//! body is exactly what the chain built for that target.

use super::Engine;
use crate::publish::PublishError;
use serde_json::json;
use switchyard_core::{ids, InstanceId};
use switchyard_store::queue::{InitialState, InvocationKind, NewEvent, NewInvocation, RouteKind};

impl Engine {
    /// Queues `body` for target `target_id` of call `call_id` (step `n`); returns the invocation
    /// id once it is durable.
    pub async fn enqueue_call_target(
        &self,
        instance: &InstanceId,
        call_id: &str,
        n: u32,
        target_id: &str,
        body: Vec<u8>,
    ) -> Result<String, PublishError> {
        let payload = String::from_utf8(body)
            .map_err(|_| PublishError::Invalid("a call body must be UTF-8 JSON".into()))?;
        let now = self.inner.clock.now();
        let invocation = ids::ordered_uuid();
        let event = NewEvent {
            instance: instance.clone(),
            id: format!("call-{call_id}-{n}"),
            event_type: "zitadel.call".into(),
            payload: payload.into(),
            content_json: None,
            created_at: now,
            kind: InvocationKind::Call,
            invocations: vec![NewInvocation {
                id: invocation.clone(),
                secret_hash: None,
                route_kind: RouteKind::Target,
                route_id: target_id.to_string(),
                state: InitialState::Leased(now.plus(self.inner.config.lease)),
                deadline_at: None,
                chain_next: None,
                interrupt_on_error: false,
                gated: false,
                order_key: None,
            }],
            response: json!({"invocation": invocation}).to_string(),
        };
        self.commit(event).await?;
        Ok(invocation)
    }
}
