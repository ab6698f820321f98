//! Choosing the subscriptions an event reaches without holding the async runtime: cheap
//! filters run inline, costly ones on the blocking pool, a bounded number of events at a time
//! (see [`crate::filters`]).

use super::Engine;
use crate::filters;
use crate::publish::{PublishError, PublishRequest};
use crate::routing::FanoutPlan;
use std::sync::Arc;

impl Engine {
    /// The plan's subscriptions `req` reaches (see [`crate::filters`]): evaluated inline when
    /// cheap, else on the blocking pool with a full budget per filter.
    pub(super) async fn select_subscriptions(
        &self,
        req: PublishRequest,
        plan: Arc<FanoutPlan>,
    ) -> Result<(PublishRequest, Vec<usize>), PublishError> {
        if let Some(s) = filters::select_inline(&req, &plan, filters::INLINE_UNITS) {
            return Ok((req, s.matched));
        }
        let inner = &self.inner;
        let _slot = inner
            .filter_slots
            .acquire()
            .await
            .map_err(|_| PublishError::Unavailable)?;
        let per_filter = inner.config.filter_budget;
        let (req, selection) = tokio::task::spawn_blocking(move || {
            let s = filters::select_bounded(&req, &plan, per_filter);
            (req, s)
        })
        .await
        .map_err(|e| PublishError::Store(format!("evaluating filters failed: {e}")))?;
        for id in &selection.exhausted {
            tracing::warn!(
                instance = %req.instance.as_str(),
                subscription = %id,
                event_type = %req.event_type,
                budget = per_filter,
                "subscription filter exhausted its evaluation budget; the event does not reach it"
            );
        }
        Ok((req, selection.matched))
    }
}
